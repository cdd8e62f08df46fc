"""The outbox relay: publishes committed outbox rows to Kafka, at least once, in order per key.

Rows are picked by their `published_at IS NULL` flag, never by a position high-water mark, so a
row whose transaction commits after a later-numbered one is still published. One replica at a
time relays (a transaction-scoped advisory lock per batch), so several replicas keep per-key
order. A crash between sending and marking re-sends the batch: consumers are idempotent by
event id.

Rows sent before and marked to go again (after a broker came back empty, for a consumer that
was away, for a request nobody answered) wait in a lane of their own: new work goes first,
except a new row whose topic and key still have a re-send waiting, which keeps its key's order
behind it. A fifth of each batch is kept for re-sends, so they also move under a flood of new
work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import Select, exists, func, literal, or_, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Update

from shared.backoff import Backoff
from shared.db.sql import rows_affected
from shared.eventstore.tables import EventStoreTables
from shared.outages import is_outage
from shared.supervisor import Health
from shared.telemetry.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OUTBOX_RESENT,
)

log = logging.getLogger(__name__)
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))")
tracer = trace.get_tracer("jinhui.outbox")


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        tables: EventStoreTables,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        linger_s: float = 0.002,
        backlog_every_s: float = 5.0,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._t = tables
        self._producer = producer
        self._batch_size = batch_size
        self._new_lane = batch_size - batch_size // 5  # the rest of a batch is for re-sends
        self._poll_interval_s = poll_interval_s
        self._linger_s = linger_s
        self._backlog_every_s = backlog_every_s
        self._backlog_observed_at = float("-inf")
        self._wake = asyncio.Event()
        self.health = Health(service, f"{service}-relay")

    def wake(self) -> None:
        """Publish sooner than the next poll: called after a local commit that wrote the outbox."""
        self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled. An outage (database or broker down, starting, stopping or
        full) is waited out here and reported as failing; anything else is raised for the
        supervisor, which restarts the relay."""
        backoff = Backoff()
        while True:
            try:
                sent = await self.publish_once()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self.health.failing(exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            backoff.reset()
            self.health.ok()
            if sent < self._new_lane:  # both lanes came back short: nothing is waiting
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        """Until a local commit wakes it (then a few milliseconds more, so that the commits of
        a busy moment go out in one batch) or the poll interval passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
            await asyncio.sleep(self._linger_s)
        self._wake.clear()

    async def republish(
        self, window_s: float, read_through: Mapping[str, datetime] | None = None
    ) -> int:
        """Publish again, in order and under their original ids, the rows published in the last
        `window_s` seconds that a reader may not have read: after the broker lost them. Rows of
        a topic published before its `read_through` time had been read by every reader and stay
        as they are. Consumers de-duplicate on the id, so a row that had in fact been consumed
        has no second effect."""
        outbox = self._t.outbox.c
        query = update(self._t.outbox).where(
            outbox.published_at > func.now() - func.make_interval(0, 0, 0, 0, 0, 0, window_s)
        )
        for topic, through in (read_through or {}).items():
            query = query.where(or_(outbox.topic != topic, outbox.published_at > through))
        async with self._sessions() as session, session.begin():
            count = await mark_resend(session, self._service, query)
        OUTBOX_RESENT.labels(self._service).inc(count)
        log.warning(
            "re-sending what the broker may have lost",
            extra={
                "rows": count,
                "read_by_all_until": {t: at.isoformat() for t, at in (read_through or {}).items()},
            },
        )
        self.wake()
        return int(count)

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows it published (0 if another replica holds it)."""
        async with self._sessions() as session, session.begin():
            with suppress_instrumentation():  # the poll itself is no one's trace
                leader = await session.scalar(_TRY_LOCK, {"name": relay_lock(self._service)})
                if not leader:
                    return 0
                rows = self._new_first((await session.execute(self._next_batch)).mappings().all())
            if not rows:
                OUTBOX_BACKLOG.labels(self._service).set(0)
                OUTBOX_OLDEST_AGE.labels(self._service).set(0)
                return 0
            with _publishing(rows) as carrier:  # marking them sent is part of its trace
                futures = [await self._send(row, carrier) for row in rows]
                await asyncio.gather(*futures)
                await session.execute(
                    update(self._t.outbox)
                    .where(self._t.outbox.c.id.in_([row["id"] for row in rows]))
                    # when the broker had them all, not when the transaction began: what a
                    # reader has read is judged against this time (`shared.kafka.read_through`)
                    .values(published_at=func.clock_timestamp(), resend=False)
                )
            if len(rows) >= self._new_lane and self._backlog_due():
                await self._observe_backlog(session)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    @cached_property
    def _next_batch(self) -> Select[Any]:
        """New rows and re-sent rows, each lane by its own index, in one round trip; more
        re-sent rows than the batch will hold, so that what the new lane leaves goes to them.
        Built once: a statement built for every poll had SQLAlchemy derive its subqueries'
        columns again each time (a millisecond of CPU a poll, 20 polls a second when idle)."""
        outbox = self._t.outbox
        waiting = aliased(outbox)
        new = (
            select(outbox, literal(0).label("lane"))
            .where(outbox.c.published_at.is_(None), ~outbox.c.resend)
            .where(
                ~exists(
                    select(literal(1))
                    .where(waiting.c.published_at.is_(None), waiting.c.resend)
                    .where(waiting.c.topic == outbox.c.topic, waiting.c.key == outbox.c.key)
                    # OFFSET 0 keeps it a probe per row taken (one index lookup, and the scan
                    # stops at the batch's end); as a join it would hash every re-send waiting
                    .offset(0)
                )
            )
            .order_by(outbox.c.id)
            .limit(self._new_lane)
        )
        resent = (
            select(outbox, literal(1).label("lane"))
            .where(outbox.c.published_at.is_(None), outbox.c.resend)
            .order_by(outbox.c.id)
            .limit(self._batch_size)
        )
        both = union_all(new.subquery().select(), resent.subquery().select()).subquery()
        return select(both)

    def _new_first(self, rows: Sequence[Any]) -> Sequence[Any]:
        """The lanes never share a key, so only each lane's own order matters."""
        return sorted(rows, key=lambda row: (row["lane"], row["id"]))[: self._batch_size]

    async def _send(self, row: Any, carrier: dict[str, str] | None) -> asyncio.Future[Any]:
        """`carrier`: the relay span's trace context, when the batch continues one trace;
        otherwise each message carries the trace of the transaction that wrote it."""
        trace_headers = carrier if carrier is not None else (row["trace_context"] or {})
        headers = {**row["headers"], **trace_headers}
        return await self._producer.send(
            row["topic"],
            key=row["key"].encode() if row["key"] is not None else None,
            value=orjson.dumps(row["payload"]),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    def _backlog_due(self) -> bool:
        """Counting the unpublished rows reads all of them: behind a batch of a million lines
        that is a quarter of a second, so it is counted every few seconds, not every batch."""
        now = time.monotonic()
        if now - self._backlog_observed_at < self._backlog_every_s:
            return False
        self._backlog_observed_at = now
        return True

    async def _observe_backlog(self, session: AsyncSession) -> None:
        outbox = self._t.outbox.c
        lanes = [
            select(func.count().label("n"), func.min(outbox.created_at).label("oldest")).where(
                outbox.published_at.is_(None), lane
            )
            for lane in (~outbox.resend, outbox.resend)  # each by its own index (`IS TRUE`
            # would not match the indexes' predicates)
        ]
        both = union_all(*lanes).subquery()
        count, oldest = (
            await session.execute(
                select(
                    func.sum(both.c.n), func.extract("epoch", func.now() - func.min(both.c.oldest))
                )
            )
        ).one()
        OUTBOX_BACKLOG.labels(self._service).set(count)
        OUTBOX_OLDEST_AGE.labels(self._service).set(float(oldest or 0))


async def mark_for_republishing(
    service: str,
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    since: timedelta,
    topic: str | None = None,
) -> int:
    """Rows published within `since` (of one topic, or all) go out again, in order, under their
    original ids: for a consumer that was away longer than the topic kept them (payroll after a
    long outage). Consumers de-duplicate on the id, so those that had them lose nothing."""
    outbox = tables.outbox.c
    query = update(tables.outbox).where(outbox.published_at > func.now() - since)
    if topic is not None:
        query = query.where(outbox.topic == topic)
    async with sessions() as session, session.begin():
        return await mark_resend(session, service, query)


async def mark_resend(session: AsyncSession, service: str, query: Update) -> int:
    """Put the rows `query` picks in the re-send lane. It waits for the relay's batch in
    flight, so no new row of a key can pass that key's re-send on its way out."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
        {"name": relay_lock(service)},
    )
    result = await session.execute(query.values(published_at=None, resend=True))
    return rows_affected(result)


def relay_lock(service: str) -> str:
    return f"outbox-relay:{service}"


_MAX_LINKS = 128


@contextlib.contextmanager
def _publishing(rows: Sequence[Any]) -> Iterator[dict[str, str] | None]:
    """One span for the batch, not one a message (a batch of a hundred thousand lines would
    spend a fifth of its time on spans). Rows of one trace (one request's transaction) publish
    as a child of it and carry the relay span on; rows of many traces publish under a span
    linked to each, as OpenTelemetry's messaging conventions have it, and each message keeps
    its own trace."""
    contexts = [propagate.extract(row["trace_context"] or {}) for row in rows]
    spans = [trace.get_current_span(c).get_span_context() for c in contexts]
    one_trace = all(s.is_valid for s in spans) and len({s.trace_id for s in spans}) == 1
    topics = sorted({row["topic"] for row in rows})
    with tracer.start_as_current_span(
        f"outbox relay {', '.join(topics)}",
        context=contexts[0] if one_trace else Context(),
        kind=trace.SpanKind.PRODUCER,
        links=[] if one_trace else [trace.Link(s) for s in spans if s.is_valid][:_MAX_LINKS],
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": ", ".join(topics),
            "messaging.batch.message_count": len(rows),
        },
    ):
        if not one_trace:
            yield None
            return
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield carrier
