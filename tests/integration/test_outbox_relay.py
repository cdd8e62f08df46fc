"""The outbox relay on real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select, update

from shared.eventstore.relay import OutboxRelay, mark_resend
from shared.eventstore.store import EventStore
from shared.kafka.producer import make_producer
from shared.tasks import stop
from tests.integration.conftest import RELAY_TOPIC, Infra, Ping
from tests.support import has_ids, header, read_topic


@asynccontextmanager
async def relay(
    infra: Infra, batch_size: int = 500, poll_interval_s: float = 0.05
) -> AsyncIterator[OutboxRelay]:
    producer = make_producer(infra.bootstrap_servers, "relay-test")
    await producer.start()
    try:
        yield OutboxRelay(
            service="test",
            sessions=infra.sessions,
            tables=infra.tables,
            producer=producer,
            batch_size=batch_size,
            poll_interval_s=poll_interval_s,
        )
    finally:
        await producer.stop()


async def append(infra: Infra, session, key: str, n: int) -> str:  # type: ignore[no-untyped-def]
    store = EventStore(session, infra.tables, source="/test", clock=infra.clock)
    recorded = await store.append(
        f"ping-{uuid.uuid4()}", 0, [Ping(key=key, n=n)], partition_key=key
    )
    return str(recorded[0].event_id)


async def drain(r: OutboxRelay) -> None:
    while await r.publish_once():
        pass


async def unpublished(infra: Infra) -> int:
    async with infra.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(infra.tables.outbox.c.published_at.is_(None))
            )
        )


async def test_late_committing_transaction_is_not_skipped(infra: Infra) -> None:
    """A takes the lower outbox id but commits after B: both are published."""
    async with relay(infra) as r:
        a = infra.sessions()
        await a.begin()
        id_a = await append(infra, a, f"ka-{uuid.uuid4()}", 1)
        async with infra.sessions() as b, b.begin():
            id_b = await append(infra, b, f"kb-{uuid.uuid4()}", 2)
        await drain(r)
        await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(id_b))
        await a.commit()
        await a.close()
        await drain(r)
    await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(id_a, id_b))
    assert await unpublished(infra) == 0


async def test_same_key_commits_and_publishes_in_order(infra: Infra) -> None:
    """A second writer of the same key waits for the first: the topic shows them in order."""
    key = f"k-{uuid.uuid4()}"
    a = infra.sessions()
    await a.begin()
    id_1 = await append(infra, a, key, 1)

    async def second() -> str:
        async with infra.sessions() as b, b.begin():
            return await append(infra, b, key, 2)

    task = asyncio.create_task(second())
    await asyncio.sleep(0.3)
    assert not task.done(), "the second writer of a key must wait for the first to commit"
    await a.commit()
    await a.close()
    id_2 = await task
    async with relay(infra) as r:
        await drain(r)
    records = await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(id_1, id_2))
    ours = [header(r, "ce_id") for r in records if r.key == key.encode()]
    assert ours == [id_1, id_2]


async def test_crash_between_send_and_mark_republishes(infra: Infra) -> None:
    key = f"k-{uuid.uuid4()}"
    async with infra.sessions() as s, s.begin():
        ids = [await append(infra, s, key, n) for n in range(5)]

    async with relay(infra) as crashing:
        real_send = crashing._send
        sent = 0

        async def send_then_crash(row, carrier):  # type: ignore[no-untyped-def]
            nonlocal sent
            sent += 1
            if sent == 3:
                raise ConnectionError("relay process died")
            return await real_send(row, carrier)

        crashing._send = send_then_crash  # type: ignore[method-assign]
        with pytest.raises(ConnectionError):
            await crashing.publish_once()
    assert await unpublished(infra) >= 5

    async with relay(infra) as restarted:
        await drain(restarted)
    records = await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(*ids))
    ours = [header(r, "ce_id") for r in records if r.key == key.encode()]
    assert set(ours) == set(ids)
    first_seen = list(dict.fromkeys(ours))
    assert first_seen == ids  # per-key order holds, duplicates only repeat what came before
    assert await unpublished(infra) == 0


async def test_two_relay_replicas_keep_per_key_order(infra: Infra) -> None:
    key = f"k-{uuid.uuid4()}"
    ids: list[str] = []
    async with relay(infra) as r1, relay(infra) as r2:
        workers = [asyncio.create_task(r1.run()), asyncio.create_task(r2.run())]
        try:
            for n in range(40):
                async with infra.sessions() as s, s.begin():
                    ids.append(await append(infra, s, key, n))
            records = await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(*ids))
        finally:
            for w in workers:
                assert await stop(w, 60)
    ours = [header(r, "ce_id") for r in records if r.key == key.encode()]
    assert list(dict.fromkeys(ours)) == ids
    values = [json.loads(r.value)["n"] for r in records if r.key == key.encode()]
    assert values == sorted(values)


async def send_again(infra: Infra, ids: list[str]) -> int:
    """As a republish after an emptied broker marks them, limited to this test's rows."""
    outbox = infra.tables.outbox
    async with infra.sessions() as session, session.begin():
        return await mark_resend(session, "test", update(outbox).where(outbox.c.event_id.in_(ids)))


