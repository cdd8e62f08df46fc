"""The event store on real PostgreSQL: versions, conflicts, load order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.errors import ConcurrencyConflict
from shared.eventstore.store import EventStore
from tests.integration.conftest import Infra, Ping


def store(infra: Infra, session) -> EventStore:  # type: ignore[no-untyped-def]
    return EventStore(session, infra.tables, source="/test", clock=infra.clock)


async def test_append_then_load_in_version_order(infra: Infra) -> None:
    stream = f"s-{uuid.uuid4()}"
    async with infra.sessions() as session, session.begin():
        await store(infra, session).append(stream, 0, [Ping(key="k", n=1), Ping(key="k", n=2)])
    async with infra.sessions() as session, session.begin():
        await store(infra, session).append(stream, 2, [Ping(key="k", n=3)])
    async with infra.sessions() as session:
        loaded = await store(infra, session).load(stream)
        version = await store(infra, session).current_version(stream)
    assert [e.version for e in loaded] == [1, 2, 3]
    assert [e.event.n for e in loaded] == [1, 2, 3]  # type: ignore[attr-defined]
    assert version == 3


async def test_stale_expected_version_is_a_concurrency_conflict(infra: Infra) -> None:
    stream = f"s-{uuid.uuid4()}"
    async with infra.sessions() as session, session.begin():
        await store(infra, session).append(stream, 0, [Ping(key="k", n=1)])
    with pytest.raises(ConcurrencyConflict) as raised:
        async with infra.sessions() as session, session.begin():
            await store(infra, session).append(stream, 0, [Ping(key="k", n=99)])
    assert raised.value.status == 409
    async with infra.sessions() as session:
        loaded = await store(infra, session).load(stream)
    assert [e.event.n for e in loaded] == [1]  # type: ignore[attr-defined]


async def test_two_concurrent_writers_one_wins(infra: Infra) -> None:
    """Both read version 1 and append at once: exactly one commits, the other conflicts."""
    stream = f"s-{uuid.uuid4()}"
    async with infra.sessions() as session, session.begin():
        await store(infra, session).append(stream, 0, [Ping(key="k", n=1)])
    a, b = infra.sessions(), infra.sessions()
    async with a, b:
        await a.begin()
        await b.begin()
        await store(infra, a).append(stream, 1, [Ping(key="k", n=2)])
        loser = asyncio.create_task(store(infra, b).append(stream, 1, [Ping(key="k", n=3)]))
        await asyncio.sleep(0.2)  # b now waits on a's uncommitted unique key
        assert not loser.done()
        await a.commit()
        with pytest.raises(ConcurrencyConflict):
            await loser
        await b.rollback()
    async with infra.sessions() as session:
        loaded = await store(infra, session).load(stream)
    assert [e.event.n for e in loaded] == [1, 2]  # type: ignore[attr-defined]


async def test_outbox_row_only_for_published_events(infra: Infra) -> None:
    from sqlalchemy import func, select

    stream = f"s-{uuid.uuid4()}"
    async with infra.sessions() as session, session.begin():
        recorded = await store(infra, session).append(
            stream, 0, [Ping(key="k", n=1)], partition_key="k"
        )
    async with infra.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(infra.tables.outbox.c.event_id == recorded[0].event_id)
        )
    assert count == 1
