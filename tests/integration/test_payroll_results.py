"""Payroll answers back: entries paid or failed, a failed payment re-issued or cancelled, and the
month-end reconciliation that adds up to the fen — on the real broker and database."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from jinhui.payroll import PayrollSimulator, answer, envelope
from services.disbursements.adapters.tables import payroll_entries
from services.disbursements.contracts import PayrollBenefitIssued
from services.disbursements.domain.payroll import BenefitPaid, BenefitPaymentFailed, FailureReason
from shared.auth import Role
from shared.envelope import Envelope
from shared.kafka.topics import PAYROLL_BENEFITS, PAYROLL_RESULTS, dlq
from tests.integration.conftest import Suite
from tests.integration.test_disbursements import ask, member_known, settled
from tests.support import bearer, eventually, header, read_topic, topic_ends

PERIOD = "2026-03"
ADMIN = bearer(Role.ADMIN, org="shanxi")
CLOSED = (FailureReason.ACCOUNT_CLOSED, "工资卡已销户")


async def joined(suite: Suite, union: str, **overrides: Any) -> str:
    hr = bearer(Role.HR_INTEGRATION, org=union)
    return await member_known(suite, base_union=union, headers=hr, **overrides)


def gift(suite: Suite, member: str, benefit: str, fen: int, officer: dict[str, str]) -> Any:
    """The disbursement, once decided."""

    async def asked() -> dict[str, Any]:
        made = await ask(suite, member, benefit, fen, headers=officer)
        return await settled(suite, made["disbursement_id"], officer)

    return asked()


async def new_union(suite: Suite) -> tuple[str, dict[str, str]]:
    """A base union of its own, so that its pay period holds only this test's entries."""
    path = f"shanxi/taiyuan/xiaodian/bu-p{uuid.uuid4().hex[:8]}"
    response = await suite.members.client.put(
        "/v1/orgs",
        json={"units": [{"path": path, "name": "测试工资对账工会", "kind": "base"}]},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    return path, bearer(Role.FINANCE_OFFICER, org=path)


@asynccontextmanager
async def pay_run(
    suite: Suite, members: set[str], fails: Callable[[PayrollBenefitIssued], bool]
) -> AsyncIterator[PayrollSimulator]:
    """The payroll simulator answering these members' entries: failed where `fails` says."""

    def decide(entry: PayrollBenefitIssued) -> tuple[FailureReason, str] | None:
        return CLOSED if fails(entry) else None

    simulator = PayrollSimulator(
        suite.disbursements.runtime.settings.kafka_bootstrap_servers,
        decide=decide,
        group_id=f"payroll.test-{uuid.uuid4().hex[:8]}",
        accepts=lambda entry: entry.member_id in members,
    )
    task = asyncio.create_task(simulator.run())
    try:
        yield simulator
    finally:
        task.cancel()
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError), outcome  # the pay run never failed


async def status_becomes(suite: Suite, did: str, status: str, headers: dict[str, str]) -> None:
    seen: list[str] = []

    async def reached() -> bool:
        response = await suite.disbursements.client.get(f"/v1/disbursements/{did}", headers=headers)
        seen.append(response.json()["status"])
        return seen[-1] == status

    try:
        await eventually(reached)
    except AssertionError:
        raise AssertionError(f"{did} stayed {seen[-1]}, not {status}") from None


