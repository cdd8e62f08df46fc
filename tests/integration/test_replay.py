"""Rebuilding entitlements' read tables from the event store gives exactly the live tables,
also while decisions keep being made."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from services.entitlements.adapters.projections import LIVE
from services.entitlements.service_layer.replay import rebuild
from services.entitlements.service_layer.settlements import Settlement, settle
from shared.events import UnknownEventType
from shared.uow import UnitOfWork
from tests.integration.conftest import Suite, register
from tests.integration.test_reservations import request
from tests.support import eventually, reserve_now

BENEFITS = [
    ("holiday_gift", 30000),
    ("culture_sports", 10000),
    ("culture_tourism_product", 10000),
    ("voucher", 30000),
    ("outing", 10000),
    ("recuperation", 5000),
]


async def _snapshot(suite: Suite) -> dict[str, list[tuple[Any, ...]]]:
    async with suite.entitlements.runtime.sessions() as session:
        return {
            table.name: sorted(tuple(row) for row in (await session.execute(select(table))).all())
            for table in LIVE.all
        }


async def _staging_left(suite: Suite) -> list[str]:
    async with suite.entitlements.runtime.sessions() as session:
        query = text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'stage%'")
        return list((await session.scalars(query)).all())


async def _a_year_of_decisions(suite: Suite, members: list[str], rng: random.Random) -> None:
    runtime = suite.entitlements.runtime
    day = date(2026, 1, 2)
    while day.year == 2026:
        member = rng.choice(members)
        benefit, amount = rng.choice(BENEFITS)
        asked = request(member, benefit, amount, business_date=day)
        decision = await reserve_now(runtime.context, runtime, asked)
        if decision is not None and decision.status == "reserved" and rng.random() < 0.8:
            async with UnitOfWork(runtime) as uow:
                outcome = "issued" if rng.random() < 0.75 else "cancelled"
                given = Settlement(member, decision.event.year, asked.disbursement_id, outcome)
                await settle(runtime.context, uow.events, given)
        day += timedelta(days=rng.choice((1, 2, 3)))


async def test_rebuild_equals_the_live_tables_even_under_writes(suite: Suite) -> None:
    rng = random.Random(11643)
    members = [await register(suite, name=f"回放{i}") for i in range(12)]
    for member in members:
        await eventually(lambda member=member: suite.ledger(member))
    await _a_year_of_decisions(suite, members, rng)
    runtime = suite.entitlements.runtime

    live = await _snapshot(suite)
    assert live[LIVE.balances.name], "the year produced no balances"
    async with runtime.sessions() as session, session.begin():  # damage the live tables
        await session.execute(text("UPDATE ledger_balances SET used_fen = used_fen + 1"))
        await session.execute(
            text("DELETE FROM member_profiles WHERE member_id = :m"), {"m": members[0]}
        )
    seen: list[tuple[int, int]] = []
    report = await rebuild(
        runtime.engine,
        runtime.sessions,
        runtime.tables,
        batch=200,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert await _snapshot(suite) == live
    assert await _staging_left(suite) == []
    assert report.events >= sum(len(rows) for rows in live.values())
    assert seen and seen[-1][0] == seen[-1][1]

    # Decisions go on while a rebuild runs: the swapped-in tables still hold every one.
    async def writer() -> None:
        await _a_year_of_decisions(suite, members, random.Random(7))

    await asyncio.gather(
        writer(), rebuild(runtime.engine, runtime.sessions, runtime.tables, batch=50)
    )
    after_writes = await _snapshot(suite)
    await rebuild(runtime.engine, runtime.sessions, runtime.tables)
    assert await _snapshot(suite) == after_writes


async def test_a_rebuild_that_cannot_read_an_event_stops_and_says_so(suite: Suite) -> None:
    """Pages are read ahead of the writes; a page that fails to read must fail the rebuild,
    not leave it waiting for a page that never comes, and the live tables stay as they were."""
    runtime = suite.entitlements.runtime
    events = runtime.tables.events
    member = await register(suite, name="回放坏")
    await eventually(lambda: suite.ledger(member))
    live = await _snapshot(suite)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            events.insert().values(
                event_id=uuid.uuid4(),
                stream_id="ledger-gone",
                version=1,
                event_type="jinhui.entitlements.NoSuchEvent",
                schema_version=1,
                data={},
                recorded_at=datetime.now(UTC),
            )
        )
    try:
        with pytest.raises(UnknownEventType):
            await asyncio.wait_for(
                rebuild(runtime.engine, runtime.sessions, runtime.tables, batch=5), timeout=300
            )
    finally:
        async with runtime.sessions() as session, session.begin():
            await session.execute(events.delete().where(events.c.stream_id == "ledger-gone"))
    assert await _snapshot(suite) == live
    assert await _staging_left(suite) == []  # the pages' staging tables went with it
