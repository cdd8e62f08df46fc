"""Policy as data over time: versions published mid-year, and unions' own standards within the
provincial ceilings."""

from __future__ import annotations

from datetime import date

from shared.auth import Role
from tests.integration.conftest import Suite
from tests.integration.test_reservations import request
from tests.support import bearer, eventually, reserve_now

PROVINCE_ADMIN = bearer(Role.ADMIN, org="shanxi")
YINGZE = "shanxi/taiyuan/yingze/bu-0004"
YINGZE_FINANCE = bearer(Role.FINANCE_OFFICER, org=YINGZE)


async def _member(suite: Suite, union: str) -> str:
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(base_union=union), headers=PROVINCE_ADMIN
    )
    member_id = response.json()["member_id"]
    await eventually(lambda: suite.ledger(member_id, PROVINCE_ADMIN))
    return member_id


async def test_a_version_published_mid_year_governs_from_its_date(suite: Suite) -> None:
    client = suite.entitlements.client
    current = (await client.get("/v1/policies/shanxi-2025-26", headers=PROVINCE_ADMIN)).json()
    newer = {**current, "version": "shanxi-2026-09", "effective_from": "2026-09-01"}
    newer["member_benefits"]["holiday_gift"]["cap_fen"] = 250000

    county_admin = bearer(Role.ADMIN, org="shanxi/taiyuan")
    assert (await client.post("/v1/policies", json=newer, headers=county_admin)).status_code == 403
    past = {**newer, "version": "shanxi-2026-01", "effective_from": "2026-03-01"}
    refused = await client.post("/v1/policies", json=past, headers=PROVINCE_ADMIN)
    assert refused.status_code == 422 and refused.json()["rule"] == "policy.retroactive"
    published = await client.post("/v1/policies", json=newer, headers=PROVINCE_ADMIN)
    assert published.status_code == 201, published.text
    again = await client.post("/v1/policies", json=newer, headers=PROVINCE_ADMIN)
    assert again.status_code == 409
    versions = (await client.get("/v1/policies", headers=PROVINCE_ADMIN)).json()
    assert [v["version"] for v in versions] == ["shanxi-2025-26", "shanxi-2026-09"]

    member_id = await _member(suite, "shanxi/taiyuan/xiaodian/bu-0001")
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    august = await reserve_now(
        ctx, runtime, request(member_id, "holiday_gift", 220000, business_date=date(2026, 8, 31))
    )
    assert august is not None and august.status == "reserved"
    assert august.event.policy_version == "shanxi-2025-26"
    september = await reserve_now(
        ctx, runtime, request(member_id, "holiday_gift", 30000, business_date=date(2026, 9, 1))
    )
    assert september is not None and september.status == "reserved", september
    assert september.event.policy_version == "shanxi-2026-09"
    over = await reserve_now(
        ctx, runtime, request(member_id, "holiday_gift", 1, business_date=date(2026, 9, 2))
    )
    assert over is not None and over.status == "rejected"
    assert over.event.remaining_fen == 0  # type: ignore[attr-defined]
    late_august = await reserve_now(
        ctx, runtime, request(member_id, "holiday_gift", 1, business_date=date(2026, 8, 31))
    )
    assert late_august is not None and late_august.status == "rejected"
    assert late_august.event.policy_version == "shanxi-2025-26"


async def test_a_union_sets_its_own_values_only_within_the_ceiling(suite: Suite) -> None:
    client = suite.entitlements.client
    url = f"/v1/unions/{YINGZE}/standards"
    above = await client.put(
        f"{url}/voucher",
        json={"effective_from": "2026-03-01", "amount_fen": 30001},
        headers=YINGZE_FINANCE,
    )
    assert above.status_code == 422
    assert (above.json()["rule"], above.json()["clause"]) == ("policy.ceiling", "1.voucher")
    not_settable = await client.put(
        f"{url}/holiday_gift",
        json={"effective_from": "2026-03-01", "amount_fen": 100},
        headers=YINGZE_FINANCE,
    )
    assert not_settable.status_code == 422 and not_settable.json()["rule"] == "policy.not-settable"
    other_union = await client.put(
        "/v1/unions/shanxi/datong/bu-0002/standards/voucher",
        json={"effective_from": "2026-03-01", "amount_fen": 100},
        headers=YINGZE_FINANCE,
    )
    assert other_union.status_code == 403

    member_id = await _member(suite, YINGZE)
    runtime = suite.entitlements.runtime
    ctx = runtime.context
    training = await reserve_now(ctx, runtime, request(member_id, "training_subsidy", 50000))
    assert training is not None and training.status == "rejected"
    assert training.event.clause == "6.training"

    for benefit, body in (
        ("voucher", {"amount_fen": 20000, "expiry_days": 90}),
        ("training_subsidy", {"standard_fen": 100000}),
    ):
        response = await client.put(
            f"{url}/{benefit}",
            json={"effective_from": "2026-03-01", **body},
            headers=YINGZE_FINANCE,
        )
        assert response.status_code == 200, response.text
    listed = (await client.get(url, headers=YINGZE_FINANCE)).json()
    assert {s["benefit"] for s in listed} == {"voucher", "training_subsidy"}

    voucher = await reserve_now(ctx, runtime, request(member_id, "voucher", 30000))
    assert voucher is not None and voucher.status == "rejected"
    assert voucher.event.rule == "amount.union-standard"  # type: ignore[attr-defined]
    assert "200.00 元" in voucher.event.reason  # type: ignore[attr-defined]
    assert (
        await reserve_now(ctx, runtime, request(member_id, "voucher", 20000))
    ).status == "reserved"  # type: ignore[union-attr]
    too_much = await reserve_now(ctx, runtime, request(member_id, "training_subsidy", 100001))
    assert too_much is not None and too_much.status == "rejected"
    allowed = await reserve_now(ctx, runtime, request(member_id, "training_subsidy", 100000))
    assert allowed is not None and allowed.status == "reserved"
