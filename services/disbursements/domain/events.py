"""Events of the disbursements service, published on `disbursements.events.v1` keyed by member id.

Entitlements decides on `DisbursementRequested`, commits the reservation on `DisbursementIssued`
and releases it on `DisbursementCancelled`.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.events import DomainEvent
from shared.kafka.topics import DISBURSEMENTS_EVENTS


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
