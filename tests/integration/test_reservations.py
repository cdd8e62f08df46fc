"""Entitlement decisions on real PostgreSQL and the real broker: caps hold under concurrency and
redelivery, and every rejection names its clause and what remains."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.contracts import (
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementRequested,
)
from services.entitlements.adapters.tables import pending_requests
from services.entitlements.domain.ledger import Outcome
from services.entitlements.service_layer.decisions import reserve_many as decide_run
from services.entitlements.service_layer.decisions import sweep_expired
from services.entitlements.service_layer.settlements import Settlement, commit_many, settle
from shared.clock import FixedClock
from shared.envelope import Envelope
from shared.kafka.producer import make_producer
from shared.kafka.topics import DISBURSEMENTS_EVENTS, ENTITLEMENTS_EVENTS
from shared.uow import UnitOfWork
from tests.integration.conftest import OFFICER, Suite, register
from tests.support import eventually, header, read_topic, reserve_now

DAY = date(2026, 3, 1)


async def member_with_ledger(suite: Suite) -> str:
    member_id = await register(suite)
    await eventually(lambda: suite.ledger(member_id))
    return member_id


def request(member_id: str, benefit: str, amount_fen: int, **kw: object) -> DisbursementRequested:
    return DisbursementRequested(
        disbursement_id=str(kw.get("disbursement_id", f"d-{uuid.uuid4()}")),
        member_id=member_id,
        benefit=benefit,
        amount_fen=amount_fen,
        business_date=kw.get("business_date", DAY),  # type: ignore[arg-type]
        child_id=kw.get("child_id"),  # type: ignore[arg-type]
    )


async def reserve_many(
    suite: Suite, member_id: str, benefit: str, amount_fen: int, times: int
) -> list[Outcome]:
    """Distinct requests, all at once, each in its own unit of work."""
    runtime = suite.entitlements.runtime
    return await asyncio.gather(
        *(
            reserve_now(runtime.context, runtime, request(member_id, benefit, amount_fen))
            for _ in range(times)
        )
    )


async def balance(suite: Suite, member_id: str, benefit: str) -> dict[str, int]:
    response = await suite.ledger(member_id)
    assert response is not None
    return next(b for b in response.json()["benefits"] if b["benefit"] == benefit)


async def test_200_concurrent_requests_never_pass_the_cap(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    decisions = await reserve_many(suite, member_id, "holiday_gift", 30000, times=200)
    reserved = [d for d in decisions if d.status == "reserved"]
    rejected = [d for d in decisions if d.status == "rejected"]
    assert len(reserved) == 7  # 7 × 300 yuan ≤ 2,200 yuan < 8 × 300 yuan
    assert len(rejected) == 193
    assert {d.event.clause for d in rejected} == {"7.holiday"}
    assert {d.event.remaining_fen for d in rejected} == {220000 - 7 * 30000}
    line = await balance(suite, member_id, "holiday_gift")
    assert (line["reserved_fen"], line["remaining_fen"], line["count"]) == (210000, 10000, 7)


async def test_count_cap_holds_under_concurrency(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    decisions = await reserve_many(suite, member_id, "voucher", 10000, times=30)
    assert [d.status for d in decisions].count("reserved") == 1
    refused = next(d for d in decisions if d.status == "rejected")
    assert refused.event.clause == "1.voucher"
    assert refused.event.rule == "count.exhausted"  # type: ignore[attr-defined]


async def test_a_run_of_requests_is_decided_as_one_by_one_would_be(suite: Suite) -> None:
    """What a batch sends: many requests in one transaction, several for the same member, one
    redelivered. The cap holds in order, the repeat has no second effect, and each entry names
    its own source message."""
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    first, second = await member_with_ledger(suite), await member_with_ledger(suite)
    asks = [request(first if n % 3 else second, "holiday_gift", 30000) for n in range(15)]
    run = [(ask, f"msg-{n}") for n, ask in enumerate(asks)] + [(asks[1], "msg-again")]
    async with UnitOfWork(runtime) as uow:
        await decide_run(ctx, uow, run)
    line = await balance(suite, first, "holiday_gift")
    assert (line["reserved_fen"], line["count"]) == (210000, 7)  # 10 asked, 7 fit
    assert (await balance(suite, second, "holiday_gift"))["reserved_fen"] == 150000  # 5 asked
    entries = (
        await suite.entitlements.client.get(
            f"/v1/members/{first}/ledgers/2026/entries", headers=OFFICER
        )
    ).json()
    decided = [e for e in entries if e["type"] in ("EntitlementReserved", "EntitlementRejected")]
    assert [e["source_event_id"] for e in decided] == [
        f"msg-{n}" for n, ask in enumerate(asks) if ask.member_id == first
    ]
    reserved = [a for a in asks if a.member_id == first][:7]
    issued = [
        (Settlement(first, 2026, a.disbursement_id, "issued"), f"issued-{n}")
        for n, a in enumerate(reserved)
    ]
    async with UnitOfWork(runtime) as uow:
        await commit_many(runtime.context, uow.events, issued)
    line = await balance(suite, first, "holiday_gift")
    assert (line["used_fen"], line["reserved_fen"]) == (210000, 0)


async def test_a_run_with_a_request_that_must_wait_decides_the_others(suite: Suite) -> None:
    runtime = suite.entitlements.runtime
    member_id = await member_with_ledger(suite)
    known = request(member_id, "holiday_gift", 30000)
    unknown = request(f"m-{uuid.uuid4().hex[:8]}", "holiday_gift", 30000)
    async with UnitOfWork(runtime) as uow:
        await decide_run(runtime.context, uow, [(known, "a"), (unknown, "b")])
    assert (await balance(suite, member_id, "holiday_gift"))["reserved_fen"] == 30000
    async with runtime.sessions() as session:
        waiting = await _waiting(session, unknown.member_id)
    assert [w["waiting_for"] for w in waiting] == ["the member's registration"]


async def test_asked_twice_the_same_answer_once(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    runtime = suite.entitlements.runtime
    ask = request(member_id, "culture_sports", 40000)
    first = await reserve_now(runtime.context, runtime, ask)
    again = await reserve_now(runtime.context, runtime, ask)
    assert first.status == again.status == "reserved"
    assert first.event == again.event
    assert (await balance(suite, member_id, "culture_sports"))["reserved_fen"] == 40000


async def test_birthday_gift_before_the_birthday_is_refused_with_its_clause(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    runtime = suite.entitlements.runtime
    decision = await reserve_now(
        runtime.context, runtime, request(member_id, "birthday_gift", 50000)
    )
    assert decision.status == "rejected"
    assert decision.event.clause == "7.birthday"


async def test_unknown_member_waits_then_is_rejected_not_lost(suite: Suite) -> None:
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    asked = request("m-nobody", "voucher", 100)
    assert await reserve_now(ctx, runtime, asked) is None
    async with runtime.sessions() as session:
        waiting = await _waiting(session, "m-nobody")
    assert [w["waiting_for"] for w in waiting] == ["the member's registration"]
    assert await sweep_expired(ctx, runtime) == 0  # not yet due
    later = FixedClock(ctx.clock.now() + ctx.pending_wait + timedelta(seconds=1))
    assert await sweep_expired(replace(ctx, clock=later), runtime) >= 1

    def rejected(records: list) -> bool:  # type: ignore[type-arg]
        return any(
            header(r, "ce_type") == "jinhui.entitlements.EntitlementRejected"
            and asked.disbursement_id.encode() in r.value
            and b"member.unknown" in r.value
            for r in records
        )

    await read_topic(runtime.settings.kafka_bootstrap_servers, ENTITLEMENTS_EVENTS, until=rejected)


async def test_check_answers_without_reserving(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    body = {
        "member_id": member_id,
        "benefit": "culture_tourism_product",
        "amount_fen": 30001,
        "business_date": DAY.isoformat(),
    }
    client = suite.entitlements.client
    answer = (await client.post("/v1/checks", json=body, headers=OFFICER)).json()
    assert answer["allowed"] is False
    assert (answer["clause"], answer["remaining_fen"]) == ("4.culture-tourism", 30000)
    assert "300.00 元" in answer["reason"] and "300.00 yuan" in answer["reason_en"]
    body["amount_fen"] = 30000
    answer = (await client.post("/v1/checks", json=body, headers=OFFICER)).json()
    assert answer["allowed"] is True
    assert (await balance(suite, member_id, "culture_tourism_product"))["reserved_fen"] == 0


async def test_saga_over_kafka_redelivery_issue_and_cancel(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    bootstrap = suite.entitlements.runtime.settings.kafka_bootstrap_servers
    issued = request(member_id, "holiday_gift", 100000)
    cancelled = request(member_id, "holiday_gift", 50000)

    def envelope(event: object) -> Envelope:
        return Envelope.wrap(
            event,  # type: ignore[arg-type]
            source="/jinhui/disbursements",
            time=datetime.now(UTC),
            partition_key=member_id,
        )

    asked = envelope(issued)
    producer = make_producer(bootstrap, "test-disbursements")
    await producer.start()
    try:

        async def send(env: Envelope) -> None:
            key, value, headers = env.to_kafka()
            await (await producer.send(DISBURSEMENTS_EVENTS, key=key, value=value, headers=headers))

        for env in (asked, asked, asked, envelope(issued), envelope(cancelled)):
            await send(env)  # the same message 3×, then a re-sent request with a new id

        async def reserved_both() -> bool:
            return (await balance(suite, member_id, "holiday_gift"))["reserved_fen"] == 150000

        await eventually(reserved_both)
        await send(
            envelope(
                DisbursementIssued(
                    disbursement_id=issued.disbursement_id, member_id=member_id, business_date=DAY
                )
            )
        )
        await send(
            envelope(
                DisbursementCancelled(
                    disbursement_id=cancelled.disbursement_id,
                    member_id=member_id,
                    year=2026,
                    reason="member declined",
                )
            )
        )

        async def settled() -> dict[str, int] | None:
            line = await balance(suite, member_id, "holiday_gift")
            return line if line["reserved_fen"] == 0 else None

        line = await eventually(settled)
    finally:
        await producer.stop()
    assert (line["used_fen"], line["remaining_fen"], line["count"]) == (100000, 120000, 1)

    def answers_for(records: list) -> list:  # type: ignore[type-arg]
        return [r for r in records if r.key == member_id.encode()]

    records = await read_topic(
        bootstrap, ENTITLEMENTS_EVENTS, until=lambda rs: len(answers_for(rs)) >= 4
    )
    types = sorted(header(r, "ce_type") or "" for r in answers_for(records))
    assert types == sorted(
        [
            "jinhui.entitlements.EntitlementReserved",
            "jinhui.entitlements.EntitlementReserved",
            "jinhui.entitlements.ReservationCommitted",
            "jinhui.entitlements.ReservationReleased",
        ]
    )


async def test_as_of_reads_and_entries_show_the_ledger_as_it_stood(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    first = request(member_id, "holiday_gift", 30000)
    assert (await reserve_now(ctx, runtime, first)).status == "reserved"  # type: ignore[union-attr]
    suite.clock.set_business_date(date(2026, 3, 5))
    try:
        second = request(member_id, "holiday_gift", 50000, business_date=date(2026, 3, 5))
        assert (await reserve_now(ctx, runtime, second)).status == "reserved"  # type: ignore[union-attr]
        issued = Settlement(member_id, 2026, first.disbursement_id, "issued", on=date(2026, 3, 5))
        async with UnitOfWork(runtime) as uow:
            await settle(ctx, uow.events, issued)
    finally:
        suite.clock.set_business_date(DAY)

    async def holiday(as_of: str) -> dict[str, int]:
        response = await suite.entitlements.client.get(
            f"/v1/members/{member_id}/ledgers/2026", params={"as_of": as_of}, headers=OFFICER
        )
        assert response.status_code == 200, response.text
        return next(b for b in response.json()["benefits"] if b["benefit"] == "holiday_gift")

    then = await holiday("2026-03-01")
    assert (then["used_fen"], then["reserved_fen"], then["remaining_fen"]) == (0, 30000, 190000)
    now = await holiday("2026-03-05")
    assert (now["used_fen"], now["reserved_fen"], now["remaining_fen"]) == (30000, 50000, 140000)
    before = await holiday("2026-02-01")  # as of a business date: nothing was dated by then
    assert (before["used_fen"], before["reserved_fen"]) == (0, 0)

    entries = await suite.entitlements.client.get(
        f"/v1/members/{member_id}/ledgers/2026/entries", headers=OFFICER
    )
    kinds = [(e["type"], e["disbursement_id"]) for e in entries.json()]
    assert kinds == [
        ("LedgerOpened", None),
        ("EntitlementReserved", first.disbursement_id),
        ("EntitlementReserved", second.disbursement_id),
        ("ReservationCommitted", first.disbursement_id),
    ]
    assert all(e["source_event_id"] for e in entries.json())
    assert entries.json()[1]["clause"] == "7.holiday"
    early = await suite.entitlements.client.get(
        f"/v1/members/{member_id}/ledgers/2026/entries",
        params={"as_of": "2026-03-01"},
        headers=OFFICER,
    )
    assert [e["type"] for e in early.json()] == ["LedgerOpened", "EntitlementReserved"]
    assert early.json()[1]["business_date"] == "2026-03-01"


async def _waiting(session: AsyncSession, member_id: str) -> list[dict[str, Any]]:
    """The member's parked requests, oldest first."""
    rows = await session.execute(
        select(pending_requests.c.waiting_for)
        .where(pending_requests.c.member_id == member_id)
        .order_by(pending_requests.c.first_seen)
    )
    return [dict(r) for r in rows.mappings()]
