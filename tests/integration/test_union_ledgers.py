"""Union-level rules: culture and sports within dues plus the 4x top-up, consumption assistance
tracked against the budget share."""

from __future__ import annotations

from services.entitlements.service_layer.settlements import Settlement, settle
from shared.auth import Role
from shared.uow import UnitOfWork
from tests.integration.conftest import Suite
from tests.integration.test_reservations import request
from tests.support import bearer, eventually, reserve_now

PINGCHENG = "shanxi/datong/pingcheng/bu-0005"
FINANCE = bearer(Role.FINANCE_OFFICER, org=PINGCHENG)
ADMIN = bearer(Role.ADMIN, org="shanxi")


async def _member(suite: Suite) -> str:
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(base_union=PINGCHENG), headers=ADMIN
    )
    member_id = response.json()["member_id"]
    await eventually(lambda: suite.ledger(member_id, ADMIN))
    return member_id


async def _line(suite: Suite, rule: str) -> dict:  # type: ignore[type-arg]
    response = await suite.entitlements.client.get(
        f"/v1/unions/{PINGCHENG}/ledgers/2026", headers=FINANCE
    )
    assert response.status_code == 200, response.text
    return next(line for line in response.json()["lines"] if line["rule"] == rule)


async def test_culture_and_sports_stay_within_dues_plus_four_times_dues(suite: Suite) -> None:
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    members = [await _member(suite) for _ in range(4)]
    unrecorded = await reserve_now(ctx, runtime, request(members[0], "culture_sports", 40000))
    assert unrecorded is not None and unrecorded.status == "rejected"
    assert unrecorded.event.clause == "3.topup"
    assert unrecorded.event.rule == "union.no-dues-income"  # type: ignore[attr-defined]

    recorded = await suite.entitlements.client.put(
        f"/v1/unions/{PINGCHENG}/finances/2026",
        json={"dues_income_fen": 20000, "budget_fen": 1_000_000, "consumption_share_fen": 100_000},
        headers=FINANCE,
    )
    assert recorded.status_code == 200, recorded.text
    assert (await _line(suite, "culture_sports_topup"))["limit_fen"] == 100000  # 200 + 4 x 200 yuan

    asks = [request(m, "culture_sports", 40000) for m in members[1:]]
    decisions = [await reserve_now(ctx, runtime, ask) for ask in asks]
    assert [d.status for d in decisions if d] == ["reserved", "reserved", "rejected"]
    assert decisions[2].event.clause == "3.topup"  # type: ignore[union-attr]
    line = await _line(suite, "culture_sports_topup")
    assert (line["reserved_fen"], line["remaining_fen"]) == (80000, 20000)

    async with UnitOfWork(runtime) as uow:
        await settle(
            ctx, uow.events, Settlement(members[1], 2026, asks[0].disbursement_id, "cancelled")
        )
        await settle(
            ctx, uow.events, Settlement(members[2], 2026, asks[1].disbursement_id, "issued")
        )
    line = await _line(suite, "culture_sports_topup")
    assert (line["used_fen"], line["reserved_fen"]) == (40000, 0)
    retry = await reserve_now(ctx, runtime, request(members[3], "culture_sports", 40000))
    assert retry is not None and retry.status == "reserved"

    async with UnitOfWork(runtime) as uow:  # a reversed ticket gives its share of the rule back
        reversal = Settlement(members[2], 2026, asks[1].disbursement_id, "reversed")
        await settle(ctx, uow.events, reversal)
    line = await _line(suite, "culture_sports_topup")
    assert (line["used_fen"], line["remaining_fen"]) == (0, 60000)


async def test_consumption_assistance_is_union_spending_against_a_floor(suite: Suite) -> None:
    runtime = suite.entitlements.runtime
    member_id = await _member(suite)
    await suite.entitlements.client.put(
        f"/v1/unions/{PINGCHENG}/finances/2026",
        json={"dues_income_fen": 20000, "budget_fen": 1_000_000, "consumption_share_fen": 100_000},
        headers=FINANCE,
    )
    to_a_member = await reserve_now(
        runtime.context, runtime, request(member_id, "consumption_assistance", 15000)
    )
    assert to_a_member is not None and to_a_member.status == "rejected"
    assert (to_a_member.event.rule, to_a_member.event.clause) == (  # type: ignore[attr-defined]
        "benefit.union-level",
        "8.consumption-assistance",
    )
    before = await _line(suite, "consumption_assistance")
    purchase = {
        "purchase_id": f"p-{member_id}",
        "amount_fen": 150_000,
        "business_date": "2026-03-01",
        "purpose": "采购脱贫地区农产品用于职工食堂",
    }
    url = f"/v1/unions/{PINGCHENG}/consumption-assistance"
    closed = {**purchase, "purchase_id": f"p-old-{member_id}", "business_date": "2025-07-10"}
    late = await suite.entitlements.client.post(url, json=closed, headers=FINANCE)
    assert (late.status_code, late.json()["rule"]) == (422, "period.closed")  # 2025 closed 31 Jan
    for _ in range(2):  # the same purchase twice is recorded once
        bought = await suite.entitlements.client.post(url, json=purchase, headers=FINANCE)
        assert bought.status_code == 200, bought.text
    after = await _line(suite, "consumption_assistance")
    assert (after["kind"], after["limit_fen"]) == ("floor", 100_000)
    assert after["used_fen"] == before["used_fen"] + 150_000
    assert after["still_to_spend_fen"] == 0 and after["remaining_fen"] is None  # never negative
    outsider = await suite.entitlements.client.get(
        f"/v1/unions/{PINGCHENG}/ledgers/2026",
        headers=bearer(Role.FINANCE_OFFICER, org="shanxi/taiyuan"),
    )
    assert outsider.status_code == 404
