"""The consumer runner: every Kafka consumer in Jinhui runs on this.

For each message: decode the CloudEvent, then — in one database transaction — record its id as
processed and let the handler make its change. Only after that transaction commits is the Kafka
offset committed. A redelivered message finds its id already recorded and has no second effect.

Consecutive messages of a partition share one transaction, up to `chunk_size` of them: their
ids are recorded in one statement and they commit together, which is what a batch of a hundred
thousand lines needs. A run of messages whose types share a bulk handler goes to it at once
(one lock and load for all their streams, one append); the chunk's span links every message's
producer trace. If anything in a shared transaction fails, it is rolled back whole and its
messages run again one transaction each, so one bad message never holds up the others.

A message that cannot be decoded, fails validation, or that the handler rejects goes to
`<topic>.dlq` with headers saying why and where it came from, and the consumer goes on. Broker
and database outages are retried with back-off for as long as they last: nothing is dropped and
the service does not crash. A handler bug is retried a few times, then dead-lettered with the
exception's type (never its message, which might carry personal data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry import propagate, trace
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db.errors import is_transient
from shared.db.sql import insert_on_conflict
from shared.envelope import Envelope, EnvelopeError
from shared.errors import ConcurrencyConflict
from shared.events import DomainEvent
from shared.eventstore.store import EventStore
from shared.eventstore.tables import EventStoreTables
from shared.kafka.topics import KEY_FIELDS, dlq, key_of, published_on
from shared.outages import is_outage
from shared.supervisor import Health
from shared.telemetry.metrics import CONSUMED, CONSUMER_LAG, CONSUMER_RETRIES, DEAD_LETTERED

log = logging.getLogger(__name__)
tracer = trace.get_tracer("jinhui.consumer")


@dataclass(frozen=True)
class InboundMessage:
    envelope: Envelope
    event: DomainEvent
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class HandlerContext:
    """What a handler works with: the open transaction and the service's event store in it."""

    session: AsyncSession
    events: EventStore


Handler = Callable[[HandlerContext, InboundMessage], Awaitable[None]]
# Several consecutive messages at once, in order: the same effect as the `Handler` of each
# message's type applied to each in turn, in fewer statements.
BulkHandler = Callable[[HandlerContext, list[InboundMessage]], Awaitable[None]]


class Rejected(Exception):
    """Raised by a handler for a message that can never succeed: it is dead-lettered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Work:
    record: ConsumerRecord
    handler: Handler
    message: InboundMessage


def _runs(work: list[_Work], bulk: Mapping[str, BulkHandler]) -> list[list[_Work]]:
    """Consecutive messages whose types share a bulk handler run together; any other message
    is a run of its own."""
    runs: list[list[_Work]] = []
    for w in work:
        handler = bulk.get(w.message.envelope.type)
        if runs and handler is not None and bulk.get(runs[-1][0].message.envelope.type) is handler:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def _text_headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in reversed(record.headers or ())}


@dataclass(frozen=True)
class Subscription:
    """A consumer group: which topics it reads and which event types it handles."""

    group_id: str
    topics: list[str]
    handlers: Mapping[str, Handler]
    # Optional: the same work for consecutive messages of one type at once (see BulkHandler).
    bulk_handlers: Mapping[str, BulkHandler] = field(default_factory=dict)
    # Types deliberately not handled; None: every other type known on these topics.
    ignores: frozenset[str] | None = None
    # Encrypts dead letters' values, for topics whose messages may hold personal data.
    dlq_seal: Callable[[bytes], bytes] | None = None


@dataclass(frozen=True)
class ConsumerIO:
    """What a runner works with: the service's database, event store and broker."""

    sessions: async_sessionmaker[AsyncSession]
    tables: EventStoreTables
    store_factory: Callable[[AsyncSession], EventStore]
    bootstrap_servers: str
    dlq_producer: AIOKafkaProducer
    connection: Mapping[str, Any] = field(default_factory=dict)  # TLS/SASL settings
    after_commit: Callable[[], None] = lambda: None  # e.g. wake the outbox relay