async def reconciliation(suite: Suite, union: str, headers: dict[str, str], **params: str) -> Any:
    response = await suite.disbursements.client.get(
        "/v1/finance/reconciliation",
        params={"pay_period": PERIOD, "union": union, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response


async def test_a_pay_run_answers_and_the_month_reconciles_to_the_fen(suite: Suite) -> None:
    union, officer = await new_union(suite)
    members = [await joined(suite, union) for _ in range(4)]
    batch = await suite.disbursements.client.post(
        "/v1/disbursement-batches",
        json={"batch_key": f"b-{uuid.uuid4()}", "union": union, "benefit": "holiday_gift",
              "amount_fen": 30_000, "business_date": "2026-03-01"},
        headers=officer,
    )  # fmt: skip
    assert batch.status_code == 202, batch.text

    async def batch_issued() -> bool:
        report = await suite.disbursements.client.get(
            f"/v1/disbursement-batches/{batch.json()['batch_id']}", headers=officer
        )
        return bool(report.json()["by_status"] == {"issued": 4})

    await eventually(batch_issued)
    single = (await gift(suite, members[0], "holiday_gift", 12_345, officer))["disbursement_id"]
    dids = [f"{batch.json()['batch_id']}-{m}" for m in members] + [single]
    unlucky = members[2]
    async with pay_run(suite, set(members), lambda entry: entry.member_id == unlucky):
        for did in dids:
            failing = did.endswith(unlucky)
            await status_becomes(suite, did, "payment_failed" if failing else "paid", officer)

    body = (await reconciliation(suite, union, officer)).json()
    totals = {k: (v["count"], v["amount_fen"]) for k, v in body["totals"].items()}
    assert totals == {
        "issued": (5, 132_345),
        "paid": (4, 102_345),
        "failed": (1, 30_000),
        "unanswered": (0, 0),
        "reversed": (0, 0),
    }
    assert body["totals"]["paid"]["amount_yuan"] == "1023.45"
    failed = next(line for line in body["lines"] if line["state"] == "failed")
    assert (failed["failure_code"], failed["disbursement_status"]) == (
        "account_closed",
        "payment_failed",
    )
    paid = next(line for line in body["lines"] if line["state"] == "paid")
    assert paid["paid_on"] == "2026-03-25" and paid["payroll_reference"].startswith("PR202603-")
    assert {line["subject_code"] for line in body["lines"]} == {"50104"}

    text = (await reconciliation(suite, union, officer, format="csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["序号/line", "工号/employee_number", "姓名/name"]
    assert sum(int(r[10]) for r in rows[1:] if r[8] == "已支付 paid") == 102_345
    assert any(r[14].startswith("银行账户已销户 account_closed") for r in rows[1:])

    book = load_workbook(
        io.BytesIO((await reconciliation(suite, union, officer, format="xlsx")).content)
    )
    summary = {row[0]: row[1:] for row in book["汇总 summary"].iter_rows(values_only=True)}
    assert summary["已支付 paid"] == (4, 1023.45, 102_345)  # yuan as a number, and exact fen
    assert book["明细 lines"].max_row == 6  # the header and five lines

    spending = await suite.disbursements.client.get(
        "/v1/finance/spending", params={"year": 2026, "union": union}, headers=officer
    )
    row = spending.json()[0]
    assert (row["issued_fen"], row["subject_code"]) == (132_345, "50104")  # failed still held


async def test_a_failed_payment_re_issued_is_paid_once_on_the_same_cap(suite: Suite) -> None:
    union, officer = await new_union(suite)
    member = await joined(suite, union)
    did = (await gift(suite, member, "holiday_gift", 40_000, officer))["disbursement_id"]
    async with pay_run(suite, {member}, lambda entry: entry.entry_id.endswith("/issued")):
        await status_becomes(suite, did, "payment_failed", officer)
        reversed_ = await suite.disbursements.client.post(
            f"/v1/disbursements/{did}/reverse", json={"reason": "误发"}, headers=officer
        )
        assert reversed_.status_code == 409, reversed_.text  # nothing was paid to take back
        again = await suite.disbursements.client.post(
            f"/v1/disbursements/{did}/reissue", json={"reason": "已更换工资卡"}, headers=officer
        )
        assert again.status_code == 200 and again.json()["status"] == "issued", again.text
        await status_becomes(suite, did, "paid", officer)
        twice = await suite.disbursements.client.post(
            f"/v1/disbursements/{did}/reissue", json={"reason": "再发"}, headers=officer
        )
        assert twice.status_code == 409

    body = (await reconciliation(suite, union, officer)).json()
    states = sorted((line["kind"], line["state"]) for line in body["lines"])
    assert states == [("issued", "failed"), ("reissued", "paid")]
    assert body["totals"]["paid"]["amount_fen"] == 40_000
    ledger = await suite.ledger(member, officer)
    assert ledger is not None
    line = next(b for b in ledger.json()["benefits"] if b["benefit"] == "holiday_gift")
    assert line["used_fen"] == 40_000  # one use, whatever payroll tried


async def test_a_failed_payment_cancelled_frees_the_cap_and_tells_payroll_nothing(
    suite: Suite,
) -> None:
    union, officer = await new_union(suite)
    member = await joined(suite, union, birth_date="1988-02-11")  # birthday gone by 1 March
    did = (await gift(suite, member, "birthday_gift", 30_000, officer))["disbursement_id"]
    async with pay_run(suite, {member}, lambda entry: True):
        await status_becomes(suite, did, "payment_failed", officer)
    bootstrap = suite.disbursements.runtime.settings.kafka_bootstrap_servers
    ends = await topic_ends(bootstrap, PAYROLL_BENEFITS)
    cancelled = await suite.disbursements.client.post(
        f"/v1/disbursements/{did}/cancel", json={"reason": "会员已离职"}, headers=officer
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    async def freed() -> bool:
        ledger = await suite.ledger(member, officer)
        assert ledger is not None
        line = next(b for b in ledger.json()["benefits"] if b["benefit"] == "birthday_gift")
        return bool((line["used_fen"], line["reserved_fen"], line["count"]) == (0, 0, 0))

    await eventually(freed)
    # The gift counts once a year: given back, a new one is granted.
    second = await gift(suite, member, "birthday_gift", 30_000, officer)
    assert second["status"] == "issued", second
    after = await read_topic(
        bootstrap,
        PAYROLL_BENEFITS,
        start=ends,
        until=lambda rs: any(second["disbursement_id"].encode() in r.value for r in rs),
    )
    assert not [r for r in after if did.encode() in r.value]  # no correction for the cancelled


async def test_answers_sent_again_or_out_of_order_change_nothing(suite: Suite) -> None:
    union, officer = await new_union(suite)
    member = await joined(suite, union)
    did = (await gift(suite, member, "holiday_gift", 10_000, officer))["disbursement_id"]
    reversed_ = await suite.disbursements.client.post(
        f"/v1/disbursements/{did}/reverse", json={"reason": "发放对象有误"}, headers=officer
    )
    assert reversed_.status_code == 200, reversed_.text
    entry = PayrollBenefitIssued(
        entry_id=f"{did}/issued", disbursement_id=did, member_id=member, base_union=union,
        employee_number=None, employee_number_source=None, benefit="holiday_gift",
        amount_fen=10_000, business_date=date(2026, 3, 1), pay_period=PERIOD,
    )  # fmt: skip
    paid = answer(entry, lambda e: None)
    assert isinstance(paid, BenefitPaid)
    contradicting = BenefitPaymentFailed(
        entry_id=entry.entry_id, disbursement_id=did, member_id=member,
        reason_code=FailureReason.BANK_REJECTED, reason_text="银行退票",
    )  # fmt: skip
    unknown = BenefitPaid(**{**paid.model_dump(), "entry_id": f"{did}/issued-9"})
    producer = AIOKafkaProducer(
        bootstrap_servers=suite.disbursements.runtime.settings.kafka_bootstrap_servers
    )
    await producer.start()
    try:
        first = envelope(paid)
        resent = Envelope.wrap(paid, source="/payroll/other-run", time=datetime.now(UTC),
                               partition_key=member)  # fmt: skip
        for message in (first, first, resent):  # the same answer, redelivered and re-sent
            await _send(producer, message)
        refused = [envelope(contradicting), envelope(unknown)]
        for message in refused:
            await _send(producer, message)
    finally:
        await producer.stop()

    letters = await read_topic(
        suite.disbursements.runtime.settings.kafka_bootstrap_servers,
        dlq(PAYROLL_RESULTS),
        until=lambda rs: {m.id for m in refused} <= {header(r, "ce_id") for r in rs},
    )
    reasons = {header(r, "ce_id"): header(r, "dlq_detail") or "" for r in letters}
    assert "payroll.answered" in reasons[refused[0].id]
    assert "payroll.unknown-entry" in reasons[refused[1].id]
    view = await suite.disbursements.client.get(f"/v1/disbursements/{did}", headers=officer)
    assert view.json()["status"] == "reversed"  # paid after the reversal: the reversal stands
    runtime = suite.disbursements.runtime
    events = runtime.tables.events.c
    async with runtime.sessions() as session:
        applied = await session.scalar(
            select(func.count()).where(
                events.stream_id == f"disbursement-{did}",
                events.event_type == "jinhui.disbursements.DisbursementPaid",
            )
        )
    assert applied == 1
    body = (await reconciliation(suite, union, officer)).json()
    assert sorted((line["kind"], line["state"]) for line in body["lines"]) == [
        ("issued", "paid"),
        ("reversed", "reversed"),
    ]


async def _send(producer: AIOKafkaProducer, message: Any) -> None:
    key, value, headers = message.to_kafka()
    await producer.send_and_wait(PAYROLL_RESULTS, value, key=key, headers=headers)


async def test_entries_payroll_left_unanswered_are_listed_to_chase(suite: Suite) -> None:
    union, officer = await new_union(suite)
    member = await joined(suite, union)
    did = (await gift(suite, member, "holiday_gift", 8_800, officer))["disbursement_id"]
    runtime = suite.disbursements.runtime

    async def listed(**params: Any) -> list[str]:
        response = await suite.disbursements.client.get(
            "/v1/finance/payroll/unanswered", params={"union": union, **params}, headers=officer
        )
        assert response.status_code == 200, response.text
        return [row["entry_id"] for row in response.json()]

    await eventually(lambda: _entry_sent(runtime, did))
    assert await listed() == []  # sent today: not yet late (10 days by default)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(payroll_entries)
            .where(payroll_entries.c.disbursement_id == did)
            .values(sent_at=func.now() - timedelta(days=11))
        )
    assert await listed() == [f"{did}/issued"]
    assert await listed(older_than_days=12) == []
    denied = await suite.disbursements.client.get(
        "/v1/finance/payroll/unanswered", headers=bearer(Role.CASEWORKER, org=union)
    )
    assert denied.status_code == 403
    async with pay_run(suite, {member}, lambda entry: False):
        await status_becomes(suite, did, "paid", officer)
    assert await listed() == []


async def _entry_sent(runtime: Any, did: str) -> bool:
    async with runtime.sessions() as session:
        found = await session.scalar(
            select(func.count()).where(payroll_entries.c.disbursement_id == did)
        )
    return bool(found)
