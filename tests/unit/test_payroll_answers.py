"""Payroll's answers on the disbursement aggregate, without I/O: applied once, in any order
relative to a reversal or a re-issue; a failed payment re-issued on its reservation or
cancelled back to the cap; and every benefit booked to an accounting subject."""

from __future__ import annotations

from datetime import date

import pytest

from jinhui.payroll import answer, by_share, envelope
from services.disbursements.contracts import (
    DisbursementReversed,
    PayrollBenefitIssued,
    PayrollBenefitReversed,
)
from services.disbursements.domain.accounts import AccountingSubjects
from services.disbursements.domain.events import DisbursementApproved, DisbursementOpened
from services.disbursements.domain.model import Disbursement, Employee, UnknownEntry
from services.disbursements.domain.payroll import BenefitPaid, BenefitPaymentFailed, FailureReason
from services.entitlements.contracts import Benefit
from shared.errors import Conflict

DAY = date(2026, 3, 1)


def issued(did: str = "d-1") -> Disbursement:
    disbursement = Disbursement(f"disbursement-{did}")
    disbursement.open(
        DisbursementOpened(
            disbursement_id=did, member_id="m-1", base_union="shanxi/bu-1",
            benefit="holiday_gift", amount_fen=30_000, business_date=DAY, requested_by="officer",
        )
    )  # fmt: skip
    approved = DisbursementApproved(
        disbursement_id=did, year=2026, clause="7.holiday", policy_version="v",
        remaining_fen=0, remaining_count=None,
    )  # fmt: skip
    disbursement.decided(approved, Employee("E-1", "hr"))
    assert disbursement.status == "issued"
    disbursement.pending.clear()
    return disbursement


def paid(entry: str) -> BenefitPaid:
    return BenefitPaid(
        entry_id=entry, disbursement_id="d-1", member_id="m-1", pay_period="2026-03",
        paid_on=date(2026, 3, 25), payroll_reference="PR-1",
    )  # fmt: skip


def failed(entry: str) -> BenefitPaymentFailed:
    return BenefitPaymentFailed(
        entry_id=entry, disbursement_id="d-1", member_id="m-1",
        reason_code=FailureReason.ACCOUNT_CLOSED, reason_text="工资卡已销户",
    )  # fmt: skip


def test_an_answer_is_applied_once_and_a_contradiction_is_refused() -> None:
    disbursement = issued()
    assert disbursement.answer(paid("d-1/issued")) is True
    assert disbursement.status == "paid"
    assert disbursement.answer(paid("d-1/issued")) is False  # the same answer again
    with pytest.raises(Conflict):
        disbursement.answer(failed("d-1/issued"))
    with pytest.raises(UnknownEntry):
        disbursement.answer(paid("d-1/reissued-7"))
    with pytest.raises(UnknownEntry):
        disbursement.answer(paid("d-1/issued").model_copy(update={"member_id": "m-2"}))
    assert len(disbursement.pending) == 1


def test_a_paid_benefit_can_be_reversed_but_a_failed_one_cannot() -> None:
    disbursement = issued()
    disbursement.answer(paid("d-1/issued"))
    disbursement.reverse("误发", Employee(), DAY)
    assert disbursement.status == "reversed"
    late = issued()
    late.reverse("误发", Employee(), DAY)
    late.answer(paid("d-1/issued"))  # payroll paid it before it heard of the reversal
    assert late.status == "reversed"
    failing = issued()
    failing.answer(failed("d-1/issued"))
    with pytest.raises(Conflict):
        failing.reverse("误发", Employee(), DAY)


def test_a_failed_payment_re_issued_goes_out_under_a_new_entry_on_the_same_reservation() -> None:
    disbursement = issued()
    disbursement.answer(failed("d-1/issued"))
    assert disbursement.status == "payment_failed"
    disbursement.reissue("已更换工资卡", Employee("E-1", "hr"), date(2026, 4, 2))
    sent = [e for e in disbursement.pending if isinstance(e, PayrollBenefitIssued)]
    assert [(e.entry_id, e.pay_period, e.amount_fen) for e in sent] == [
        ("d-1/reissued-2", "2026-04", 30_000)
    ]
    assert disbursement.status == "issued"
    disbursement.answer(failed("d-1/issued"))  # the old failure again: nothing moves
    assert disbursement.status == "issued"
    disbursement.answer(paid("d-1/reissued-2"))
    assert disbursement.status == "paid"
    with pytest.raises(Conflict):
        disbursement.reissue("再发", Employee(), date(2026, 4, 3))
    disbursement.reverse("误发", Employee(), date(2026, 5, 6))
    (correction,) = [e for e in disbursement.pending if isinstance(e, PayrollBenefitReversed)]
    assert (correction.reverses_entry_id, correction.pay_period) == ("d-1/reissued-2", "2026-05")


def test_a_failed_payment_cancelled_gives_the_use_back_and_tells_payroll_nothing() -> None:
    disbursement = issued()
    disbursement.answer(failed("d-1/issued"))
    disbursement.pending.clear()
    disbursement.cancel("会员已离职", date(2026, 4, 2))
    (event,) = disbursement.pending
    assert isinstance(event, DisbursementReversed) and event.unpaid
    assert not any(isinstance(e, PayrollBenefitReversed) for e in disbursement.pending)
    assert disbursement.status == "cancelled"


def test_the_simulator_answers_an_entry_the_same_way_under_the_same_id() -> None:
    entry = PayrollBenefitIssued(
        entry_id="d-9/issued", disbursement_id="d-9", member_id="m-9", base_union="shanxi/bu-1",
        employee_number=None, employee_number_source=None, benefit="holiday_gift",
        amount_fen=100, business_date=DAY, pay_period="2026-03",
    )  # fmt: skip
    decide = by_share(0.5)
    first, again = answer(entry, decide), answer(entry, decide)
    assert first == again and envelope(first).id == envelope(again).id
    shares = [
        by_share(0.1)(entry.model_copy(update={"entry_id": f"d-{n}/issued"})) for n in range(2000)
    ]
    assert 100 < sum(s is not None for s in shares) < 300  # about a tenth fail


def test_every_benefit_is_booked_to_a_subject_in_every_version() -> None:
    subjects = AccountingSubjects.bundled()
    for benefit in Benefit:
        subject = subjects.subject(benefit.value, DAY)
        assert subject is not None and subject.code.isdigit() and subject.name
    assert subjects.subject("hardship_relief", DAY).name.endswith("困难职工帮扶费")  # type: ignore[union-attr]
    assert subjects.subject("voucher", date(2009, 12, 31)) is None
    with pytest.raises(ValueError, match="maps no subject"):
        AccountingSubjects.load(
            {"versions": [{"version": "x", "effective_from": DAY, "source": "s", "subjects": {}}]}
        )
