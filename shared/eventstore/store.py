"""Append-only event streams with optimistic concurrency, written with their outbox rows.

A stream's events are numbered 1, 2, 3…; appending with the version the writer last saw either
succeeds or raises ConcurrencyConflict (unique `(stream_id, version)`). Events that leave the
service get an outbox row in the same transaction, so a committed event is always published
and an aborted one never is.

Outbox rows of one partition key are written under a transaction-scoped advisory lock on that
key: two transactions writing the same key commit in the order of their outbox ids, which is
what lets the relay publish "in order per key" without a high-water mark that could skip a row
committed late.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from opentelemetry import propagate
from sqlalchemy import Table, Text, cast, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
from shared.envelope import Envelope
from shared.errors import ConcurrencyConflict
from shared.events import DomainEvent, load_event
from shared.eventstore.tables import EventStoreTables


@dataclass(frozen=True)
class StoredEvent:
    position: int
    event_id: uuid.UUID
    stream_id: str
    version: int
    event: DomainEvent
    metadata: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, expected to follow `expected_version`."""

    stream_id: str
    expected_version: int
    events: Sequence[DomainEvent]
    partition_key: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """What `append` wrote: enough to answer the caller without reloading."""

    event_id: uuid.UUID
    stream_id: str
    version: int
    event: DomainEvent


class Streams(Protocol):
    """What a repository needs of an event store: this module's `EventStore` on PostgreSQL, or
    `shared.eventstore.memory.InMemoryEventStore` for tests without a database."""

    async def append_many(self, appends: Sequence[StreamAppend]) -> list[RecordedEvent]: ...

    async def lock(self, stream_id: str) -> None: ...

    async def lock_many(self, stream_ids: Sequence[str]) -> None: ...

    async def load(self, stream_id: str, *, up_to: datetime | None = None) -> list[StoredEvent]: ...

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]: ...

    async def current_version(self, stream_id: str) -> int: ...

    async def read_all(
        self, *, after_position: int = 0, limit: int = 1000
    ) -> list[StoredEvent]: ...


class EventStore:
    def __init__(
        self, session: AsyncSession, tables: EventStoreTables, *, source: str, clock: Clock
    ) -> None:
        self._session = session
        self._t = tables
        self._source = source
        self._clock = clock

    @property
    def session(self) -> AsyncSession:
        """The transaction the store writes in (projections join it)."""
        return self._session

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        partition_key: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[RecordedEvent]:
        return await self.append_many(
            [StreamAppend(stream_id, expected_version, events, partition_key, metadata)]
        )

    async def append_many(self, appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
        """Several streams in one round trip per table: for bulk work such as a roster import.
        Each stream keeps its own version check."""
        now = self._clock.now()
        recorded: list[tuple[RecordedEvent, StreamAppend]] = [
            (RecordedEvent(uuid.uuid4(), a.stream_id, a.expected_version + i, event), a)
            for a in appends
            for i, event in enumerate(a.events, start=1)
        ]
        if not recorded:
            return []
        rows = [
            {
                "event_id": r.event_id,
                "stream_id": r.stream_id,
                "version": r.version,
                "event_type": r.event.event_type,
                "schema_version": r.event.schema_version,
                "data": r.event.to_data(),
                "metadata": a.metadata or {},
                "recorded_at": now,
            }
            for r, a in recorded
        ]
        try:
            await self._session.execute(insert(self._t.events), rows)
        except IntegrityError as exc:
            if "uq_events_stream_version" in str(exc.orig):
                streams = ", ".join(a.stream_id for a in appends[:3])
                raise ConcurrencyConflict(
                    f"stream {streams} is no longer at the version it was read at",
                    stream=appends[0].stream_id,
                ) from None
            raise
        await self._write_outbox(recorded, now)
        return [r for r, _ in recorded]

    async def _write_outbox(
        self, recorded: list[tuple[RecordedEvent, StreamAppend]], now: datetime
    ) -> None:
        published = [(r, a) for r, a in recorded if r.event.topic]
        if not published:
            return
        keys = sorted({a.partition_key for _, a in published if a.partition_key is not None})
        if keys:
            await self._session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                    "FROM unnest(CAST(:keys AS text[])) AS k"
                ),
                {"keys": keys},
            )
        trace_context: dict[str, str] = {}
        propagate.inject(trace_context)
        rows = []
        for r, a in published:
            envelope = Envelope.wrap(
                r.event,
                source=self._source,
                time=now,
                subject=r.stream_id,
                partition_key=a.partition_key,
                event_id=str(r.event_id),
            )
            rows.append(
                {
                    "event_id": r.event_id,
                    "topic": r.event.topic,
                    "key": a.partition_key,
                    "headers": envelope.attributes(),
                    "payload": envelope.data,
                    "trace_context": trace_context,
                }
            )
        await self._session.execute(insert(self._t.outbox), rows)

    async def lock(self, stream_id: str) -> None:
        """Queue behind other writers of a hot stream until this transaction ends.

        Optional: the version check alone keeps a stream consistent, but when hundreds of
        writers race for one stream, waiting in line is far cheaper than failing and reloading.
        """
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:stream, 1))"),
            {"stream": stream_id},
        )

    async def lock_many(self, stream_ids: Sequence[str]) -> None:
        """`lock` for several streams in one statement, in sorted order (two writers of the
        same streams queue instead of deadlocking)."""
        await self._session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(s, 1)) "
                "FROM unnest(CAST(:streams AS text[])) AS s"
            ),
            {"streams": sorted(set(stream_ids))},
        )

    async def load(self, stream_id: str, *, up_to: datetime | None = None) -> list[StoredEvent]:
        query = select(*_read_columns(self._t.events)).where(
            self._t.events.c.stream_id == stream_id
        )
        if up_to is not None:
            query = query.where(self._t.events.c.recorded_at <= up_to)
        result = await self._session.execute(query.order_by(self._t.events.c.version))
        return [stored_event(row) for row in result.mappings()]

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several streams in one query: {stream id: its events in version order}."""
        found: dict[str, list[StoredEvent]] = {s: [] for s in stream_ids}
        result = await self._session.execute(
            select(*_read_columns(self._t.events))
            .where(self._t.events.c.stream_id.in_(list(stream_ids)))
            .order_by(self._t.events.c.stream_id, self._t.events.c.version)
        )
        for row in result.mappings():
            found[row["stream_id"]].append(stored_event(row))
        return found

    async def current_version(self, stream_id: str) -> int:
        result = await self._session.execute(
            select(func.coalesce(func.max(self._t.events.c.version), 0)).where(
                self._t.events.c.stream_id == stream_id
            )
        )
        return int(result.scalar_one())

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events in position order: each stream's, and each partition key's, commit order.

        For rebuilds. Live readers follow the topics the outbox feeds instead of tailing this
        table, so no position high-water mark can skip a row that commits late.
        """
        result = await self._session.execute(
            select(*_read_columns(self._t.events))
            .where(self._t.events.c.position > after_position)
            .order_by(self._t.events.c.position)
            .limit(limit)
        )
        return [stored_event(row) for row in result.mappings()]


@functools.cache
def _read_columns(events: Table) -> tuple[Any, ...]:
    """Every column, the data as its JSON text (see `load_event`)."""
    return tuple(cast(c, Text).label(c.name) if c.name == "data" else c for c in events.columns)


def stored_event(row: Any) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        version=row["version"],
        event=load_event(row["event_type"], row["data"]),
        metadata=row["metadata"],
        recorded_at=row["recorded_at"],
    )
