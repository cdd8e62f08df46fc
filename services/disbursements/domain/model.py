"""The disbursement aggregate: stream `disbursement-<id>`, keyed by member id.

    pending ─▶ approved ─▶ issued ─▶ paid ─▶ reversed
       │          │          │  ▲  └───────────▶ reversed
       ▼          ▼          ▼  │ re-issued
    rejected   cancelled   payment_failed ─▶ cancelled

Entitlements decides (the saga's other half). Issuing tells payroll; payroll answers that the
entry was paid or that its payment failed (`domain/payroll.py`). A failed payment keeps its
reservation until finance re-issues it (a new entry, the same cap) or cancels it (the use goes
back to the cap; payroll hears of nothing new). Reversing corrects payroll and gives the amount
back to the member's cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.disbursements.contracts import (
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementRequested,
    DisbursementReversed,
    PayrollBenefitIssued,
    PayrollBenefitReversed,
    Trip,
)
from services.disbursements.domain.events import (
    DisbursementApproved,
    DisbursementOpened,
    DisbursementPaid,
    DisbursementPaymentFailed,
    DisbursementReissued,
    DisbursementRejected,
    VoucherRedeemed,
)
from services.disbursements.domain.payroll import BenefitPaid, BenefitPaymentFailed, PayrollResult
from services.entitlements.contracts import Benefit
from shared.aggregate import Aggregate
from shared.errors import Conflict
from shared.events import DomainEvent

# In the member's hands or on its way there: what a voucher's expiry and redemption act on.
HELD = ("issued", "paid")
# Issued spending: held, or waiting for finance after a failed payment (the reservation stays).
SPENT = ("issued", "paid", "payment_failed")


class UnknownEntry(LookupError):
    """A payroll answer naming an entry this disbursement never sent."""


@dataclass(frozen=True)
class Employee:
    """How payroll knows the member: the employee number and the HR system that issued it."""

    number: str | None = None
    source: str | None = None


class Disbursement(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.opened: DisbursementOpened | None = None
        self.status = "new"
        self.year: int | None = None
        self.redeemed = False
        self.employee_number: str | None = None
        self.entries: list[str] = []  # every payroll entry sent, the current issue last
        self.current_entry: str | None = None
        self.answers: dict[str, str] = {}  # entry id → "paid" | "failed"

    def partition_key(self) -> str:
        assert self.opened is not None
        return self.opened.member_id

    @property
    def id(self) -> str:
        assert self.opened is not None
        return self.opened.disbursement_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case DisbursementOpened():
                self.opened = event
                self.status = "pending"
            case DisbursementApproved():
                self.status, self.year = "approved", event.year
            case DisbursementRejected():
                self.status = "rejected"
            case DisbursementIssued():
                self.status = "issued"
            case DisbursementCancelled():
                self.status = "cancelled"
            case DisbursementReversed():
                self.status = "cancelled" if event.unpaid else "reversed"
            case VoucherRedeemed():
                self.redeemed = True
            case PayrollBenefitIssued():
                self.entries.append(event.entry_id)
                self.current_entry = event.entry_id
            case PayrollBenefitReversed():
                self.entries.append(event.entry_id)
            case DisbursementReissued():
                self.status = "issued"
            case DisbursementPaid() | DisbursementPaymentFailed():
                answer = "paid" if isinstance(event, DisbursementPaid) else "failed"
                self.answers[event.entry_id] = answer
                if event.current and self.status == "issued":
                    self.status = "paid" if answer == "paid" else "payment_failed"

    # --- decisions -----------------------------------------------------------------------------

    def open(self, opened: DisbursementOpened) -> None:
        if self.opened is not None:
            return
        self._record(opened)
        self._record(
            DisbursementRequested(
                disbursement_id=opened.disbursement_id,
                member_id=opened.member_id,
                benefit=Benefit(opened.benefit),
                amount_fen=opened.amount_fen,
                business_date=opened.business_date,
                requested_on=opened.requested_on,
                child_id=_text(opened.details.get("child_id")),
                granting_level=opened.granting_level,
                trip=_trip(opened.details),
            )
        )

    def decided(
        self, approved: DisbursementApproved | DisbursementRejected, employee: Employee
    ) -> None:
        """Entitlements answered. A late approval of a cancelled disbursement is released again."""
        assert self.opened is not None
        if self.status == "cancelled" and isinstance(approved, DisbursementApproved):
            self._record(self._cancelled(approved.year, "cancelled before the decision arrived"))
            return
        if self.status != "pending":
            return
        self._record(approved)
        if isinstance(approved, DisbursementApproved) and self.opened.issue_on_approval:
            self.issue(employee)

    def issue(self, employee: Employee) -> None:
        if self.status != "approved":
            raise Conflict(
                f"a {self.status} disbursement cannot be issued", rule="disbursement.state"
            )
        assert self.opened is not None and self.year is not None
        o = self.opened
        self._record(
            DisbursementIssued(
                disbursement_id=o.disbursement_id,
                member_id=o.member_id,
                business_date=o.business_date,
                year=self.year,
            )
        )
        self._record(PayrollBenefitIssued(**self._payroll(employee, "issued")))

    def cancel(self, reason: str, on: date | None = None) -> None:
        if self.status == "payment_failed":  # the use and its count back; payroll hears nothing
            self._record(self._reversed(reason, on, unpaid=True))
            return
        if self.status not in ("pending", "approved"):
            raise Conflict(
                f"a {self.status} disbursement cannot be cancelled"
                + ("; reverse it instead" if self.status in HELD else ""),
                rule="disbursement.state",
            )
        assert self.opened is not None
        self._record(self._cancelled(self.year or self.opened.business_date.year, reason, on))

    def _cancelled(self, year: int, reason: str, on: date | None = None) -> DisbursementCancelled:
        assert self.opened is not None
        return DisbursementCancelled(
            disbursement_id=self.opened.disbursement_id,
            member_id=self.opened.member_id,
            year=year,
            reason=reason,
            on=on,
        )

    def reverse(
        self, reason: str, employee: Employee, on: date, *, effective: date | None = None
    ) -> None:
        """Reversed on `on` (payroll corrects that month's pay run); the ledgers give the use
        back as of `effective` when it differs: an expired voucher is released on its expiry
        day, whenever the sweep noticed."""
        if self.status == "payment_failed":
            raise Conflict(
                "its payment failed, so nothing was paid to take back: re-issue or cancel it",
                rule="disbursement.state",
            )
        if self.status not in HELD:
            raise Conflict(
                f"only an issued disbursement can be reversed (this one is {self.status})",
                rule="disbursement.state",
            )
        assert self.opened is not None
        self._record(self._reversed(reason, effective or on))
        correction = {**self._payroll(employee, "reversed"), "pay_period": f"{on:%Y-%m}"}
        issued = self.current_entry or f"{self.opened.disbursement_id}/issued"
        self._record(PayrollBenefitReversed(**correction, reverses_entry_id=issued, reason=reason))

    def _reversed(self, reason: str, on: date | None, unpaid: bool = False) -> DisbursementReversed:
        """The use given back to the cap; `unpaid`: its count too (payroll never paid it)."""
        assert self.opened is not None and self.year is not None
        return DisbursementReversed(
            disbursement_id=self.opened.disbursement_id,
            member_id=self.opened.member_id,
            year=self.year,
            reason=reason,
            on=on,
            unpaid=unpaid,
        )

    def reissue(self, reason: str, employee: Employee, on: date) -> None:
        """A failed payment sent to payroll again in the pay period of `on`, under a new entry:
        the same member, benefit and amount, on the reservation it already holds."""
        if self.status != "payment_failed":
            raise Conflict(
                f"only a failed payment is re-issued (this one is {self.status})",
                rule="disbursement.state",
            )
        assert self.opened is not None
        entry = f"{self.opened.disbursement_id}/reissued-{len(self.entries) + 1}"
        self._record(
            DisbursementReissued(
                disbursement_id=self.opened.disbursement_id, entry_id=entry, on=on, reason=reason
            )
        )
        payroll = {**self._payroll(employee, "issued"), "entry_id": entry}
        self._record(PayrollBenefitIssued(**{**payroll, "pay_period": f"{on:%Y-%m}"}))

    def answer(self, result: PayrollResult) -> bool:
        """Payroll's answer to one of its entries; False when it was applied before. An entry
        it never sent raises `UnknownEntry`; an answer contradicting an earlier one, `Conflict`."""
        assert self.opened is not None
        if result.entry_id not in self.entries:
            raise UnknownEntry(
                f"{self.opened.disbursement_id} sent no payroll entry {result.entry_id}"
            )
        if result.member_id != self.opened.member_id:
            raise UnknownEntry(f"entry {result.entry_id} is not that member's")
        answer = "paid" if isinstance(result, BenefitPaid) else "failed"
        given = self.answers.get(result.entry_id)
        if given == answer:
            return False
        if given is not None:
            raise Conflict(
                f"entry {result.entry_id} was already answered {given}", rule="payroll.answered"
            )
        common: dict[str, Any] = {
            "disbursement_id": self.opened.disbursement_id,
            "entry_id": result.entry_id,
            "current": result.entry_id == self.current_entry,
        }
        if isinstance(result, BenefitPaid):
            self._record(
                DisbursementPaid(
                    **common,
                    pay_period=result.pay_period,
                    paid_on=result.paid_on,
                    payroll_reference=result.payroll_reference,
                )
            )
        else:
            assert isinstance(result, BenefitPaymentFailed)
            self._record(
                DisbursementPaymentFailed(
                    **common,
                    reason_code=result.reason_code.value,
                    reason_text=result.reason_text,
                    failed_on=result.failed_on,
                )
            )
        return True

    @property
    def expires_on(self) -> date | None:
        expires = self.opened.details.get("expires_on") if self.opened else None
        return date.fromisoformat(str(expires)) if expires else None

    def redeem(self, on: date) -> None:
        assert self.opened is not None
        if self.opened.benefit != "voucher":
            raise Conflict("only vouchers are redeemed", rule="disbursement.redeem")
        if self.status not in HELD or self.redeemed:
            raise Conflict("the voucher is not issued or was redeemed", rule="disbursement.state")
        expires = self.expires_on
        if expires and on > expires:
            raise Conflict("the voucher has expired", rule="voucher.expired")
        self._record(VoucherRedeemed(disbursement_id=self.opened.disbursement_id, redeemed_on=on))

    def _payroll(self, employee: Employee, entry: str) -> dict[str, Any]:
        o = self.opened
        assert o is not None
        return {
            "entry_id": f"{o.disbursement_id}/{entry}",
            "disbursement_id": o.disbursement_id,
            "member_id": o.member_id,
            "base_union": o.base_union,
            "employee_number": employee.number,
            "employee_number_source": employee.source,
            "benefit": o.benefit,
            "amount_fen": o.amount_fen,
            "business_date": o.business_date,
            "pay_period": f"{o.business_date:%Y-%m}",
        }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _trip(details: dict[str, object]) -> Trip | None:
    """An outing's days, nights and cost categories, for the decision."""
    if "cost_lines" not in details:
        return None
    start = date.fromisoformat(str(details["start_date"]))
    end = date.fromisoformat(str(details["end_date"]))
    lines = details["cost_lines"]
    assert isinstance(lines, list)
    days = (end - start).days + 1
    return Trip(
        days=days,
        nights=max(days - 1, 0),
        cost_categories=tuple(sorted({str(line["category"]) for line in lines})),
    )
