"""The consumer runner on the real broker and real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select

from shared.envelope import Envelope
from shared.eventstore.store import EventStore
from shared.kafka.closing import close_consumer
from shared.kafka.consumer import (
    BulkHandler,
    ConsumerIO,
    ConsumerRunner,
    ConsumerSettings,
    HandlerContext,
    InboundMessage,
    Rejected,
    Subscription,
)
from shared.kafka.producer import make_producer
from shared.kafka.topics import dlq
from shared.tasks import stop
from tests.integration.conftest import CONSUMER_TOPIC, Infra, Job, effects
from tests.support import eventually, header, read_topic


async def handle_job(ctx: HandlerContext, message: InboundMessage) -> None:
    assert isinstance(message.event, Job)
    value = message.event.value
    if value.startswith("reject"):
        raise Rejected("this job can never be done")
    if value.startswith("bug"):
        raise RuntimeError("a handler bug with secret 110101199003071234 in its message")
    await ctx.session.execute(insert(effects).values(message_id=message.envelope.id, value=value))


@asynccontextmanager
async def running_consumer(
    infra: Infra,
    group: str,
    bulk: BulkHandler | None = None,
    seal: Callable[[bytes], bytes] | None = None,
) -> AsyncIterator[ConsumerRunner]:
    producer = make_producer(infra.bootstrap_servers, "dlq")
    await producer.start()
    runner = ConsumerRunner(
        Subscription(
            group_id=group,
            topics=[CONSUMER_TOPIC],
            handlers={Job.event_type: handle_job},
            bulk_handlers={Job.event_type: bulk} if bulk else {},
            dlq_seal=seal,
        ),
        ConsumerIO(
            sessions=infra.sessions,
            tables=infra.tables,
            store_factory=lambda s: EventStore(s, infra.tables, source="/test", clock=infra.clock),
            bootstrap_servers=infra.bootstrap_servers,
            dlq_producer=producer,
        ),
        ConsumerSettings(session_timeout_ms=6000, max_attempts=2),
    )
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        assert await stop(task, 60), "the consumer did not stop"
        await producer.stop()


@asynccontextmanager
async def producer_for(infra: Infra) -> AsyncIterator:  # type: ignore[type-arg]
    producer = make_producer(infra.bootstrap_servers, "test")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def _now() -> datetime:
    return datetime.now(UTC)


def job(value: str, key: str = "k") -> Envelope:
    return Envelope.wrap(Job(value=value), source="/test", time=_now(), partition_key=key)


async def send(producer, envelope: Envelope) -> None:  # type: ignore[no-untyped-def]
    key, value, headers = envelope.to_kafka()
    await (await producer.send(CONSUMER_TOPIC, key=key, value=value, headers=headers))


async def effect_count(infra: Infra, message_id: str) -> int:
    async with infra.sessions() as session:
        return int(
            await session.scalar(select(func.count()).where(effects.c.message_id == message_id))
        )


async def test_same_message_three_times_has_one_effect(infra: Infra) -> None:
    envelope = job(f"once-{uuid.uuid4()}")
    marker = job(f"marker-{uuid.uuid4()}")
    async with producer_for(infra) as producer:
        for _ in range(3):
            await send(producer, envelope)
        await send(producer, marker)
    async with running_consumer(infra, f"g-{uuid.uuid4()}"):
        await eventually(lambda: effect_count(infra, marker.id))
        await asyncio.sleep(0.3)
    assert await effect_count(infra, envelope.id) == 1


async def test_an_idle_consumer_asks_the_broker_less_often_and_still_reads_at_once(
    infra: Infra,
) -> None:
    """After a quiet second its fetches wait 100 ms instead of 20, and a message then still
    gets through (that the first records bring back 20 ms: tests/unit/test_fetch_wait.py)."""
    async with running_consumer(infra, f"g-{uuid.uuid4()}") as runner:
        settings = runner.settings
        assert settings.idle_fetch_max_wait_ms > settings.fetch_max_wait_ms

        async def waiting(ms: int) -> bool:
            return runner.fetch_wait_ms == ms

        await eventually(lambda: waiting(settings.idle_fetch_max_wait_ms))
        envelope = job(f"after-quiet-{uuid.uuid4()}")
        async with producer_for(infra) as producer:
            await send(producer, envelope)
        await eventually(lambda: effect_count(infra, envelope.id))


async def test_poison_messages_go_to_the_dlq_and_the_consumer_goes_on(infra: Infra) -> None:
    tag = uuid.uuid4().hex
    good = job(f"good-{tag}")
    invalid = Envelope(type=Job.event_type, source="/test", data={"wrong": 1}, time=_now())
    rejected = job(f"reject-{tag}")
    buggy = job(f"bug-{tag}")
    async with producer_for(infra) as producer:
        await (
            await producer.send(
                CONSUMER_TOPIC, key=b"k", value=b"\xff not json", headers=[("x-tag", tag.encode())]
            )
        )
        for envelope in (invalid, rejected, buggy, good):
            await send(producer, envelope)
    async with running_consumer(infra, f"g-{uuid.uuid4()}"):
        await eventually(lambda: effect_count(infra, good.id), timeout_s=120)

    def ours(records) -> bool:  # type: ignore[no-untyped-def]
        return len(mine(records)) >= 4

    def mine(records):  # type: ignore[no-untyped-def]
        ids = {invalid.id, rejected.id, buggy.id}
        return [r for r in records if header(r, "ce_id") in ids or header(r, "x-tag") == tag]

    dead = mine(await read_topic(infra.bootstrap_servers, dlq(CONSUMER_TOPIC), until=ours))
    reasons = {header(r, "ce_id") or "garbage": header(r, "dlq_reason") for r in dead}
    assert reasons == {
        "garbage": "undecodable",
        invalid.id: "invalid",
        rejected.id: "rejected",
        buggy.id: "handler-failed",
    }
    for record in dead:
        assert header(record, "dlq_source_topic") == CONSUMER_TOPIC
        assert header(record, "dlq_source_offset") is not None
        assert "110101199003071234" not in (header(record, "dlq_detail") or "")
    invalid_detail = next(header(r, "dlq_detail") for r in dead if header(r, "ce_id") == invalid.id)
    assert "value" in (invalid_detail or "")


async def test_a_message_too_large_to_dead_letter_whole_goes_as_a_reference(
    infra: Infra,
) -> None:
    """A 600 kB poison message, sealed for the dead-letter topic, would pass the broker's 1 MiB:
    it is dead-lettered as where it lies and its digest, and the consumer goes on with the
    messages behind it (it once retried the send forever and applied nothing more)."""
    tag = uuid.uuid4().hex
    # Well under a fetch's 1 MiB, so that only the sealed copy is too large: a record near the
    # limit beside others in one fetch is a different problem, of fetch sizes.
    poison = b"\xff" + tag.encode() + b"x" * 600_000
    good = job(f"good-{tag}")
    async with producer_for(infra) as producer:
        await (await producer.send(CONSUMER_TOPIC, key=b"k", value=poison))
        await send(producer, good)
    async with running_consumer(infra, f"g-{uuid.uuid4()}", seal=lambda v: v + v):
        await eventually(lambda: effect_count(infra, good.id))
    digest = hashlib.sha256(poison).hexdigest()

    def found(records) -> bool:  # type: ignore[no-untyped-def]
        return any(header(r, "dlq_value_sha256") == digest for r in records)

    dead = await read_topic(infra.bootstrap_servers, dlq(CONSUMER_TOPIC), until=found)
    letter = next(r for r in dead if header(r, "dlq_value_sha256") == digest)
    assert header(letter, "dlq_value") == "reference"
    assert header(letter, "dlq_reason") == "undecodable"
    reference = json.loads(letter.value)
    assert (reference["topic"], reference["value_bytes"]) == (CONSUMER_TOPIC, len(poison))
    assert reference["offset"] == int(header(letter, "dlq_source_offset") or -1)


async def test_a_run_of_messages_shares_one_transaction_and_one_bad_message_spoils_none(
    infra: Infra,
) -> None:
    """Consecutive messages go to the bulk handler together; a duplicate inside the run has no
    second effect; a message the handler rejects sends the run back one message at a time, so
    the rest still land exactly once and only it is dead-lettered."""
    runs: list[int] = []

    async def handle_jobs(ctx: HandlerContext, messages: list[InboundMessage]) -> None:
        runs.append(len(messages))
        for message in messages:
            await handle_job(ctx, message)

    tag = uuid.uuid4().hex
    clean = [job(f"clean-{tag}-{n}") for n in range(10)]
    mixed = [job(f"mixed-{tag}-{n}") for n in range(10)]
    rejected = job(f"reject-{tag}")
    async with producer_for(infra) as producer:
        for envelope in [*clean[:5], clean[2], *clean[5:]]:
            await send(producer, envelope)
        for envelope in [*mixed[:5], rejected, *mixed[5:]]:
            await send(producer, envelope)
    group = f"g-{uuid.uuid4()}"
    async with running_consumer(infra, group, bulk=handle_jobs):
        await eventually(lambda: effect_count(infra, mixed[-1].id), timeout_s=120)
    assert max(runs) > 1
    fallbacks = REGISTRY.get_sample_value(
        "jinhui_consumer_retries_total", {"group": group, "error": "shared:Rejected"}
    )
    assert fallbacks is not None and fallbacks >= 1  # on-call sees chunks that ran one by one
    assert [await effect_count(infra, e.id) for e in clean + mixed] == [1] * 20
    assert await effect_count(infra, rejected.id) == 0
    dead = await read_topic(
        infra.bootstrap_servers,
        dlq(CONSUMER_TOPIC),
        until=lambda rs: any(header(r, "ce_id") == rejected.id for r in rs),
    )
    assert [header(r, "dlq_reason") for r in dead if header(r, "ce_id") == rejected.id] == [
        "rejected"
    ]


async def test_restart_loses_nothing_and_repeats_nothing(infra: Infra) -> None:
    group = f"g-{uuid.uuid4()}"
    first = [job(f"first-{i}-{uuid.uuid4()}", key=f"k{i}") for i in range(20)]
    second = [job(f"second-{i}-{uuid.uuid4()}", key=f"k{i}") for i in range(20)]
    async with producer_for(infra) as producer:
        for envelope in first:
            await send(producer, envelope)
        async with running_consumer(infra, group):
            await eventually(lambda: effect_count(infra, first[-1].id))
            for envelope in second[:10]:
                await send(producer, envelope)
        # the consumer is gone; messages keep arriving
        for envelope in second[10:]:
            await send(producer, envelope)
    async with running_consumer(infra, group):

        async def all_done() -> bool:
            counts = [await effect_count(infra, e.id) for e in first + second]
            return all(c >= 1 for c in counts)

        await eventually(all_done, timeout_s=120)
    for envelope in first + second:
        assert await effect_count(infra, envelope.id) == 1


async def test_a_closed_runner_ends_without_being_cancelled(infra: Infra) -> None:
    """A runner that lost its cancellation at shutdown once lived on beside the restarted
    service, joined its group as a second member and read none of the partitions it took."""
    marker = job(f"marker-{uuid.uuid4()}")
    async with producer_for(infra) as producer:
        await send(producer, marker)
    async with running_consumer(infra, f"g-{uuid.uuid4()}") as runner:
        await eventually(lambda: effect_count(infra, marker.id))
        task = next(
            t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "ConsumerRunner.run"
        )  # type: ignore[union-attr]
        runner.close()  # and no cancel: as if it had gone astray
        done, _ = await asyncio.wait({task}, timeout=60)
        assert done, "the runner went on after close()"


def _group_member(infra: Infra, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        CONSUMER_TOPIC,
        bootstrap_servers=infra.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )


async def test_a_consumer_whose_close_was_cut_short_lets_its_group_go_on(infra: Infra) -> None:
    """A close cut short (a busy machine, a broker slow to answer) once left the heartbeat
    running: the broker kept the silent leader in the group, and the service's next consumer
    waited for its partitions for 20 minutes."""
    group = f"g-{uuid.uuid4()}"
    first, second = _group_member(infra, group), _group_member(infra, group)
    await first.start()
    assert len(first.assignment()) == 4  # the group's leader, with every partition
    assert not await close_consumer(first, seconds=0)
    coordinator = first._coordinator
    left = {t for t in (coordinator._heartbeat_task, coordinator._coordination_task) if t}
    done, _ = await asyncio.wait(left, timeout=60)
    assert done == left, "a task of the closed consumer is still running"
    try:
        await asyncio.wait_for(second.start(), 180)
        # every partition: the first member is gone, not sharing them while reading none
        assert len(second.assignment()) == 4
    finally:
        await close_consumer(second)


async def test_a_close_cut_short_by_its_caller_never_leaves_the_group_late(
    infra: Infra,
) -> None:
    """A service stopping its workers cancels them: the close is then silenced at once, not
    left to finish alone, and a consumer already joining the group is given every partition
    once the first one's session has run out."""
    group = f"g-{uuid.uuid4()}"
    first, second = _group_member(infra, group), _group_member(infra, group)
    await first.start()
    joining = asyncio.ensure_future(second.start())

    async def second_is_a_member() -> bool:
        return bool(second._coordinator and second._coordinator.member_id)

    await eventually(second_is_a_member, timeout_s=120)
    closing = asyncio.ensure_future(close_consumer(first))
    await asyncio.sleep(0)  # the close has begun
    closing.cancel()  # as a stopping service does
    done, _ = await asyncio.wait({closing}, timeout=60)
    assert done
    try:
        await asyncio.wait_for(joining, 180)
        assert len(second.assignment()) == 4
    finally:
        await close_consumer(second)


async def test_a_leader_closed_while_a_member_joins_never_holds_the_group(infra: Infra) -> None:
    """A rolling restart: the new replica's consumer is joining, and the old one, still the
    group's leader, closes. On Tansu a leader that leaves a group in the middle of a rebalance
    stays its leader for good and nobody is given a partition again; a closing consumer goes
    silent instead, and the broker drops it after its session timeout."""
    group = f"g-{uuid.uuid4()}"
    first = AIOKafkaConsumer(
        CONSUMER_TOPIC,
        bootstrap_servers=infra.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,  # the leader hears of the rebalance late
    )
    second = _group_member(infra, group)
    earlier = _group_member(infra, group)  # a group with a past, as a service's always has
    await earlier.start()
    await close_consumer(earlier)
    await first.start()
    assert first._coordinator.generation > 0
    joining = asyncio.ensure_future(second.start())

    async def second_is_a_member() -> bool:
        return bool(second._coordinator and second._coordinator.member_id)

    await eventually(second_is_a_member, timeout_s=120, interval_s=0.01)
    assert await close_consumer(first)  # in its own time, not cut short
    try:
        await asyncio.wait_for(joining, 180)
        assert len(second.assignment()) == 4
    finally:
        await close_consumer(second)
