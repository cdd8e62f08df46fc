"""Disbursements end to end: members → disbursements → entitlements → disbursements → payroll,
on the real database and broker."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from services.disbursements.adapters.repository import directory_entry
from services.disbursements.adapters.tables import disbursements
from services.disbursements.service_layer.vouchers import expire_vouchers
from shared.auth import Role
from shared.kafka.topics import PAYROLL_BENEFITS
from tests.integration.conftest import OFFICER, UNION, Suite, register
from tests.support import bearer, eventually, header, read_topic

DAY = "2026-03-01"


async def member_known(suite: Suite, **overrides: Any) -> str:
    member_id = await register(suite, **overrides)
    reader = bearer(Role.AUDITOR, org="shanxi")

    async def known() -> bool:
        async with suite.disbursements.runtime.sessions() as session:
            found = await directory_entry(session, member_id)
        return found is not None and await suite.ledger(member_id, reader) is not None

    await eventually(known)
    return member_id


async def ask(
    suite: Suite,
    member_id: str,
    benefit: str,
    amount_fen: int,
    *,
    key: str | None = None,
    headers: dict[str, str] = OFFICER,
    **body: Any,
) -> dict[str, Any]:
    response = await suite.disbursements.client.post(
        "/v1/disbursements",
        json={
            "member_id": member_id,
            "benefit": benefit,
            "amount_fen": amount_fen,
            "business_date": DAY,
            **body,
        },
        headers={**headers, "Idempotency-Key": key or f"k-{uuid.uuid4()}"},
    )
    assert response.status_code in (202, 422), response.text
    return {"status_code": response.status_code, **response.json()}


async def settled(
    suite: Suite, disbursement_id: str, headers: dict[str, str] = OFFICER
) -> dict[str, Any]:
    response = await suite.disbursements.client.get(
        f"/v1/disbursements/{disbursement_id}", params={"wait": 20}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] != "pending", body
    return body


async def _line(suite: Suite, member_id: str, benefit: str) -> dict[str, Any]:
    response = await suite.ledger(member_id)
    assert response is not None
    return next(b for b in response.json()["benefits"] if b["benefit"] == benefit)


async def test_one_disbursement_from_request_to_payroll(suite: Suite) -> None:
    member_id = await member_known(suite, employee_number="E-7788")
    key = f"k-{uuid.uuid4()}"
    first = await ask(suite, member_id, "holiday_gift", 50000, key=key)
    assert first["status_code"] == 202 and first["status"] == "pending"
    assert first["status_url"] == f"/v1/disbursements/{first['disbursement_id']}"
    again = await ask(suite, member_id, "holiday_gift", 50000, key=key)
    assert again["disbursement_id"] == first["disbursement_id"]
    other_body = await ask(suite, member_id, "holiday_gift", 40000, key=key)
    assert other_body["status_code"] == 422 and other_body["rule"] == "idempotency.key-reused"

    done = await settled(suite, first["disbursement_id"])
    assert (done["status"], done["clause"], done["year"]) == ("issued", "7.holiday", 2026)
    assert done["remaining_fen"] == 170000

    async def committed() -> bool:
        return (await _line(suite, member_id, "holiday_gift"))["used_fen"] == 50000

    await eventually(committed)

    def payroll_has(records: list[Any]) -> bool:
        return any(first["disbursement_id"].encode() in r.value for r in records)

    records = await read_topic(
        suite.disbursements.runtime.settings.kafka_bootstrap_servers,
        PAYROLL_BENEFITS,
        until=payroll_has,
    )
    mine = [r for r in records if first["disbursement_id"].encode() in r.value]
    assert len(mine) == 1
    assert header(mine[0], "ce_type") == "jinhui.payroll.BenefitIssued"
    assert b'"employee_number":"E-7788"' in mine[0].value.replace(b" ", b"")
    assert b'"pay_period":"2026-03"' in mine[0].value.replace(b" ", b"")


async def test_over_the_cap_is_rejected_with_clause_and_remaining(suite: Suite) -> None:
    member_id = await member_known(suite)
    ok = await settled(
        suite, (await ask(suite, member_id, "culture_tourism_product", 25000))["disbursement_id"]
    )
    assert ok["status"] == "issued"
    over = await settled(
        suite, (await ask(suite, member_id, "culture_tourism_product", 5001))["disbursement_id"]
    )
    assert (over["status"], over["clause"], over["remaining_fen"]) == (
        "rejected",
        "4.culture-tourism",
        5000,
    )
    assert over["rule"] == "cap.exceeded" and "剩余额度 50.00 元" in over["reason"]
    assert "what remains" in over["reason_en"] and "50.00 yuan" in over["reason_en"]


async def test_concurrent_requests_for_one_member_hold_the_cap(suite: Suite) -> None:
    member_id = await member_known(suite)
    asked = await asyncio.gather(
        *(ask(suite, member_id, "culture_tourism_product", 10000) for _ in range(12))
    )
    results = await asyncio.gather(*(settled(suite, a["disbursement_id"]) for a in asked))
    assert sorted(r["status"] for r in results).count("issued") == 3
    assert (await _line(suite, member_id, "culture_tourism_product"))["remaining_fen"] == 0


def outing(**overrides: Any) -> dict[str, Any]:
    details = {
        "start_date": "2026-04-18",
        "end_date": "2026-04-19",
        "destination_city": "xinzhou",
        "scenic_area": "芦芽山",
        "cost_lines": [
            {"category": "transport", "amount_fen": 8000},
            {"category": "accommodation", "amount_fen": 30000},
            {"category": "meals", "amount_fen": 15000},
            {"category": "entrance_tickets", "amount_fen": 13500},
        ],
    }
    details.update(overrides)
    return details


async def test_outing_rules_from_reference_data_and_from_the_policy(suite: Suite) -> None:
    member_id = await member_known(suite)
    total = 8000 + 30000 + 15000 + 13500
    for place in ("wutaishan", "五台山风景名胜区", "高尔夫球场", "张家界国家森林公园", "五臺山",
                  "Wutai Mountain"):  # fmt: skip
        forbidden = await ask(suite, member_id, "outing", total, details=outing(scenic_area=place))
        assert (forbidden["status_code"], forbidden["rule"]) == (422, "outing.prohibited-area")
        assert forbidden["clause"] == "4.outing" and forbidden["source"]
    nowhere = await ask(suite, member_id, "outing", total, details=outing(destination_city="x"))
    assert (nowhere["status_code"], nowhere["rule"]) == (422, "outing.unknown-city")
    assert "taiyuan" in nowhere["known_cities"]
    # How long an outing lasts and what it pays for are the policy's: the decision refuses them.
    three_days = await ask(suite, member_id, "outing", total, details=outing(end_date="2026-04-20"))
    long_trip = await settled(suite, three_days["disbursement_id"])
    assert (long_trip["status"], long_trip["rule"], long_trip["clause"]) == (
        "rejected",
        "trip.duration",
        "4.outing",
    )
    assert long_trip["policy_version"] == "shanxi-2025-26" and long_trip["remaining_count"] == 4
    lines = [*outing()["cost_lines"], {"category": "souvenirs", "amount_fen": 100}]
    category = await ask(suite, member_id, "outing", total + 100, details=outing(cost_lines=lines))
    souvenirs = await settled(suite, category["disbursement_id"])
    assert (souvenirs["status"], souvenirs["rule"]) == ("rejected", "trip.cost-category")
    hotel = [*outing()["cost_lines"][:1], {"category": "accommodation", "amount_fen": 36000}]
    too_dear = await ask(suite, member_id, "outing", 44000, details=outing(cost_lines=hotel))
    assert (too_dear["status_code"], too_dear["rule"]) == (422, "outing.travel-standard")

    for day in ("2025-06-01", "2027-06-01"):  # a trip in a closed or a future year
        elsewhere = await ask(
            suite, member_id, "outing", total, details=outing(start_date=day, end_date=day)
        )
        assert (elsewhere["status_code"], elsewhere["rule"]) == (422, "details.date-outside-year")
        assert elsewhere["field"] == "details.start_date"
    in_chinese = outing(destination_city="忻州", scenic_area="太湖石博物馆")  # not 太湖
    trips = [await ask(suite, member_id, "outing", total, details=in_chinese)]
    trips += [await ask(suite, member_id, "outing", total, details=outing()) for _ in range(4)]
    statuses = [(await settled(suite, t["disbursement_id"]))["status"] for t in trips]
    assert statuses == ["issued"] * 4 + ["rejected"]


async def test_cancel_before_issue_and_reverse_after(suite: Suite) -> None:
    member_id = await member_known(suite)
    held = await ask(suite, member_id, "holiday_gift", 100000, issue_on_approval=False)
    assert (await settled(suite, held["disbursement_id"]))["status"] == "approved"
    cancelled = await suite.disbursements.client.post(
        f"/v1/disbursements/{held['disbursement_id']}/cancel",
        json={"reason": "the gift was not bought"},
        headers=OFFICER,
    )
    assert cancelled.json()["status"] == "cancelled"
    issued = await settled(
        suite, (await ask(suite, member_id, "holiday_gift", 60000))["disbursement_id"]
    )
    not_again = await suite.disbursements.client.post(
        f"/v1/disbursements/{issued['disbursement_id']}/cancel",
        json={"reason": "x"},
        headers=OFFICER,
    )
    assert not_again.status_code == 409
    reversed_ = await suite.disbursements.client.post(
        f"/v1/disbursements/{issued['disbursement_id']}/reverse",
        json={"reason": "paid to the wrong member"},
        headers=OFFICER,
    )
    assert reversed_.json()["status"] == "reversed"

    async def back_to_zero() -> bool:
        line = await _line(suite, member_id, "holiday_gift")
        return line["used_fen"] == 0 and line["reserved_fen"] == 0

    await eventually(back_to_zero)
    records = await read_topic(
        suite.disbursements.runtime.settings.kafka_bootstrap_servers,
        PAYROLL_BENEFITS,
        until=lambda rs: any(
            header(r, "ce_type") == "jinhui.payroll.BenefitReversed"
            and issued["disbursement_id"].encode() in r.value
            for r in rs
        ),
    )
    kinds = [header(r, "ce_type") for r in records if issued["disbursement_id"].encode() in r.value]
    assert kinds == ["jinhui.payroll.BenefitIssued", "jinhui.payroll.BenefitReversed"]


async def test_an_unused_voucher_expires_and_goes_back_to_the_cap(suite: Suite) -> None:
    member_id = await member_known(suite)
    set_expiry = await suite.entitlements.client.put(
        f"/v1/unions/{UNION}/standards/voucher",
        json={"effective_from": "2026-03-01", "expiry_days": 10},
        headers=OFFICER,
    )
    assert set_expiry.status_code == 200

    async def expiry_known() -> bool:
        probe = await ask(suite, member_id, "voucher", 100, details={"channel": "online"})
        if probe["status_code"] != 202:
            return False
        await suite.disbursements.client.post(
            f"/v1/disbursements/{probe['disbursement_id']}/cancel",
            json={"reason": "probe"},
            headers=OFFICER,
        )
        return bool(probe["expires_on"] == "2026-03-11")

    await eventually(expiry_known)
    voucher = await settled(
        suite,
        (await ask(suite, member_id, "voucher", 30000, details={"channel": "offline"}))[
            "disbursement_id"
        ],
    )
    assert (voucher["status"], voucher["expires_on"]) == ("issued", "2026-03-11")
    runtime = suite.disbursements.runtime
    assert await expire_vouchers(runtime.context, runtime) == 0
    suite.clock.set_business_date(date(2026, 3, 12))
    try:
        assert await expire_vouchers(runtime.context, runtime) >= 1
    finally:
        suite.clock.set_business_date(date(2026, 3, 1))
    expired = await settled(suite, voucher["disbursement_id"])
    assert (expired["status"], expired["reason"]) == ("reversed", "voucher expired unused")

    async def released() -> bool:
        """Given back, not merely reserved still: entitlements may hear of the issue late."""
        line = await _line(suite, member_id, "voucher")
        return (line["used_fen"], line["reserved_fen"], line["count"]) == (0, 0, 1)

    await eventually(released)  # the money goes back to the cap; the year's one voucher is used
    for as_of, used in (("2026-03-10", 30000), ("2026-03-11", 0)):  # released on its expiry day
        read = await suite.entitlements.client.get(
            f"/v1/members/{member_id}/ledgers/2026?as_of={as_of}", headers=OFFICER
        )
        line = next(b for b in read.json()["benefits"] if b["benefit"] == "voucher")
        if (line["used_fen"], line["count"]) != (used, 1):
            entries = await suite.entitlements.client.get(
                f"/v1/members/{member_id}/ledgers/2026/entries", headers=OFFICER
            )
            raise AssertionError(f"as of {as_of}: {line}; entries: {entries.text}")
    second = await settled(
        suite,
        (await ask(suite, member_id, "voucher", 100, details={"channel": "online"}))[
            "disbursement_id"
        ],
    )
    assert (second["status"], second["rule"]) == ("rejected", "count.exhausted")


async def test_a_voucher_that_would_be_expired_on_the_day_it_is_issued_is_refused(
    suite: Suite,
) -> None:
    member_id = await member_known(suite)
    late = await ask(
        suite, member_id, "voucher", 100, details={"channel": "online"}, business_date="2025-11-01"
    )
    assert (late["status_code"], late["rule"], late["field"]) == (
        422,
        "voucher.expired-on-issue",
        "business_date",
    )


def holiday_batch(union: str, amount_fen: int, key: str) -> dict[str, Any]:
    return {
        "batch_key": f"{key}-{uuid.uuid4().hex[:6]}",
        "union": union,
        "benefit": "holiday_gift",
        "amount_fen": amount_fen,
        "business_date": DAY,
    }


async def batch_settled(
    suite: Suite,
    body: dict[str, Any],
    headers: dict[str, str],
    *,
    lines: int,
    timeout_s: float = 120,
) -> tuple[str, dict[str, Any]]:
    """The batch's id and its report, once all its `lines` lines are issued or rejected."""
    created = await suite.disbursements.client.post(
        "/v1/disbursement-batches", json=body, headers=headers
    )
    assert created.status_code == 202, created.text
    batch_id = created.json()["batch_id"]

    async def finished() -> dict[str, Any] | None:
        report = (
            await suite.disbursements.client.get(
                f"/v1/disbursement-batches/{batch_id}", headers=headers
            )
        ).json()
        done = report["by_status"].get("issued", 0) + report["by_status"].get("rejected", 0)
        return report if report["status"] == "submitted" and done == lines else None

    return batch_id, await eventually(finished, timeout_s=timeout_s)


