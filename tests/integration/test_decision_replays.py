"""Money that leaked at the edges, replayed through the real services: each answer now depends
only on the policy in force on the business date, the member's facts as of that date and the
ledgers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from sqlalchemy import select

from services.disbursements.adapters.tables import union_finances
from services.entitlements.service_layer.views import read_profile
from shared.auth import Role
from tests.integration.conftest import HR, OFFICER, UNION, Suite, register
from tests.integration.test_disbursements import ask, member_known, outing, settled
from tests.integration.test_reservations import DAY, request
from tests.support import bearer, eventually, reserve_now

XIAODIAN = "shanxi/taiyuan/xiaodian"
BU3 = f"{XIAODIAN}/bu-0003"
DATONG_BU = "shanxi/datong/bu-0002"


@asynccontextmanager
async def business_day(suite: Suite, day: date) -> AsyncIterator[None]:
    suite.clock.set_business_date(day)
    try:
        yield
    finally:
        suite.clock.set_business_date(DAY)


async def check(
    suite: Suite, member_id: str, benefit: str, amount_fen: int, day: str, **more: Any
) -> dict[str, Any]:
    headers = more.pop("headers", OFFICER)
    answer = await suite.entitlements.client.post(
        "/v1/checks",
        json={
            "member_id": member_id,
            "benefit": benefit,
            "amount_fen": amount_fen,
            "business_date": day,
            **more,
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_backdated_into_closed_books_and_future_dates_are_refused(suite: Suite) -> None:
    member_id = await member_known(suite)
    async with business_day(suite, date(2026, 11, 29)):
        current = await ask(suite, member_id, "holiday_gift", 220000, business_date="2026-11-29")
        assert (await settled(suite, current["disbursement_id"]))["status"] == "issued"
        backdated = await ask(suite, member_id, "holiday_gift", 220000, business_date="2025-12-31")
        assert backdated["status_code"] == 202
        refused = await settled(suite, backdated["disbursement_id"])
        assert (refused["status"], refused["rule"], refused["clause"]) == (
            "rejected",
            "period.closed",
            "7.holiday",
        )
        assert refused["policy_version"] == "shanxi-2025-26" and "2026-01-31" in refused["reason"]
        for future in ("2026-12-25", "2027-03-01"):
            early = await ask(suite, member_id, "holiday_gift", 100, business_date=future)
            assert (early["status_code"], early["field"], early["rule"]) == (
                422,
                "business_date",
                "period.future",
            )
        closed = await check(suite, member_id, "holiday_gift", 100, "2025-12-31")
        assert (closed["allowed"], closed["rule"]) == (False, "period.closed")


async def test_a_birthday_gift_follows_the_business_date_not_the_wall_clock(
    suite: Suite,
) -> None:
    member_id = await register(suite, birth_date="1990-05-14")
    await eventually(lambda: suite.ledger(member_id))
    async with business_day(suite, date(2026, 11, 29)):
        await suite.members.runtime.services["birthdays"].run_once()  # 14 May is announced

        async def announced() -> bool:
            async with suite.entitlements.runtime.sessions() as session:
                store = suite.entitlements.runtime.event_store(session)
                profile = await read_profile(store, member_id)
            return profile is not None and 2026 in profile.birthdays

        await eventually(announced)
        runtime = suite.entitlements.runtime
        january = request(member_id, "birthday_gift", 5000, business_date=date(2026, 1, 3))
        before = await reserve_now(runtime.context, runtime, january)
        assert before is not None and before.status == "rejected"
        assert before.event.rule == "birthday.not-reached"  # type: ignore[attr-defined]
        on_the_day = request(member_id, "birthday_gift", 5000, business_date=date(2026, 5, 14))
        after = await reserve_now(runtime.context, runtime, on_the_day)
        assert after is not None and after.status == "reserved"


async def test_training_subsidy_only_under_the_base_unions_own_standard(suite: Suite) -> None:
    county = bearer(Role.FINANCE_OFFICER, org=XIAODIAN)
    member_id = await register(suite, base_union=BU3, headers=bearer(Role.HR_INTEGRATION, org=BU3))
    await eventually(lambda: suite.ledger(member_id, headers=county))
    standards = "/v1/unions/{}/standards/training_subsidy"
    today = DAY.isoformat()
    absurd = {"effective_from": today, "standard_fen": 100_000_000_000}
    too_high = await suite.entitlements.client.put(
        standards.format(XIAODIAN), json=absurd, headers=county
    )  # a union's own standard has a province-wide ceiling where the notice names no amount
    assert (too_high.status_code, too_high.json()["rule"]) == (422, "policy.ceiling")
    body = {"effective_from": today, "standard_fen": 400_000}
    county_set = await suite.entitlements.client.put(
        standards.format(XIAODIAN), json=body, headers=county
    )
    assert county_set.status_code == 200, county_set.text
    assert county_set.json()["set_by_org"] == XIAODIAN
    listed = await suite.entitlements.client.get(
        f"/v1/unions/{BU3}/standards", headers=bearer(Role.FINANCE_OFFICER, org=BU3)
    )  # the county's own training standard is not inherited, and is not shown as if it were
    assert [s["benefit"] for s in listed.json()] == []
    runtime = suite.entitlements.runtime
    inherited = await reserve_now(
        runtime.context, runtime, request(member_id, "training_subsidy", 400_000)
    )
    assert inherited is not None and inherited.status == "rejected"
    assert (inherited.event.rule, inherited.event.clause) == (  # type: ignore[attr-defined]
        "standard.missing",
        "6.training",
    )
    own = {"effective_from": today, "standard_fen": 100_000, "yearly_total_fen": 150_000}
    for_them = await suite.entitlements.client.put(standards.format(BU3), json=own, headers=county)
    assert (for_them.status_code, for_them.json()["rule"]) == (403, "standard.owner")
    back_dated = {**own, "effective_from": "2026-01-01"}
    bu3 = bearer(Role.FINANCE_OFFICER, org=BU3)
    late = await suite.entitlements.client.put(standards.format(BU3), json=back_dated, headers=bu3)
    assert (late.status_code, late.json()["rule"]) == (422, "standard.backdated")
    assert (
        await suite.entitlements.client.put(standards.format(BU3), json=own, headers=bu3)
    ).status_code == 200
    february = date(2026, 2, 1)
    early = await reserve_now(
        runtime.context,
        runtime,
        request(member_id, "training_subsidy", 50_000, business_date=february),
    )  # no standard of the union's governs February yet
    assert early is not None and early.event.rule == "standard.missing"  # type: ignore[attr-defined]
    first = await reserve_now(
        runtime.context, runtime, request(member_id, "training_subsidy", 100_000)
    )
    assert first is not None and first.status == "reserved"
    second = await reserve_now(
        runtime.context, runtime, request(member_id, "training_subsidy", 100_000)
    )
    assert second is not None and second.status == "rejected"
    assert (second.event.rule, second.event.remaining_fen) == (  # type: ignore[attr-defined]
        "cap.exceeded",
        50_000,
    )
    seen = await suite.ledger(member_id, headers=bu3)  # the view tells the decision's remainder
    assert seen is not None
    line = next(b for b in seen.json()["benefits"] if b["benefit"] == "training_subsidy")
    assert (line["cap_fen"], line["reserved_fen"], line["remaining_fen"]) == (
        150_000,
        100_000,
        50_000,
    )
    correction = {
        "effective_from": "2026-01-01",
        "standard_fen": 60_000,
        "yearly_total_fen": 60_000,
        "reason": "会员代表大会决议自年初起执行，原录入有误",
    }
    corrected = await suite.entitlements.client.post(
        standards.format(BU3) + "/corrections", json=correction, headers=bu3
    )  # a past standard corrected: its own act, with its reason and the day it was made
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["correction_reason"] == correction["reason"]
    assert corrected.json()["set_on"] == today
    unreasoned = await suite.entitlements.client.post(
        standards.format(BU3) + "/corrections", json={**correction, "reason": " "}, headers=bu3
    )
    assert unreasoned.status_code == 422
    after = await reserve_now(
        runtime.context,
        runtime,
        request(member_id, "training_subsidy", 70_000, business_date=february),
    )  # a request made now for a day the correction covers reads it
    assert after is not None and after.event.rule == "amount.union-standard"  # type: ignore[attr-defined]
    # decisions made before the correction are decided again as they were (February's too)
    assert (await what_if_unchanged(suite, BU3))["requests"] >= 5


async def test_counts_per_cycle_per_child_and_births_too_close(suite: Suite) -> None:
    runtime, ctx = suite.entitlements.runtime, suite.entitlements.runtime.context
    member_id = await register(suite, migrant_worker=True)
    await eventually(lambda: suite.ledger(member_id))
    trip = await reserve_now(ctx, runtime, request(member_id, "recuperation", 80000))
    assert trip is not None and trip.status == "reserved" and trip.event.year == 2025
    earlier = request(member_id, "recuperation", 80000, business_date=date(2026, 2, 1))
    again = await reserve_now(ctx, runtime, earlier)
    assert again is not None and again.event.rule == "count.exhausted"  # type: ignore[attr-defined]
    seen = await suite.ledger(member_id)  # the 2026 ledger shows the cycle the decision reads
    assert seen is not None
    line = next(b for b in seen.json()["benefits"] if b["benefit"] == "recuperation")
    assert (line["count"], line["max_count"], line["counted_in"]) == (1, 1, 2025)

    children = []
    for born in ("2025-06-01", "2025-09-01", "2025-12-01"):
        recorded = await suite.members.client.post(
            f"/v1/members/{member_id}/births",
            json={"birth_date": born, "birth_order": len(children) + 1, "within_policy": True},
            headers=HR,
        )
        assert recorded.status_code == 201, recorded.text
        children.append(recorded.json()["child_id"])

    async def all_known() -> bool:
        day = DAY.isoformat()
        answer = await check(suite, member_id, "childbirth_gift", 100, day, child_id=children[-1])
        return answer["rule"] != "child.unknown"

    await eventually(all_known)
    gifts = [
        await reserve_now(ctx, runtime, request(member_id, "childbirth_gift", 150000, child_id=c))
        for c in children
    ]
    assert [g.status for g in gifts if g] == ["reserved", "rejected", "rejected"]
    assert {g.event.rule for g in gifts[1:] if g} == {"child.births-too-close"}  # type: ignore[attr-defined]
    review = f"/v1/members/{member_id}/children/{{}}/spacing-review"
    finding = {"approved": True, "reason": "已核对出生医学证明，两次分娩均属实"}
    reviewer = bearer(Role.REVIEWER, org=UNION)
    refused = {
        "a finance officer is not a reviewer": (children[1], finding, OFFICER, 403),
        "a reviewer of another tree": (
            children[1],
            finding,
            bearer(Role.REVIEWER, org=DATONG_BU),
            404,
        ),
        "the first birth is not in question": (children[0], finding, reviewer, 409),
        "a blank reason": (children[1], {**finding, "reason": "   "}, reviewer, 422),
        "no such child": ("c-nobody", finding, reviewer, 404),
    }
    for what, (child, body, who, status) in refused.items():
        answer = await suite.entitlements.client.post(review.format(child), json=body, headers=who)
        assert answer.status_code == status, (what, answer.text)
    approved = await suite.entitlements.client.post(
        review.format(children[1]), json=finding, headers=reviewer
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["reviewed_by_org"] == UNION
    again = await suite.entitlements.client.post(
        review.format(children[1]), json=finding, headers=reviewer
    )
    assert (again.status_code, again.json()["rule"]) == (409, "spacing.reviewed")
    retried = await reserve_now(
        ctx, runtime, request(member_id, "childbirth_gift", 150000, child_id=children[1])
    )  # a new request for the reviewed birth is decided as any birth's
    assert retried is not None and retried.status == "reserved"
    still = await reserve_now(
        ctx, runtime, request(member_id, "childbirth_gift", 150000, child_id=children[2])
    )
    assert still is not None and still.event.rule == "child.births-too-close"  # type: ignore[attr-defined]

    camp = [
        await reserve_now(
            ctx,
            runtime,
            request(member_id, "summer_camp", 30000, child_id=children[0], business_date=day),
        )
        for day in (date(2026, 2, 27), date(2026, 3, 1))
    ]
    assert [c.status for c in camp if c] == ["reserved", "rejected"]
    assert camp[1].event.rule == "count.exhausted"  # type: ignore[union-attr, attr-defined]


async def test_check_and_decision_agree_on_a_union_without_dues(suite: Suite) -> None:
    hr = bearer(Role.HR_INTEGRATION, org=DATONG_BU)
    officer = bearer(Role.FINANCE_OFFICER, org=DATONG_BU)
    member_id = await register(suite, base_union=DATONG_BU, headers=hr)
    await eventually(lambda: suite.ledger(member_id, headers=officer))
    checked = await check(
        suite, member_id, "culture_sports", 10000, DAY.isoformat(), headers=officer
    )
    runtime = suite.entitlements.runtime
    decided = await reserve_now(
        runtime.context, runtime, request(member_id, "culture_sports", 10000)
    )
    assert decided is not None
    assert (checked["allowed"], checked["rule"], checked["clause"]) == (
        False,
        "union.no-dues-income",
        "3.topup",
    )
    assert (decided.status, decided.event.rule) == ("rejected", "union.no-dues-income")  # type: ignore[attr-defined]


async def test_amounts_are_bounded_at_the_edge_and_64_bit_behind_it(suite: Suite) -> None:
    member_id = await member_known(suite)
    for amount in (0, -1, 10**12 + 1):
        refused = await suite.disbursements.client.post(
            "/v1/disbursements",
            json={
                "member_id": member_id,
                "benefit": "holiday_gift",
                "amount_fen": amount,
                "business_date": DAY.isoformat(),
            },
            headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}"},
        )
        assert refused.status_code == 422, (amount, refused.text)
    big = await ask(suite, member_id, "holiday_gift", 2**31)
    assert big["status_code"] == 202
    over = await settled(suite, big["disbursement_id"])
    assert (over["status"], over["rule"], over["amount_fen"]) == ("rejected", "cap.exceeded", 2**31)

    union = "shanxi/datong/pingcheng/bu-0005"
    rich = {"dues_income_fen": 2**31, "budget_fen": 2**33, "consumption_share_fen": 2**32}
    recorded = await suite.entitlements.client.put(
        f"/v1/unions/{union}/finances/2027",
        json=rich,
        headers=bearer(Role.FINANCE_OFFICER, org=union),
    )
    assert recorded.status_code == 200, recorded.text

    async def known_downstream() -> Any:
        async with suite.disbursements.runtime.sessions() as session:
            return await session.scalar(
                select(union_finances.c.dues_income_fen).where(
                    union_finances.c.union_path == union, union_finances.c.year == 2027
                )
            )

    assert await eventually(known_downstream) == 2**31


async def test_synchronous_refusals_cite_their_reference_and_headroom(suite: Suite) -> None:
    member_id = await member_known(suite)
    hotel = [*outing()["cost_lines"][:1], {"category": "accommodation", "amount_fen": 36000}]
    too_dear = await ask(suite, member_id, "outing", 44000, details=outing(cost_lines=hotel))
    assert (too_dear["status_code"], too_dear["rule"], too_dear["clause"]) == (
        422,
        "outing.travel-standard",
        "4.outing",
    )
    assert too_dear["reference_version"] == "shanxi-travel-2024"
    assert (too_dear["limit_fen"], too_dear["remaining_fen"]) == (35000, -1000)


async def test_one_summer_camp_a_year_for_a_child_whichever_parent_asks(suite: Suite) -> None:
    """Both parents members and migrant workers: a camp through each parent was once paid
    twice for one child. The child's right is counted once, even when both ask at once."""
    import asyncio

    runtime, ctx = suite.entitlements.runtime, suite.entitlements.runtime.context
    mother = await register(suite, migrant_worker=True)
    father = await register(suite, migrant_worker=True)
    children = []
    for born in ("2016-05-01", "2018-07-01"):
        recorded = await suite.members.client.post(
            f"/v1/members/{mother}/births",
            json={"birth_date": born, "birth_order": len(children) + 1, "within_policy": True,
                  "other_parent_member_id": father},
            headers=HR,
        )  # fmt: skip
        assert recorded.status_code == 201, recorded.text
        children.append(recorded.json()["child_id"])

    async def both_know() -> bool:
        async with runtime.sessions() as session:
            store = runtime.event_store(session)
            profiles = [await read_profile(store, m) for m in (mother, father)]
        return all(p is not None and set(children) <= set(p.children) for p in profiles)

    await eventually(both_know)
    first = await reserve_now(
        ctx, runtime, request(mother, "summer_camp", 50000, child_id=children[0])
    )
    again = await reserve_now(
        ctx, runtime, request(father, "summer_camp", 50000, child_id=children[0])
    )
    assert first is not None and first.status == "reserved"
    assert again is not None and again.status == "rejected"
    assert again.event.rule == "count.exhausted"  # type: ignore[attr-defined]
    at_once = await asyncio.gather(
        *(
            reserve_now(ctx, runtime, request(parent, "summer_camp", 50000, child_id=children[1]))
            for parent in (mother, father, mother, father)
        )
    )
    assert sorted(o.status for o in at_once if o) == [
        "rejected",
        "rejected",
        "rejected",
        "reserved",
    ]
    replayed = await what_if_unchanged(suite, UNION)
    assert replayed["requests"] >= 6  # each camp decided again, counted across both parents


async def what_if_unchanged(suite: Suite, union: str) -> dict[str, Any]:
    """The year decided again under the policy in force: every decision as it was made."""
    admin = bearer(Role.ADMIN, org="shanxi")
    current = await suite.entitlements.client.get("/v1/policies/shanxi-2025-26", headers=admin)
    replayed = await suite.entitlements.client.post(
        "/v1/policies/what-if",
        json={"draft": current.json() | {"version": "draft-same"}, "year": 2026, "union": union},
        headers=admin,
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["changed"] == 0, replayed.json()["differences"]
    return dict(replayed.json())
