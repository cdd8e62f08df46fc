"""Foresight: a batch priced before it runs equals the batch that follows it; a draft policy is
tried on a year that happened; hardship is seen coming."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from pathlib import Path
from typing import Any

from shared.auth import Role
from tests.integration.conftest import Suite
from tests.integration.test_disbursements import ask, member_known, settled
from tests.integration.test_reservations import DAY
from tests.support import bearer, eventually

ROOT = Path(__file__).resolve().parents[2]
YINGZE = "shanxi/taiyuan/yingze/bu-0004"
HR = bearer(Role.HR_INTEGRATION, org=YINGZE)
FINANCE = bearer(Role.FINANCE_OFFICER, org=YINGZE)


async def _members(suite: Suite, count: int) -> list[str]:
    return [
        await member_known(suite, headers=HR, base_union=YINGZE, name=f"预测{i}")
        for i in range(count)
    ]


async def _finances(suite: Suite, *, budget_fen: int) -> None:
    """Dues of 100 yuan (culture and sports: 500 yuan with the top-up) and this budget."""
    finances = await suite.entitlements.client.put(
        f"/v1/unions/{YINGZE}/finances/2026",
        json={"dues_income_fen": 10000, "budget_fen": budget_fen, "consumption_share_fen": 0},
        headers=FINANCE,
    )
    assert finances.status_code == 200


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

    report = await eventually(done, timeout_s=120)
    lines = await suite.disbursements.client.get(report["lines_url"], headers=FINANCE)
    reader = csv.DictReader(io.StringIO(lines.text.lstrip("\ufeff")))
    outcome = {"issued": "approved", "rejected": "rejected"}
    return {
        r["会员编号/member_id"]: (outcome[r["结果/status"].split()[-1]], r["条款/clause"])
        for r in reader
    }


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
    await _finances(suite, budget_fen=10_000_000)
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


async def _what_if(suite: Suite, draft: dict[str, Any]) -> dict[str, Any]:
    response = await suite.entitlements.client.post(
        "/v1/policies/what-if",
        json={"draft": draft, "year": 2026, "union": YINGZE},
        headers=bearer(Role.ADMIN, org="shanxi"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_draft_policy_is_tried_on_the_year_and_nothing_is_written(suite: Suite) -> None:
    current = (
        await suite.entitlements.client.get("/v1/policies/shanxi-2025-26", headers=FINANCE)
    ).json()

    async def settled_union() -> Any:
        found = await suite.entitlements.client.get(
            f"/v1/unions/{YINGZE}/ledgers/2026", headers=FINANCE
        )
        return found if all(line["reserved_fen"] == 0 for line in found.json()["lines"]) else None

    before = await eventually(settled_union)
    same = await _what_if(suite, {**current, "version": "draft-same"})
    assert same["requests"] > 5 and same["changed"] == 0  # the live decisions, exactly

    stricter = {**current, "version": "draft-holiday-1000"}
    stricter["member_benefits"] = {
        **current["member_benefits"],
        "holiday_gift": {**current["member_benefits"]["holiday_gift"], "cap_fen": 100000},
    }
    tried = await _what_if(suite, stricter)
    changed = [d for d in tried["differences"] if d["benefit"] == "holiday_gift"]
    refused_now = [d for d in changed if d["allowed_before"] and not d["allowed_after"]]
    assert refused_now and {d["rule_after"] for d in refused_now} == {"cap.exceeded"}
    assert {d["clause_after"] for d in refused_now} == {"7.holiday"}
    holiday = [t for t in tried["totals"] if t["benefit"] == "holiday_gift"]
    assert sum(t["fen_after"] for t in holiday) < sum(t["fen_before"] for t in holiday)
    after = await suite.entitlements.client.get(
        f"/v1/unions/{YINGZE}/ledgers/2026", headers=FINANCE
    )
    assert after.json() == before.json()  # nothing written
    refused = await suite.entitlements.client.post(
        "/v1/policies/what-if",
        json={"draft": stricter, "year": 2026},
        headers=FINANCE,
    )
    assert refused.status_code == 403


async def test_the_what_if_command_shows_progress_and_writes_every_change(
    suite: Suite, tmp_path: Path
) -> None:
    import yaml
    from typer.testing import CliRunner

    from jinhui.cli import app

    policy = yaml.safe_load(
        (ROOT / "services/entitlements/policies/shanxi-2025-26.yaml").read_text(encoding="utf-8")
    )
    policy["version"] = "draft-cli"
    policy["member_benefits"]["holiday_gift"]["cap_fen"] = 100000
    draft = tmp_path / "draft.yaml"
    draft.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "changes.csv"
    url = suite.entitlements.runtime.settings.database_url
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["what-if", "--draft", str(draft), "--year", "2026", "--union", YINGZE,
         "--out", str(out), "--database-url", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "decided otherwise" in result.output
    assert out.read_text(encoding="utf-8").lstrip("\ufeff").startswith("会员号 member_id")


async def test_a_member_who_loses_the_job_is_watched_by_the_right_union_only(
    suite: Suite, hardship: tuple[Any, Any]
) -> None:
    svc, _ = hardship
    xiaodian = {
        **bearer(Role.CASEWORKER, org="shanxi/taiyuan/xiaodian"),
        "X-Access-Reason": "watch",
    }
    yingze = {**bearer(Role.CASEWORKER, org="shanxi/taiyuan/yingze"), "X-Access-Reason": "watch"}
    member_id = await member_known(suite)  # in xiaodian/bu-0001
    retired = await member_known(suite)
    for who, reason in ((member_id, "left"), (retired, "retired")):
        ended = await suite.members.client.post(
            f"/v1/members/{who}/end",
            json={"reason": reason, "effective_date": DAY.isoformat()},
            headers=bearer(Role.HR_INTEGRATION, org="shanxi/taiyuan/xiaodian/bu-0001"),
        )
        assert ended.status_code == 200, ended.text

    async def watched() -> dict[str, Any] | None:
        listed = await svc.client.get("/v1/hardship/watch-list", headers=xiaodian)
        assert listed.status_code == 200, listed.text
        return next((e for e in listed.json() if e["member_id"] == member_id), None)

    entry = await eventually(watched, timeout_s=120)
    assert (entry["rule"], entry["title"]) == ("membership_ended", "离职或失业")
    assert entry["look_again_on"] > entry["raised_on"] and entry["union_path"].endswith("bu-0001")
    listed = (await svc.client.get("/v1/hardship/watch-list", headers=xiaodian)).json()
    assert retired not in {e["member_id"] for e in listed}  # retiring is no sign of hardship
    other = await svc.client.get("/v1/hardship/watch-list", headers=yingze)
    assert member_id not in other.text
    cleared = await svc.client.post(
        f"/v1/hardship/watch-list/{entry['id']}/clear",
        json={"reason": "已回访，已再就业"},
        headers=xiaodian,
    )
    assert cleared.status_code == 200 and entry["id"] not in {e["id"] for e in cleared.json()}


async def test_a_household_out_of_hardship_is_watched_for_a_relapse(
    suite: Suite, hardship: tuple[Any, Any]
) -> None:
    from tests.integration.test_hardship import CASEWORKER, household

    svc, _ = hardship
    member_id = await member_known(suite)
    opened = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": "shanxi/taiyuan/xiaodian", "source": "survey",
              "household": household(member_id, 50000)},
        headers=CASEWORKER,
    )  # fmt: skip
    case_id = opened.json()["case_id"]
    for step in ("assess", "register", "exit"):
        done = await svc.client.post(f"/v1/hardship/cases/{case_id}/{step}", headers=CASEWORKER)
        assert done.status_code == 200, done.text
    listed = (await svc.client.get("/v1/hardship/watch-list", headers=CASEWORKER)).json()
    relapse = [e for e in listed if e["member_id"] == member_id]
    assert [e["rule"] for e in relapse] == ["relapse_after_exit"]
    assert relapse[0]["look_again_on"] == "2026-08-28"  # 180 days after the exit


async def test_a_dry_run_warns_when_a_batch_would_pass_the_unions_budget(suite: Suite) -> None:
    """A holiday-gift forecast costing far more than the recorded budget once answered with no
    warning: only culture and sports were checked."""
    await _members(suite, 2)
    await _finances(suite, budget_fen=100_000)
    priced = await _forecast(suite, "holiday_gift", 30000)
    budget = next(b for b in priced["budgets"] if b["union"] == YINGZE)
    assert budget["budget_fen"] == 100_000 and budget["batch_fen"] == priced["cost_fen"]
    assert budget["after_fen"] == 100_000 - budget["spent_fen"] - budget["batch_fen"] < 0
    assert any("超过年度预算" in w for w in priced["warnings"]), priced["warnings"]