async def test_a_batch_pays_those_within_their_caps_and_never_twice(suite: Suite) -> None:
    union = "shanxi/coal/bu-0006"
    hr = bearer(Role.HR_INTEGRATION, org=union)
    finance = bearer(Role.FINANCE_OFFICER, org=union)
    members = [
        await member_known(suite, headers=hr, base_union=union, name=f"矿工{i}") for i in range(5)
    ]
    near_cap = await ask(suite, members[0], "holiday_gift", 200000, headers=finance)
    assert (await settled(suite, near_cap["disbursement_id"], finance))["status"] == "issued"

    body = holiday_batch(union, 30000, "mid-autumn")
    batch_id, report = await batch_settled(suite, body, finance, lines=5)
    assert report["by_status"] == {"issued": 4, "rejected": 1}
    assert report["amount_by_status_fen"]["issued"] == 120000
    assert await _counted_lines(suite, batch_id) == _reported(report)
    again = await suite.disbursements.client.post(
        "/v1/disbursement-batches", json=body, headers=finance
    )
    assert again.json()["batch_id"] == batch_id and again.json()["lines"] == 5
    lines = await suite.disbursements.client.get(report["lines_url"], headers=finance)
    rows = list(csv.reader(io.StringIO(lines.text.lstrip("\ufeff"))))
    assert len(rows) == 6 and rows[0][:3] == ["序号/line", "工号/employee_number", "姓名/name"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert all(r[2] for r in rows[1:])  # each line says whom it is for
    rejected = next(r for r in rows if r[4] == "未通过 rejected")
    assert members[0] in rejected and "7.holiday" in rejected
    issued = next(r for r in rows if r[4] == "已发放 issued")
    assert issued[5] == f"{int(issued[6]) // 100}.{int(issued[6]) % 100:02d}"  # yuan beside fen
    workbook = await suite.disbursements.client.get(
        report["lines_url"].replace(".csv", ".xlsx"), headers=finance
    )
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == rows[0] and len(cells) == 6  # the same columns and lines as the CSV
    same = next(c for c in cells if c[10] == issued[10])
    assert same[5] == Decimal(issued[6]) / 100 and same[6] == int(issued[6])  # numbers, exact
    assert same[1] == (issued[1] or None) and same[2] == issued[2]  # text stays text

    spending = await suite.disbursements.client.get(
        "/v1/finance/spending", params={"year": 2026, "union": union}, headers=finance
    )
    holiday = [r for r in spending.json() if r["benefit"] == "holiday_gift"]
    assert holiday == [
        {"union": union, "benefit": "holiday_gift", "month": 3, "issued_fen": 320000, "issued": 5,
         "subject_code": "50104", "subject_name": "职工活动支出—其他活动支出"}
    ]  # fmt: skip

    reversed_ = await suite.disbursements.client.post(
        f"/v1/disbursements/{issued[10]}/reverse", json={"reason": "重复发放"}, headers=finance
    )
    assert reversed_.json()["status"] == "reversed"
    batch_url = f"/v1/disbursement-batches/{batch_id}"
    after = (await suite.disbursements.client.get(batch_url, headers=finance)).json()
    assert after["by_status"] == {"issued": 3, "reversed": 1, "rejected": 1}
    assert after["amount_by_status_fen"] == {"issued": 90000, "reversed": 30000, "rejected": 30000}
    assert await _counted_lines(suite, batch_id) == _reported(after)


def _reported(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {s: (n, report["amount_by_status_fen"][s]) for s, n in report["by_status"].items()}


async def _counted_lines(suite: Suite, batch_id: str) -> dict[str, tuple[int, int]]:
    """The batch's lines counted in the table itself, which the report no longer reads."""
    d = disbursements.c
    query = (
        select(d.status, func.count(), func.sum(d.amount_fen))
        .where(d.batch_id == batch_id)
        .group_by(d.status)
    )
    async with suite.disbursements.runtime.sessions() as session:
        return {s: (n, int(fen)) for s, n, fen in (await session.execute(query)).all()}


async def test_one_disbursement_is_one_trace_across_the_services(
    suite: Suite, spans: InMemorySpanExporter
) -> None:
    member_id = await member_known(suite)
    asked = await ask(suite, member_id, "culture_sports", 10000)
    assert (await settled(suite, asked["disbursement_id"]))["status"] == "issued"

    async def committed() -> bool:
        return (await _line(suite, member_id, "culture_sports"))["used_fen"] == 10000

    await eventually(committed)
    finished = spans.get_finished_spans()
    post = next(
        s
        for s in reversed(finished)
        if s.name == "POST /v1/disbursements" and s.kind.name == "SERVER"
    )
    names = {s.name for s in finished if s.context.trace_id == post.context.trace_id}
    for expected in (
        "outbox relay disbursements.events.v1",
        "entitlements.disbursements process jinhui.disbursements.DisbursementRequested",
        "outbox relay entitlements.events.v1",
        "disbursements.entitlements process jinhui.entitlements.EntitlementReserved",
        "entitlements.disbursements process jinhui.disbursements.DisbursementIssued",
    ):
        assert any(expected in name for name in names), (expected, sorted(names))


async def test_recuperation_follows_the_unions_annual_plan(suite: Suite) -> None:
    planned = await member_known(suite)
    unplanned = await member_known(suite)
    plan = await suite.disbursements.client.put(
        f"/v1/recuperation-plans/{UNION}/2026",
        json={
            "window_from": "2026-04-01",
            "window_to": "2026-10-31",
            "participants": [planned],
            "union_subsidy_per_person_fen": 80000,
            "employer_fund_per_person_fen": 300000,
        },
        headers=OFFICER,
    )
    assert plan.status_code == 200, plan.text

    def trip(start: str = "2026-05-10", end: str = "2026-05-14") -> dict[str, Any]:
        return {
            "plan_year": 2026,
            "start_date": start,
            "end_date": end,
            "employer_welfare_fund_fen": 300000,
        }

    not_planned = await ask(suite, unplanned, "recuperation", 50000, details=trip())
    assert (not_planned["status_code"], not_planned["rule"]) == (422, "recuperation.not-in-plan")
    outside = await ask(
        suite, planned, "recuperation", 50000, details=trip("2026-11-02", "2026-11-06")
    )
    assert outside["rule"] == "recuperation.window"
    too_much = await ask(suite, planned, "recuperation", 80001, details=trip())
    assert too_much["rule"] == "recuperation.subsidy"
    went = await ask(suite, planned, "recuperation", 80000, details=trip())
    assert (await settled(suite, went["disbursement_id"]))["status"] == "issued"
    view = (
        await suite.disbursements.client.get(
            f"/v1/recuperation-plans/{UNION}/2026", headers=OFFICER
        )
    ).json()
    assert view["participation"] == {planned: "issued"} and view["not_yet_sent"] == []
    retry = await ask(
        suite, planned, "recuperation", 80000, details=trip("2026-06-10", "2026-06-14")
    )
    refused = await settled(suite, retry["disbursement_id"])
    assert (refused["status"], refused["rule"]) == ("rejected", "count.exhausted")
    view = (
        await suite.disbursements.client.get(
            f"/v1/recuperation-plans/{UNION}/2026", headers=OFFICER
        )
    ).json()
    assert view["participation"] == {planned: "issued"} and view["not_yet_sent"] == []


async def test_a_member_registered_a_moment_ago_is_waited_for_not_404(suite: Suite) -> None:
    """A member registered on the registry reaches disbursements over Kafka: asked for at once,
    the member was once 404 for up to five seconds. With `wait`, the request waits for it."""
    member_id = await register(suite)  # and nothing waited for its arrival downstream
    asked = await suite.disbursements.client.post(
        "/v1/disbursements",
        params={"wait": 30},
        json={"member_id": member_id, "benefit": "holiday_gift", "amount_fen": 100,
              "business_date": DAY},
        headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}"},
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    made_up = await suite.disbursements.client.post(
        "/v1/disbursements",
        params={"wait": 1},
        json={"member_id": "m-never-registered", "benefit": "holiday_gift", "amount_fen": 100,
              "business_date": DAY},
        headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}"},
    )  # fmt: skip
    assert made_up.status_code == 404, made_up.text


async def test_a_batch_opens_lines_only_a_few_chunks_ahead_of_their_decisions(
    suite: Suite,
) -> None:
    """The worker waits while a batch's undecided lines fill its window, and goes on once
    they are decided."""
    from dataclasses import replace

    from services.disbursements.adapters.tables import disbursements

    runtime = suite.disbursements.runtime
    worker = replace(runtime.services["batches"], chunk=1, ahead_chunks=1, ahead_poll_s=0.05)
    batch_id = f"b-window-{uuid.uuid4().hex[:8]}"
    line = {
        "disbursement_id": f"{batch_id}-m-1",
        "member_id": "m-window",
        "base_union": UNION,
        "benefit": "holiday_gift",
        "amount_fen": 100,
        "business_date": date(2026, 3, 1),
        "status": "pending",
        "details": {},
        "batch_id": batch_id,
        "requested_by": "test",
    }
    async with runtime.sessions() as session, session.begin():
        await session.execute(disbursements.insert().values(**line))
    waiting = asyncio.create_task(worker._not_too_far_ahead(batch_id))
    await asyncio.sleep(0.5)
    assert not waiting.done()  # one undecided line fills a window of one
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            disbursements.update()
            .where(disbursements.c.disbursement_id == line["disbursement_id"])
            .values(status="rejected")
        )
    await asyncio.wait_for(waiting, 120)  # decided: the worker goes on
