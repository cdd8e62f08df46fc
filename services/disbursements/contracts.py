"""What disbursements publishes: the saga's requests and outcomes on `disbursements.events.v1`
(keyed by member id), and what payroll receives on `payroll.benefits.v1`. Other services and
payroll systems rely on these, and nothing else, from disbursements.

Entitlements decides on `DisbursementRequested`, commits the reservation on `DisbursementIssued`
and releases it on `DisbursementCancelled`.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.contracts import Benefit, GrantingLevel
from shared.events import DomainEvent
from shared.kafka.topics import DISBURSEMENTS_EVENTS, PAYROLL_BENEFITS
from shared.money import MAX_AMOUNT_FEN


class DisbursementEvent(DomainEvent):
    topic = DISBURSEMENTS_EVENTS
    disbursement_id: str
    member_id: str


class Trip(BaseModel):
    """An outing's shape, for the decision (clause 4)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int = Field(ge=1, le=366)
    nights: int = Field(ge=0, le=366)
    cost_categories: tuple[str, ...]


class DisbursementRequested(DisbursementEvent):
    event_type = "jinhui.disbursements.DisbursementRequested"
    benefit: Benefit
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    business_date: date
    requested_on: date | None = Field(
        default=None,
        description="The business date (Asia/Shanghai) on which the request was accepted: it "
        "decides whether the books of the business date's year were still open",
    )
    child_id: str | None = Field(
        default=None, description="The child, for a childbirth gift or a summer camp"
    )
    granting_level: GrantingLevel | None = Field(
        default=None,
        description="Whether the member's own base union grants it, or a union above it",
    )
    trip: Trip | None = Field(default=None, description="For an outing: its days, nights, costs")


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
    on: date | None = Field(default=None, description="The business date of the cancellation")


class DisbursementReversed(DisbursementEvent):
    """An issued disbursement taken back: the cap is released and payroll corrected. When
    `unpaid`, payroll never paid it (its payment failed and was cancelled): the use and its
    count go back to the member, and payroll hears of nothing new."""

    event_type = "jinhui.disbursements.DisbursementReversed"
    year: int = Field(description="The ledger year of the reservation")
    reason: str
    on: date | None = Field(default=None, description="The business date of the reversal")
    unpaid: bool = Field(
        default=False, description="Never paid: a failed payment cancelled by finance"
    )


class PayrollEvent(DomainEvent):
    """De-duplicate on the CloudEvents id (`ce_id`): a redelivered message keeps it. An issue
    and the reversal that corrects it share `disbursement_id` but not `entry_id`."""

    topic = PAYROLL_BENEFITS
    entry_id: str = Field(
        description="This payroll entry: `<disbursement_id>/issued`, `/reissued-<n>` (a failed "
        "payment sent again) or `/reversed`; payroll answers it on payroll.results.v1"
    )
    disbursement_id: str = Field(description="The disbursement the entry belongs to")
    member_id: str
    base_union: str = Field(description="The member's base union (the employer's union)")
    employee_number: str | None
    employee_number_source: str | None = Field(
        description="The HR system whose employee number this is; none: the union's roster"
    )
    benefit: str
    amount_fen: int
    business_date: date
    pay_period: str = Field(
        description="YYYY-MM of the business date (of the day re-issued or reversed, for those)"
    )


class PayrollBenefitIssued(PayrollEvent):
    event_type = "jinhui.payroll.BenefitIssued"


class PayrollBenefitReversed(PayrollEvent):
    """A correction: the amount is taken back in `pay_period`."""

    event_type = "jinhui.payroll.BenefitReversed"
    reverses_entry_id: str = Field(description="The `entry_id` of the issue it corrects")
    reason: str