def sent_in_order(r: OutboxRelay) -> list[str]:
    """The event ids the relay hands the producer, in the order it hands them."""
    order: list[str] = []
    real_send = r._send

    async def send(row, carrier):  # type: ignore[no-untyped-def]
        order.append(str(row["event_id"]))
        return await real_send(row, carrier)

    r._send = send  # type: ignore[method-assign]
    return order


async def test_new_work_goes_ahead_of_re_sends_but_never_past_its_own_key(infra: Infra) -> None:
    """After an emptied broker: a new row of a key with nothing to re-send goes first; a new row
    of a key being re-sent waits behind that key's re-sends, so each key keeps its order."""
    a, b, c = (f"{name}-{uuid.uuid4()}" for name in "abc")
    async with infra.sessions() as s, s.begin():
        old = [await append(infra, s, a, 1), await append(infra, s, a, 2)]
        old.append(await append(infra, s, b, 1))
    async with relay(infra) as r:
        await drain(r)
    assert await send_again(infra, old) == 3
    async with infra.sessions() as s, s.begin():
        a_new = await append(infra, s, a, 3)
        c_new = await append(infra, s, c, 1)

    async with relay(infra, batch_size=1) as r:
        order = sent_in_order(r)
        await drain(r)
    ours = [i for i in order if i in {*old, a_new, c_new}]
    assert ours[0] == c_new, ours
    assert ours.index(old[0]) < ours.index(old[1]) < ours.index(a_new), ours
    records = await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(a_new, c_new))
    on_a = [header(record, "ce_id") for record in records if record.key == a.encode()]
    assert on_a == [old[0], old[1], old[0], old[1], a_new]
    assert await unpublished(infra) == 0


async def test_a_re_send_backlog_does_not_hold_new_work_back(infra: Infra) -> None:
    """A thousand rows to send again, then a new one: the next batch carries the new one and
    a fifth of the batch (at least) of the re-sends."""
    async with infra.sessions() as s, s.begin():
        old = [await append(infra, s, f"k{n % 50}-{uuid.uuid4()}", n) for n in range(1_000)]
    async with relay(infra) as r:
        await drain(r)
    assert await send_again(infra, old) == 1_000
    async with infra.sessions() as s, s.begin():
        new = await append(infra, s, f"new-{uuid.uuid4()}", 1)

    async with relay(infra, batch_size=100) as r:
        order = sent_in_order(r)
        assert await r.publish_once() == 100
    assert order[0] == new
    assert len([i for i in order if i in set(old)]) == 99
    assert await unpublished(infra) >= 900
    async with relay(infra) as r:
        await drain(r)
    assert await unpublished(infra) == 0


async def test_a_backlog_of_new_rows_goes_out_without_waiting_for_the_next_poll(
    infra: Infra,
) -> None:
    """A batch filled by the new lane alone (four fifths of the batch size) means more is
    waiting: the relay goes on at once, not after its poll interval (an hour here)."""
    async with infra.sessions() as s, s.begin():
        ids = [await append(infra, s, f"k{n % 20}-{uuid.uuid4()}", n) for n in range(1_000)]
    async with relay(infra, batch_size=100, poll_interval_s=3_600) as r:
        task = asyncio.create_task(r.run())
        try:
            await read_topic(infra.bootstrap_servers, RELAY_TOPIC, until=has_ids(*ids))
        finally:
            assert await stop(task, 60)
    assert await unpublished(infra) == 0
