"""Events of the disbursements service, published on `disbursements.events.v1` keyed by member id.

Entitlements decides on `DisbursementRequested`, commits the reservation on `DisbursementIssued`
and releases it on `DisbursementCancelled`.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.events import DomainEvent
from shared.kafka.topics import DISBURSEMENTS_EVENTS, PAYROLL_BENEFITS


class DisbursementEvent(DomainEvent):
    topic = DISBURSEMENTS_EVENTS
    disbursement_id: str
    member_id: str


class DisbursementRequested(DisbursementEvent):
    event_type = "jinhui.disbursements.DisbursementRequested"
    benefit: str
    amount_fen: int = Field(ge=0)
    business_date: date
    child_id: str | None = Field(default=None, description="The child, for a childbirth gift")


class DisbursementIssued(DisbursementEvent):
    event_type = "jinhui.disbursements.DisbursementIssued"
    business_date: date
    year: int | None = Field(
        default=None,
        description="The ledger year of the reservation (EntitlementReserved.year); "
        "defaults to the business date's year",
    )


class DisbursementCancelled(DisbursementEvent):
    event_type = "jinhui.disbursements.DisbursementCancelled"
    year: int = Field(description="Business year of the request, naming the ledger to release")
    reason: str


class DisbursementReversed(DisbursementEvent):
    """An issued disbursement taken back: the cap is released and payroll corrected."""

    event_type = "jinhui.disbursements.DisbursementReversed"
    year: int = Field(description="The ledger year of the reservation")
    reason: str


# --- internal: the disbursement's own story (stream `disbursement-<id>`) ---------------------


class DisbursementOpened(DomainEvent):
    """Who asked for what, with the benefit's own details; first event of every disbursement."""

    event_type = "jinhui.disbursements.DisbursementOpened"
    disbursement_id: str
    member_id: str
    base_union: str
    benefit: str
    amount_fen: int
    business_date: date
    details: dict[str, object] = Field(default_factory=dict)
    requested_by: str
    batch_id: str | None = None
    issue_on_approval: bool = True


class DisbursementApproved(DomainEvent):
    event_type = "jinhui.disbursements.DisbursementApproved"
    disbursement_id: str
    year: int
    clause: str
    policy_version: str
    remaining_fen: int | None
    remaining_count: int | None


class DisbursementRejected(DomainEvent):
    event_type = "jinhui.disbursements.DisbursementRejected"
    disbursement_id: str
    reason: str
    clause: str
    policy_version: str
    remaining_fen: int | None
    remaining_count: int | None


class VoucherRedeemed(DomainEvent):
    event_type = "jinhui.disbursements.VoucherRedeemed"
    disbursement_id: str
    redeemed_on: date


# --- payroll.benefits.v1: what payroll records as in-kind benefits -------------------------


class PayrollEvent(DomainEvent):
    topic = PAYROLL_BENEFITS
    disbursement_id: str = Field(description="Payroll de-duplicates on it")
    member_id: str
    employee_number: str | None
    benefit: str
    amount_fen: int
    business_date: date
    pay_period: str = Field(description="YYYY-MM of the business date")


class PayrollBenefitIssued(PayrollEvent):
    event_type = "jinhui.payroll.BenefitIssued"


class PayrollBenefitReversed(PayrollEvent):
    """A correction: the amount is taken back in `pay_period`."""

    event_type = "jinhui.payroll.BenefitReversed"
    reason: str
