"""Foresight: a batch priced before it runs equals the batch that follows it; a draft policy is
tried on a year that happened; hardship is seen coming."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from shared.auth import Role
from tests.integration.conftest import Suite
from tests.integration.test_disbursements import ask, member_known, settled
from tests.integration.test_reservations import DAY
from tests.support import bearer, eventually

YINGZE = "shanxi/taiyuan/yingze/bu-0004"
HR = bearer(Role.HR_INTEGRATION, org=YINGZE)
FINANCE = bearer(Role.FINANCE_OFFICER, org=YINGZE)


async def _members(suite: Suite, count: int) -> list[str]:
    return [
        await member_known(suite, headers=HR, base_union=YINGZE, name=f"预测{i}")
        for i in range(count)
    ]


async def _forecast(suite: Suite, benefit: str, amount: int, fmt: str = "json") -> Any:
    response = await suite.entitlements.client.post(
        "/v1/forecasts/batches",
        params={"format": fmt},
        json={"union": YINGZE, "benefit": benefit, "amount_fen": amount,
              "business_date": DAY.isoformat()},
        headers=FINANCE,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json() if fmt == "json" else _rows(response.text)


def _rows(text: str) -> dict[str, tuple[str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    next(reader)
    return {row[0]: (row[2].split()[-1], row[3]) for row in reader}


async def _run_batch(suite: Suite, benefit: str, amount: int) -> dict[str, tuple[str, str]]:
    created = await suite.disbursements.client.post(
        "/v1/disbursement-batches",
        json={"batch_key": f"f-{uuid.uuid4().hex[:8]}", "union": YINGZE, "benefit": benefit,
              "amount_fen": amount, "business_date": DAY.isoformat()},
        headers=FINANCE,
    )  # fmt: skip
    assert created.status_code == 202, created.text
    url = f"/v1/disbursement-batches/{created.json()['batch_id']}"

    async def done() -> dict[str, Any] | None:
        report = (await suite.disbursements.client.get(url, headers=FINANCE)).json()
        final = sum(report["by_status"].get(s, 0) for s in ("issued", "rejected"))
        return report if report["status"] == "submitted" and final == report["lines"] else None

    report = await eventually(done, timeout_s=60)
    lines = await suite.disbursements.client.get(report["lines_url"], headers=FINANCE)
    reader = csv.DictReader(io.StringIO(lines.text.lstrip("\ufeff")))
    outcome = {"issued": "approved", "rejected": "rejected"}
    return {r["member_id"]: (outcome[r["status"]], r["clause"]) for r in reader}


async def test_a_dry_run_equals_the_batch_that_follows_it_line_for_line(suite: Suite) -> None:
    members = await _members(suite, 4)
    near_cap = await ask(suite, members[0], "holiday_gift", 200000, headers=FINANCE)
    assert (await settled(suite, near_cap["disbursement_id"], FINANCE))["status"] == "issued"

    priced = await _forecast(suite, "holiday_gift", 30000)
    assert priced["refused"] >= 1 and priced["approved"] >= 3
    assert priced["cost_fen"] == priced["approved"] * 30000 and "元" in priced["cost"]
    refusal = next(r for r in priced["refusals"] if r["clause"] == "7.holiday")
    assert refusal["rule"] == "cap.exceeded" and "剩余额度" in refusal["example_reason"]
    lines = await _forecast(suite, "holiday_gift", 30000, fmt="csv")
    assert lines[members[0]] == ("rejected", "7.holiday")
    assert await _run_batch(suite, "holiday_gift", 30000) == lines  # and it reserved nothing


async def test_a_dry_run_says_when_a_union_level_limit_will_be_passed(suite: Suite) -> None:
    members = await _members(suite, 3)
    finances = await suite.entitlements.client.put(
        f"/v1/unions/{YINGZE}/finances/2026",
        json={"dues_income_fen": 10000, "budget_fen": 10_000_000, "consumption_share_fen": 0},
        headers=FINANCE,
    )
    assert finances.status_code == 200
    before = await _forecast(suite, "culture_sports", 40000)
    headroom = before["union_headroom"][0]
    assert (headroom["rule"], headroom["clause"], headroom["limit_fen"]) == (
        "culture_sports_topup",
        "3.topup",
        50000,  # dues 100 yuan x (1 + 4)
    )
    assert before["approved"] == 1 and before["refused"] >= len(members) - 1
    assert headroom["after_fen"] == headroom["before_fen"] - 40000
    assert any("3.topup" in w for w in before["warnings"])
    real = await _run_batch(suite, "culture_sports", 40000)
    approved = sum(1 for outcome, _ in real.values() if outcome == "approved")
    assert approved == before["approved"]  # who gets the last of it follows arrival order
