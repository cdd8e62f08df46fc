"""A disbursement's own stream: opened, approved or rejected, a voucher redeemed. What others
read (the saga's requests and outcomes, payroll's messages) is in the service's contracts."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.entitlements.contracts import GrantingLevel
from shared.events import DomainEvent


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
    requested_on: date | None = None
    granting_level: GrantingLevel | None = None


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
    reason_en: str | None = None
    rule: str = "-"
    clause: str
    policy_version: str
    remaining_fen: int | None
    remaining_count: int | None


class VoucherRedeemed(DomainEvent):
    event_type = "jinhui.disbursements.VoucherRedeemed"
    disbursement_id: str
    redeemed_on: date


class PaymentAnswered(DomainEvent):
    """Payroll's answer to one of the disbursement's entries, as it was applied."""

    disbursement_id: str
    entry_id: str
    current: bool = Field(
        default=True,
        description="It answers the entry being paid now (not one re-issued or reversed since)",
    )


class DisbursementPaid(PaymentAnswered):
    event_type = "jinhui.disbursements.DisbursementPaid"
    pay_period: str
    paid_on: date
    payroll_reference: str


class DisbursementPaymentFailed(PaymentAnswered):
    event_type = "jinhui.disbursements.DisbursementPaymentFailed"
    reason_code: str
    reason_text: str
    failed_on: date | None = None


class DisbursementReissued(DomainEvent):
    """A failed payment sent to payroll again, under a new entry, on the same reservation."""

    event_type = "jinhui.disbursements.DisbursementReissued"
    disbursement_id: str
    entry_id: str
    on: date
    reason: str
