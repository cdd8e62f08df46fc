"""PostgreSQL LISTEN/NOTIFY as a wake-up call: a transaction that changes something a caller
may be waiting for notifies a channel; each replica holds one listening connection and wakes
the waiters on the keys the notice names, who then read what changed. Missing a notice costs a
waiter only its fallback poll, so the listener is a speed-up, never the source of truth."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.backoff import Backoff
from shared.db.engine import asyncpg_dsn
from shared.supervisor import Health

log = logging.getLogger(__name__)
_PING_EVERY_S = 30.0
_PAYLOAD_BYTES = 7_000


async def notify(session: AsyncSession, channel: str, keys: Sequence[str]) -> None:
    """Wakes the waiters on `keys` when the session's transaction commits (never if it rolls
    back). Keys travel in the notice's payload, in pieces under PostgreSQL's 8,000 bytes."""
    piece: list[str] = []
    for key in keys:
        piece.append(key)
        if sum(len(k) + 1 for k in piece) > _PAYLOAD_BYTES:
            await _notify(session, channel, piece)
            piece = []
    if piece:
        await _notify(session, channel, piece)


async def _notify(session: AsyncSession, channel: str, keys: list[str]) -> None:
    await session.execute(
        text("SELECT pg_notify(:channel, :keys)"), {"channel": channel, "keys": " ".join(keys)}
    )


class Notices:
    def __init__(self, database_url: str, channel: str, service: str) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self.health = Health(service, f"{service}-notices")
        self.listens = 0  # connections it has listened on, reconnections included

    @contextlib.contextmanager
    def watching(self, key: str) -> Iterator[asyncio.Event]:
        """An event set when a notice names `key` (or the listener reconnects, when notices may
        have been missed). Watch before reading, so that a notice arriving while the read runs
        is not missed."""
        event = asyncio.Event()
        watchers = self._waiting.setdefault(key, set())
        watchers.add(event)
        try:
            yield event
        finally:
            watchers.discard(event)
            if not watchers:
                self._waiting.pop(key, None)

    @staticmethod
    async def wait(notice: asyncio.Event, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(notice.wait(), timeout_s)

    def _arrived(self, connection: object, pid: int, channel: str, payload: str) -> None:
        for key in payload.split():
            for event in self._waiting.get(key, ()):
                event.set()

    def _wake_all(self) -> None:
        for watchers in self._waiting.values():
            for event in watchers:
                event.set()

    async def run(self) -> None:
        """Listen until cancelled; a lost connection is opened again after a back-off."""
        backoff = Backoff()
        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
                try:
                    await self._listen(conn, backoff)
                finally:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
                log.warning("notice connection lost", extra={"channel": self._channel})
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                self.health.failing(exc)
                await asyncio.sleep(backoff.next_delay())

    async def _listen(self, conn: asyncpg.Connection, backoff: Backoff) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(self._channel, self._arrived)
        self.listens += 1
        self.health.ok()
        backoff.reset()
        self._wake_all()  # anything committed while not listening: read again
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), _PING_EVERY_S)
            if not lost.is_set():  # a connection that died silently fails this
                await conn.fetchval("SELECT 1", timeout=5)
