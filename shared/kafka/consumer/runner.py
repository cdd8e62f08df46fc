"""The poll loop: fetch, hand each partition's messages to the handling chain in order, commit.

Consecutive messages of a partition share one transaction, up to `chunk_size` of them (what a
batch of a hundred thousand lines needs). If anything in a shared transaction fails, it is
rolled back whole and its messages run again one transaction each through the chain
(counted, traced, retried), so one bad message never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.backoff import Backoff
from shared.kafka.closing import close_consumer, never_leave
from shared.kafka.consumer.config import ConsumerIO, ConsumerSettings, Subscription
from shared.kafka.consumer.dead_letters import DeadLetters
from shared.kafka.consumer.decoding import decode
from shared.kafka.consumer.fetch_wait import FetchWait
from shared.kafka.consumer.messages import Middleware, Skip, Step, Work, chain
from shared.kafka.consumer.positions import STEP_S, PositionWatch, highwater, position
from shared.kafka.consumer.retries import retrying
from shared.kafka.consumer.tracing import chunk_span, process_span, traced
from shared.kafka.consumer.transactions import Transactions
from shared.kafka.topics import published_on
from shared.supervisor import Health
from shared.telemetry.metrics import CONSUMED, CONSUMER_LAG, CONSUMER_RETRIES

log = logging.getLogger(__name__)

# A join slower than this is given up and tried again with a fresh consumer (see `_join`).
JOIN_LIMIT_S = 300.0


def _joined(consumer: AIOKafkaConsumer) -> bool:
    """The group gave this consumer its share, even an empty one."""
    subscription = consumer._subscription.subscription
    return subscription is not None and subscription.assignment is not None


async def join(
    start: Awaitable[None],
    health: Health,
    group_id: str,
    step_s: float = STEP_S,
    limit_s: float = JOIN_LIMIT_S,
) -> None:
    """Joining waits for the group's rebalance, which on a busy broker can outlast a step:
    cancelling it leaves a half-joined member behind and starts another rebalance, and under
    load a consumer that gave up every 30 s never joined at all. Past a step the task is
    reported failing (readiness turns red in time); only past `limit_s` is it given up."""
    joining = asyncio.ensure_future(start)
    try:
        done, _ = await asyncio.wait({joining}, timeout=step_s)
        if not done:
            log.warning(
                "consumer still joining its group after %.0f s", step_s, extra={"group": group_id}
            )
            health.failing(TimeoutError("joining its group"))
            done, _ = await asyncio.wait({joining}, timeout=max(0.0, limit_s - step_s))
        if not done:
            raise TimeoutError("joining its group")
        joining.result()
    finally:
        if not joining.done():
            joining.cancel()


def counted(group_id: str) -> Middleware:
    def middleware(step: Step) -> Step:
        async def run(work: Work) -> str:
            outcome = await step(work)
            CONSUMED.labels(group_id, work.record.topic, outcome).inc()
            return outcome

        return run

    return middleware


class ConsumerRunner:
    def __init__(
        self,
        subscription: Subscription,
        io: ConsumerIO,
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.subscription, self.io = subscription, io
        self.settings = settings or ConsumerSettings()
        self.group_id, self.topics = subscription.group_id, subscription.topics
        self._handlers = dict(subscription.handlers)
        # Types deliberately not handled: by default every other type known to be published on
        # these topics. Anything else (a typo, a type from a newer producer) is dead-lettered.
        ignores = subscription.ignores
        self._ignores = (
            ignores if ignores is not None else published_on(self.topics) - set(self._handlers)
        )
        self.health = Health("jinhui", self.group_id)
        self._dead_letters = DeadLetters(io.dlq_producer, self.group_id, subscription.dlq_seal)
        self._transactions = Transactions(
            self.group_id, io.sessions, io.tables, io.store_factory, io.after_commit
        )
        self._one: Step = chain(
            self._transactions.once,
            counted(self.group_id),
            traced(self.group_id),
            retrying(self.group_id, self._dead_letters, self.health, self.settings.max_attempts),
        )
        self._positions = PositionWatch(self.group_id)
        self.assigned = asyncio.Event()
        # Set once this replica has read, on every partition it was given, up to the end the
        # broker showed when it was given them: until then the service is not ready (what
        # happened before it started is still on its way in).
        self.caught_up = asyncio.Event()
        self._start_ends: dict[TopicPartition, int] | None = None
        # The partitions this replica reads now: replicas of a service share a topic's
        # partitions, each partition read by one of them.
        self.assignment: frozenset[TopicPartition] = frozenset()
        self._failed_commits = 0
        self._restart = asyncio.Event()
        self._closing = False
        self._rewind_due = self._positions_due = False
        self._step = ""  # named in the warning when a step outlasts its deadline
        self.fetch_wait_ms = self.settings.fetch_max_wait_ms  # what its fetches ask for now

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.io.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            max_poll_interval_ms=300_000,
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            **dict(self.io.connection),
        )

    async def run(self) -> None:
        """Consume until cancelled; a broker error restarts the consumer after a back-off."""
        backoff = Backoff(initial_s=0.2)
        while not self._closing:
            consumer = self._consumer()
            self._step = "joining its group"
            try:
                await join(consumer.start(), self.health, self.group_id)
                never_leave(consumer)
                await self._consume(consumer, backoff)
            except (KafkaError, TimeoutError) as exc:
                if isinstance(exc, TimeoutError):
                    log.warning(
                        "consumer step timed out: %s",
                        self._step,
                        extra={"group": self.group_id, "step": self._step},
                    )
                self.health.failing(exc)
                await asyncio.sleep(backoff.next_delay())
            finally:
                # Closing asks the broker; neither an outage nor shutdown may hang on it.
                await close_consumer(consumer)
        # Reached only when a cancellation went astray: a cancelled runner raises above.
        log.warning(
            "consumer ended by its service's stop, not by cancellation",
            extra={"group": self.group_id},
        )

    async def _consume(self, consumer: AIOKafkaConsumer, backoff: Backoff) -> None:
        """Until a rewind asks for a fresh consumer (one that reads the broker's metadata, and
        its partitions, anew)."""
        wait = FetchWait(self.settings.fetch_max_wait_ms, self.settings.idle_fetch_max_wait_ms)
        while not self._restart.is_set():
            self._step = "reading"
            batches = await consumer.getmany(timeout_ms=500, max_records=self.settings.max_records)
            wait.after_poll(bool(batches), time.monotonic())
            wait.apply(consumer)
            self.fetch_wait_ms = wait.current_ms
            assigned = consumer.assignment()
            self.assignment = frozenset(assigned)
            if not assigned:
                if _joined(consumer):
                    # more replicas than partitions, or a topic not there yet: the group
                    # answered, so the consumer is well, with nothing to read here for now
                    self.caught_up.set()
                    self.health.ok()
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
            self._step = "comparing positions with the ends of the logs"
            stale = await self._positions.past_the_end(consumer, assigned)
            if self._positions.answered:
                self._positions.answered = False
                self.health.ok()
            if not self.caught_up.is_set():
                await self._check_caught_up(consumer, assigned)
            if stale:
                await consumer.seek_to_beginning(*stale)
                self._positions_due = True
            if self._positions.stalled(consumer, assigned, batches):
                self._restart.set()
            backoff.reset()
        self._restart.clear()

    async def _check_caught_up(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        self._step = "asking where the topics ended at start"
        if self._start_ends is None:
            ends = await asyncio.wait_for(consumer.end_offsets(list(assigned)), STEP_S)
            self._start_ends = dict(ends)
        for tp, end in self._start_ends.items():
            if tp in consumer.assignment() and await position(consumer, tp) < end:
                return
        self.caught_up.set()
        log.info("caught up with the topics", extra={"group": self.group_id})

    def close(self) -> None:
        """The service is stopping: end `run` at its next step even if a cancellation went
        astray (Python 3.11's `wait_for` can lose one). A runner that outlived its service
        once started a new consumer that joined the group as a second member, took half the
        partitions and read none of them: half the members stayed unknown to the restarted
        service for minutes."""
        self._closing = True
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
            await consumer.commit({tp: await position(consumer, tp) for tp in assigned})
        except KafkaError:
            return  # due again at the next poll
        self._positions_due = False

    async def _process_batches(
        self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        """Partitions run side by side; within a partition messages run strictly in order."""
        size = self.settings.chunk_size

        async def one_partition(records: list[ConsumerRecord]) -> None:
            for start in range(0, len(records), size):
                await self.process_chunk(records[start : start + size])

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
            end = highwater(consumer, tp)
            if end is not None:
                CONSUMER_LAG.labels(self.group_id, tp.topic, tp.partition).set(
                    max(0, end - records[-1].offset - 1)
                )

    async def process_chunk(self, records: list[ConsumerRecord]) -> None:
        """Consecutive messages of one partition, in one transaction when that succeeds."""
        work: list[Work] = []
        for record in records:
            decoded = decode(record, self._handlers, self._ignores)
            if isinstance(decoded, Skip):
                await self._skip(decoded)
            else:
                work.append(decoded)
        if len(work) > 1 and await self._together(work):
            return
        for w in work:
            await self._one(w)

    async def _together(self, work: list[Work]) -> bool:
        """False when the shared transaction failed (rolled back whole)."""
        try:
            with chunk_span(self.group_id, work):
                outcomes = await self._transactions.together(
                    work,
                    self.subscription.bulk_handlers,
                    lambda w: process_span(self.group_id, w),
                )
        except Exception as exc:
            CONSUMER_RETRIES.labels(self.group_id, f"shared:{type(exc).__name__}").inc()
            log.info(
                "a shared transaction failed; its messages run one by one",
                extra={"group": self.group_id, "error": type(exc).__name__},
            )
            return False
        for w, outcome in zip(work, outcomes, strict=True):
            CONSUMED.labels(self.group_id, w.record.topic, outcome).inc()
        return True

    async def _skip(self, skip: Skip) -> None:
        if skip.reason is None:
            CONSUMED.labels(self.group_id, skip.record.topic, "ignored").inc()
            return
        await self._dead_letters.send(skip.record, skip.reason, skip.detail)
        CONSUMED.labels(self.group_id, skip.record.topic, "dead_lettered").inc()
