"""Entitlements decide on facts from the members' stream: birthdays, births of children (each
parent once per child), the end of a membership, and requests that arrive before their facts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from jinhui.inprocess import running_service
from jinhui.localstack import Stack
from services.entitlements.service_layer.handlers import note_member_event
from services.entitlements.service_layer.settlements import Settlement, settle
from services.entitlements.service_layer.views import read_profile
from services.members.contracts import MemberRegistered
from shared.auth import Role
from shared.clock import business_date
from shared.uow import UnitOfWork
from tests.integration.conftest import HR, OFFICER, Suite, register
from tests.integration.test_reservations import balance, member_with_ledger, request
from tests.support import bearer, eventually, reserve_now

ADMIN = bearer(Role.ADMIN, org="shanxi")


async def _decided(suite: Suite, member_id: str, benefit: str, key: str) -> dict | None:  # type: ignore[type-arg]
    line = await balance(suite, member_id, benefit)
    return line if line[key] else None


async def test_a_request_before_the_registration_is_decided_when_it_arrives(suite: Suite) -> None:
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    member_id = f"m-{uuid.uuid4().hex[:20]}"
    asked = request(member_id, "culture_sports", 20000)
    assert await reserve_now(ctx, runtime, asked) is None
    registered = MemberRegistered(
        member_id=member_id,
        base_union="shanxi/taiyuan/xiaodian/bu-0001",
        name="迟到",
        birth_date=date(1990, 5, 5),
        join_date=date(2020, 1, 1),
    )
    async with UnitOfWork(runtime) as uow:
        await note_member_event(ctx, uow, registered, f"test-{member_id}")
    line = await balance(suite, member_id, "culture_sports")
    assert (line["reserved_fen"], line["count"]) == (20000, 1)
    again = await reserve_now(ctx, runtime, asked)
    assert again is not None and again.status == "reserved"


async def test_a_birthday_gift_on_or_after_the_birthday_is_allowed_once(suite: Suite) -> None:
    member_id = await register(suite, birth_date="1991-01-20")
    await eventually(lambda: suite.ledger(member_id))
    runtime = suite.entitlements.runtime
    first = request(member_id, "birthday_gift", 50000)
    # The birthday (20 January) has passed on 1 March: it follows from the birth date, whether
    # or not members has announced it yet.
    decided = await reserve_now(runtime.context, runtime, first)
    assert decided is not None and decided.status == "reserved"
    line = await balance(suite, member_id, "birthday_gift")
    assert (line["reserved_fen"], line["remaining_fen"]) == (50000, 0)
    second = await reserve_now(runtime.context, runtime, request(member_id, "birthday_gift", 1))
    assert second is not None and second.status == "rejected"


async def test_a_birthday_still_to_come_is_refused_at_once(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)  # born 7 March; the business date is 1 March
    runtime = suite.entitlements.runtime
    decision = await reserve_now(
        runtime.context, runtime, request(member_id, "birthday_gift", 50000)
    )
    assert decision is not None and decision.status == "rejected"
    assert decision.event.clause == "7.birthday"


async def _parents_with_child(suite: Suite, birth_order: int, within_policy: bool) -> tuple:  # type: ignore[type-arg]
    mother = await register(suite, name="孙母", birth_date="1993-03-03")
    father = await register(suite, name="孙父", birth_date="1991-04-04")
    response = await suite.members.client.post(
        f"/v1/members/{mother}/births",
        json={
            "birth_date": "2026-02-14",
            "birth_order": birth_order,
            "within_policy": within_policy,
            "other_parent_member_id": father,
        },
        headers=HR,
    )
    return mother, father, response.json()["child_id"]


async def _child_noted(suite: Suite, member_id: str, child_id: str) -> bool:
    async with suite.entitlements.runtime.sessions() as session:
        profile = await read_profile(suite.entitlements.runtime.event_store(session), member_id)
    return profile is not None and child_id in profile.children


async def test_both_parents_receive_the_childbirth_gift_once_each(suite: Suite) -> None:
    mother, father, child = await _parents_with_child(suite, birth_order=2, within_policy=True)
    for parent in (mother, father):
        await eventually(lambda parent=parent: _child_noted(suite, parent, child))
    runtime = suite.entitlements.runtime
    ctx = runtime.context

    too_much = await reserve_now(
        ctx, runtime, request(mother, "childbirth_gift", 200001, child_id=child)
    )
    assert too_much is not None and too_much.status == "rejected"
    assert too_much.event.rule == "amount.per-child"  # type: ignore[attr-defined]
    assert "2,000.00 元" in too_much.event.reason  # type: ignore[attr-defined]
    for parent in (mother, father):
        decision = await reserve_now(
            ctx, runtime, request(parent, "childbirth_gift", 200000, child_id=child)
        )
        assert decision is not None and decision.status == "reserved", decision
        assert decision.event.clause == "7.childbirth"
        twice = await reserve_now(
            ctx, runtime, request(parent, "childbirth_gift", 100, child_id=child)
        )
        assert twice is not None and twice.status == "rejected"
        assert twice.event.rule == "count.exhausted"  # type: ignore[attr-defined]
    nameless = await reserve_now(ctx, runtime, request(mother, "childbirth_gift", 100))
    assert nameless is not None and nameless.status == "rejected"
    # The ledger read from the read tables says what folding its stream says, grants included.
    now = await suite.ledger(mother)
    today = business_date(ctx.clock).isoformat()
    folded = await suite.entitlements.client.get(
        f"/v1/members/{mother}/ledgers/2026", params={"as_of": today}, headers=OFFICER
    )
    assert now is not None and folded.status_code == 200
    assert now.json()["childbirth_grants"] == folded.json()["childbirth_grants"] != []
    assert now.json()["benefits"] == folded.json()["benefits"]


async def test_a_child_born_outside_the_policy_brings_no_gift(suite: Suite) -> None:
    mother, _, child = await _parents_with_child(suite, birth_order=1, within_policy=False)
    await eventually(lambda: _child_noted(suite, mother, child))
    runtime = suite.entitlements.runtime
    decision = await reserve_now(
        runtime.context, runtime, request(mother, "childbirth_gift", 150000, child_id=child)
    )
    assert decision is not None and decision.status == "rejected"
    assert decision.event.rule == "child.outside-policy"  # type: ignore[attr-defined]


async def test_nothing_is_granted_after_the_membership_ended(suite: Suite) -> None:
    member_id = await member_with_ledger(suite)
    ended = await suite.members.client.post(
        f"/v1/members/{member_id}/end",
        json={"reason": "left", "effective_date": "2026-02-15"},
        headers=HR,
    )
    assert ended.status_code == 200

    async def seen() -> bool:
        async with suite.entitlements.runtime.sessions() as session:
            profile = await read_profile(suite.entitlements.runtime.event_store(session), member_id)
        return profile is not None and not profile.active

    await eventually(seen)
    runtime = suite.entitlements.runtime
    after = await reserve_now(runtime.context, runtime, request(member_id, "holiday_gift", 100))
    assert after is not None and after.status == "rejected"
    assert after.event.rule == "member.inactive"  # type: ignore[attr-defined]
    before = await reserve_now(
        runtime.context,
        runtime,
        request(member_id, "holiday_gift", 100, business_date=date(2026, 2, 1)),
    )
    assert before is not None and before.status == "reserved"


async def test_200_concurrent_birthday_gifts_leave_exactly_one(suite: Suite) -> None:
    member_id = await register(suite, birth_date="1988-02-02")
    await suite.members.runtime.services["birthdays"].run_once()

    async def birthday_seen() -> bool:
        async with suite.entitlements.runtime.sessions() as session:
            profile = await read_profile(suite.entitlements.runtime.event_store(session), member_id)
        return profile is not None and 2026 in profile.birthdays

    await eventually(birthday_seen)
    runtime = suite.entitlements.runtime
    decisions = await asyncio.gather(
        *(
            reserve_now(runtime.context, runtime, request(member_id, "birthday_gift", 30000))
            for _ in range(200)
        )
    )
    assert sum(1 for d in decisions if d and d.status == "reserved") == 1
    assert all(d is not None for d in decisions)
    line = await balance(suite, member_id, "birthday_gift")
    assert (line["reserved_fen"], line["count"], line["remaining_fen"]) == (30000, 1, 20000)


async def test_a_reservation_survives_a_restart_and_is_committed_after_it(
    suite: Suite, stack: Stack
) -> None:
    member_id = await member_with_ledger(suite)
    asked = request(member_id, "holiday_gift", 100000)
    async with running_service(
        "entitlements", stack, suite.clock, run_background_workers=False
    ) as before_crash:
        decision = await reserve_now(before_crash.runtime.context, before_crash.runtime, asked)
        assert decision is not None and decision.status == "reserved"
    async with running_service(
        "entitlements", stack, suite.clock, run_background_workers=False
    ) as after_restart:
        again = await reserve_now(after_restart.runtime.context, after_restart.runtime, asked)
        assert again is not None and again.status == "reserved"  # the same answer, once
        async with UnitOfWork(after_restart.runtime) as uow:
            await settle(
                after_restart.runtime.context,
                uow.events,
                Settlement(member_id, 2026, asked.disbursement_id, "issued"),
            )
    line = await balance(suite, member_id, "holiday_gift")
    assert (line["used_fen"], line["reserved_fen"], line["count"]) == (100000, 0, 1)