@dataclass(frozen=True)
class ConsumerSettings:
    """How a runner consumes: group timing, retries and how much goes into one transaction."""

    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    max_attempts: int = 5
    max_records: int = 200
    chunk_size: int = 50


class ConsumerRunner:
    def __init__(
        self,
        subscription: Subscription,
        io: ConsumerIO,
        settings: ConsumerSettings | None = None,
    ) -> None:
        sub, conf = subscription, settings or ConsumerSettings()
        group_id, topics, handlers = sub.group_id, sub.topics, sub.handlers
        bulk_handlers, ignores, dlq_seal = sub.bulk_handlers, sub.ignores, sub.dlq_seal
        sessions, tables, store_factory = io.sessions, io.tables, io.store_factory
        bootstrap_servers, dlq_producer = io.bootstrap_servers, io.dlq_producer
        connection, after_commit = dict(io.connection), io.after_commit
        session_timeout_ms, heartbeat_interval_ms = (
            conf.session_timeout_ms,
            conf.heartbeat_interval_ms,
        )
        max_attempts, max_records, chunk_size = conf.max_attempts, conf.max_records, conf.chunk_size
        self.group_id = group_id
        # Encrypts a dead letter's value where it may hold personal data (HR events carry ID
        # numbers): an operator opens it with `jinhui dlq open`.
        self._dlq_seal = dlq_seal
        self.topics = topics
        self._handlers = dict(handlers)
        # Types deliberately not handled: by default every other type known to be published on
        # these topics. Anything else (a typo, a type from a newer producer) is dead-lettered.
        self._ignores = (
            ignores if ignores is not None else published_on(topics) - set(self._handlers)
        )
        self._bulk_handlers = dict(bulk_handlers or {})
        self._sessions = sessions
        self._record_processed = insert_on_conflict(
            tables.processed_messages,
            ["consumer", "message_id", "topic", "partition", "offset"],
            ["consumer", "message_id"],
            returning="message_id",
        )
        self._record_many_processed = text(
            f'INSERT INTO "{tables.processed_messages.name}" '
            '(consumer, message_id, topic, "partition", "offset") '
            "SELECT :consumer, u.m, u.t, u.p, u.o FROM unnest(CAST(:ids AS text[]), "
            "CAST(:topics AS text[]), CAST(:partitions AS int[]), CAST(:offsets AS bigint[])) "
            "AS u(m, t, p, o) ON CONFLICT (consumer, message_id) DO NOTHING RETURNING message_id"
        )
        self._chunk_size = chunk_size
        self._after_commit = after_commit
        self._store_factory = store_factory
        self._bootstrap = bootstrap_servers
        self._dlq = dlq_producer
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_ms = heartbeat_interval_ms
        self._max_attempts = max_attempts
        self._max_records = max_records
        self.assigned = asyncio.Event()
        self._connection = connection
        self.health = Health("jinhui", group_id)
        self._failed_commits = 0
        self._restart = asyncio.Event()
        self._rewind_due = self._positions_due = False
        self._stalled_since: dict[TopicPartition, float] = {}
        self._group = {"group": group_id}
        self._ends_checked_at = 0.0
        self._past_end: set[TopicPartition] = set()  # past the end at the last check

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_ms,
            max_poll_interval_ms=300_000,
            **self._connection,
        )

    async def run(self) -> None:
        """Consume until cancelled; a broker error restarts the consumer after a back-off."""
        backoff = Backoff(initial_s=0.2)
        while True:
            consumer = self._consumer()
            try:
                await asyncio.wait_for(consumer.start(), _STEP_S)
                await self._consume(consumer, backoff)
            except (KafkaError, TimeoutError) as exc:
                self.health.failing(exc)
                await asyncio.sleep(backoff.next_delay())
            finally:
                # Leaving the group asks the broker; on shutdown it must not hang the process.
                with contextlib.suppress(TimeoutError, KafkaError):
                    await asyncio.wait_for(consumer.stop(), 5)

    async def _consume(self, consumer: AIOKafkaConsumer, backoff: Backoff) -> None:
        """Until a rewind asks for a fresh consumer (one that reads the broker's metadata, and
        its partitions, anew)."""
        while not self._restart.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_records)
            assigned = consumer.assignment()
            if not assigned:
                continue
            self.assigned.set()
            if self._rewind_due:
                await consumer.seek_to_beginning(*assigned)
                self._rewind_due, self._positions_due = False, True
                continue  # what was fetched came from positions that no longer mean anything
            if self._positions_due:
                await self._commit_positions(consumer, assigned)
            if batches:
                await self._process_batches(consumer, batches)
            await self._beyond_the_end(consumer, assigned)
            self._watch_for_stalls(consumer, assigned, batches)
            backoff.reset()
        self._restart.clear()

    async def _beyond_the_end(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        """A position past a partition's end can only come from a log that is gone (a broker
        that came back empty, an offset committed against the old one): waiting there would
        skip what arrives below it. Read that partition again from its beginning. The broker
        is asked for the ends (a fetch from past the end may never answer with one), every
        few seconds."""
        now = asyncio.get_running_loop().time()
        if now < self._ends_checked_at + _ENDS_EVERY_S:
            return
        self._ends_checked_at = now
        current = list(consumer.assignment() & assigned)
        ends = await asyncio.wait_for(consumer.end_offsets(current), _STEP_S) if current else {}
        past = {tp for tp, end in ends.items() if await _position(consumer, tp) > end}
        # Past the end twice in a row: a broker may report an end that lags a write it has
        # just served; a log that is gone stays gone.
        stale, self._past_end = list(past & self._past_end), past - self._past_end
        if stale:
            log.warning(
                "positions past the end of the log; reading again from the beginning",
                extra={"group": self.group_id, "partitions": len(stale)},
            )
            await consumer.seek_to_beginning(*stale)
            self._positions_due = True

    def _watch_for_stalls(
        self,
        consumer: AIOKafkaConsumer,
        assigned: set[TopicPartition],
        batches: dict[TopicPartition, list[ConsumerRecord]],
    ) -> None:
        """A partition known to hold more than its position that yields nothing for a long
        time has a fetcher that stopped (seen after a broker came back empty): a new consumer
        takes over from the committed offsets."""
        now = asyncio.get_running_loop().time()
        for tp in assigned:
            if tp not in batches and _lags(consumer, tp):
                self._stalled_since.setdefault(tp, now)
            else:
                self._stalled_since.pop(tp, None)
        if any(now - since > _STALL_S for since in self._stalled_since.values()):
            log.warning("fetching stalled; a new consumer takes over", extra=self._group)
            self._stalled_since.clear()
            self._restart.set()

    def rewind(self) -> None:
        """Read every partition again from its beginning, with a fresh consumer: the broker
        lost its data, so positions, partition counts and committed offsets from before point
        into logs that are gone. What was processed before is recognised by its id and has no
        second effect."""
        self._rewind_due = True
        self._restart.set()

    async def _commit_positions(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        """Offsets committed at stale positions would be read after the next rebalance and
        skip what the broker holds now: overwrite them with where this consumer stands."""
        try:
            await consumer.commit({tp: await _position(consumer, tp) for tp in assigned})
        except KafkaError:
            return  # due again at the next poll
        self._positions_due = False

    async def _process_batches(
        self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        """Partitions run side by side; within a partition messages run strictly in order."""

        async def one_partition(records: list[ConsumerRecord]) -> None:
            for start in range(0, len(records), self._chunk_size):
                await self.process_chunk(records[start : start + self._chunk_size])

        await asyncio.gather(*(one_partition(records) for records in batches.values()))
        offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
        try:
            await consumer.commit(offsets)
            self._failed_commits = 0
            self.health.ok()
        except KafkaError as exc:
            # A rebalance took the partitions: the next owner re-reads from the last commit,
            # and the processed-message records make that harmless. Commits that keep failing
            # (a broker that came back empty forgot the group) need a new consumer.
            self._failed_commits += 1
            log.warning(
                "offset commit failed", extra={"group": self.group_id, "error": type(exc).__name__}
            )
            if self._failed_commits >= 3:
                self._failed_commits = 0
                raise
        for tp, records in batches.items():
            end = _highwater(consumer, tp)
            if end is not None:
                CONSUMER_LAG.labels(self.group_id, tp.topic, tp.partition).set(
                    max(0, end - records[-1].offset - 1)
                )

    async def process_chunk(self, records: list[ConsumerRecord]) -> None:
        """Consecutive messages of one partition, in one transaction when that succeeds."""
        prepared = [await self._prepare(record) for record in records]
        work = [w for w in prepared if w is not None]
        if len(work) > 1:
            try:
                outcomes = await self._handle_together(work)
            except Exception as exc:
                CONSUMER_RETRIES.labels(self.group_id, f"shared:{type(exc).__name__}").inc()
                log.info(
                    "a shared transaction failed; its messages run one by one",
                    extra={"group": self.group_id, "error": type(exc).__name__},
                )
            else:
                for w, outcome in zip(work, outcomes, strict=True):
                    CONSUMED.labels(self.group_id, w.record.topic, outcome).inc()
                return
        for w in work:
            with self._span(w):
                await self._handle_with_retries(w)

    async def _prepare(self, record: ConsumerRecord) -> _Work | None:
        """Decode the message and find its handler; None when there is nothing to do (ignored
        or dead-lettered)."""
        headers = list(record.headers or ())
        try:
            envelope = Envelope.from_kafka(record.key, record.value, headers)
        except EnvelopeError as exc:
            await self._dead_letter(record, "undecodable", str(exc))
            return None
        handler = self._handlers.get(envelope.type)
        if handler is None:
            if envelope.type in self._ignores:  # a known type this consumer has no use for
                CONSUMED.labels(self.group_id, record.topic, "ignored").inc()
            else:
                await self._dead_letter(
                    record, "unknown-type", f"no consumer here knows the type {envelope.type!r}"
                )
            return None
        try:
            event = envelope.event()
        except EnvelopeError as exc:
            await self._dead_letter(record, "invalid", str(exc))
            return None
        expected = key_of(record.topic, event)
        if expected is not None and envelope.partition_key != expected:
            await self._dead_letter(
                record,
                "key-mismatch",
                f"the message key is not the event's {KEY_FIELDS[record.topic]}",
            )
            return None
        message = InboundMessage(envelope, event, record.topic, record.partition, record.offset)
        return _Work(record, handler, message)

    def _span(self, work: _Work) -> AbstractContextManager[trace.Span]:
        """The message's process span, a child of the producer's trace (W3C headers)."""
        parent = propagate.extract(_text_headers(work.record))
        return tracer.start_as_current_span(
            f"{self.group_id} process {work.message.envelope.type}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": work.record.topic,
                "messaging.kafka.partition": work.record.partition,
                "messaging.kafka.offset": work.record.offset,
                "messaging.message.id": work.message.envelope.id,
                "messaging.consumer.group.name": self.group_id,
            },
        )

    async def _handle_together(self, work: list[_Work]) -> list[str]:
        """Every message of `work` in one transaction: all commit or none does. A message
        recorded before (a redelivery), or twice in the chunk, has no second effect."""
        links = [
            trace.Link(
                trace.get_current_span(
                    propagate.extract(_text_headers(w.record))
                ).get_span_context()
            )
            for w in work
        ]
        with tracer.start_as_current_span(
            f"{self.group_id} process {len(work)} messages",
            kind=trace.SpanKind.CONSUMER,
            links=[link for link in links if link.context.is_valid],
            attributes={
                "messaging.system": "kafka",
                "messaging.batch.message_count": len(work),
                "messaging.consumer.group.name": self.group_id,
            },
        ):
            async with self._sessions() as session, session.begin():
                new = set(
                    await session.scalars(
                        self._record_many_processed,
                        {
                            "consumer": self.group_id,
                            "ids": [w.message.envelope.id for w in work],
                            "topics": [w.record.topic for w in work],
                            "partitions": [w.record.partition for w in work],
                            "offsets": [w.record.offset for w in work],
                        },
                    )
                )
                context = HandlerContext(session, self._store_factory(session))
                outcomes, fresh = [], []
                for w in work:
                    if w.message.envelope.id in new:
                        new.discard(w.message.envelope.id)
                        fresh.append(w)
                        outcomes.append("processed")
                    else:
                        outcomes.append("duplicate")
                for run in _runs(fresh, self._bulk_handlers):
                    bulk = self._bulk_handlers.get(run[0].message.envelope.type)
                    if bulk is not None and len(run) > 1:
                        await bulk(context, [w.message for w in run])
                        continue
                    for w in run:
                        with self._span(w):
                            await w.handler(context, w.message)
            self._after_commit()
        return outcomes

    async def _handle_with_retries(self, work: _Work) -> None:
        record, handler, message = work.record, work.handler, work.message
        backoff = Backoff(initial_s=0.05)
        failures = 0
        while True:
            try:
                outcome = await self._handle_once(handler, message)
                CONSUMED.labels(self.group_id, record.topic, outcome).inc()
                self.health.ok()
                return
            except Rejected as exc:
                await self._dead_letter(record, "rejected", exc.reason)
                return
            except ConcurrencyConflict:
                CONSUMER_RETRIES.labels(self.group_id, "concurrency").inc()
                await asyncio.sleep(backoff.next_delay())
            except Exception as exc:
                error = type(exc).__name__
                CONSUMER_RETRIES.labels(self.group_id, error).inc()
                if is_transient(exc):  # a deadlock or serialization victim: run it again
                    await asyncio.sleep(backoff.next_delay())
                    continue
                if is_outage(exc):  # not the message's fault: wait, never count it
                    self.health.failing(exc)
                    await asyncio.sleep(backoff.next_delay())
                    continue
                failures += 1
                log.exception(
                    "handler failed",
                    extra={"group": self.group_id, "event_type": message.envelope.type},
                )
                if failures >= self._max_attempts:
                    await self._dead_letter(
                        record, "handler-failed", f"{error} after {failures} attempts"
                    )
                    return
                await asyncio.sleep(backoff.next_delay())

    async def _handle_once(self, handler: Handler, message: InboundMessage) -> str:
        async with self._sessions() as session, session.begin():
            first_time = await session.scalar(
                self._record_processed,
                {
                    "consumer": self.group_id,
                    "message_id": message.envelope.id,
                    "topic": message.topic,
                    "partition": message.partition,
                    "offset": message.offset,
                },
            )
            if first_time is None:
                return "duplicate"
            await handler(HandlerContext(session, self._store_factory(session)), message)
        self._after_commit()
        return "processed"

    async def _dead_letter(self, record: ConsumerRecord, reason: str, detail: str) -> None:
        headers = [h for h in (record.headers or ()) if not h[0].startswith("dlq_")]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_detail", detail[:1000].encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self.group_id.encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        value = record.value
        if self._dlq_seal is not None and value is not None:
            value = self._dlq_seal(value)
            headers.append(("dlq_value", b"sealed"))
        backoff = Backoff()
        while True:
            try:
                await (
                    await self._dlq.send(
                        dlq(record.topic), key=record.key, value=value, headers=headers
                    )
                )
                break
            except KafkaError as exc:
                log.warning(
                    "dead-letter topic unreachable, retrying", extra={"error": type(exc).__name__}
                )
                await asyncio.sleep(backoff.next_delay())
        DEAD_LETTERED.labels(self.group_id, record.topic, reason).inc()
        CONSUMED.labels(self.group_id, record.topic, "dead_lettered").inc()
        log.warning(
            "message dead-lettered",
            extra={
                "group": self.group_id,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
                "detail": detail,
            },
        )


# A broker that answers but never settles a partition's position (seen after it came back
# empty) would hold the consumer forever: past this, the consumer is replaced.
_STEP_S = 30.0


async def _position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    return await asyncio.wait_for(consumer.position(tp), _STEP_S)


_STALL_S = 60.0
_ENDS_EVERY_S = 10.0


def _highwater(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """None for a partition a rebalance has just taken away."""
    return consumer.highwater(tp) if tp in consumer.assignment() else None


def _lags(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
    """Without waiting: a partition whose position or end is not known is not judged."""
    end, subscription = _highwater(consumer, tp), consumer._subscription.subscription
    if end is None or subscription is None or subscription.assignment is None:
        return False
    state = subscription.assignment.state_value(tp)
    return state is not None and state.has_valid_position and state.position < end
