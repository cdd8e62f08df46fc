"""Events of the entitlements service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.events import DomainEvent
from shared.kafka.topics import ENTITLEMENTS_EVENTS


class LedgerLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    benefit: str
    clause: str
    cap_fen: int | None
    max_count: int | None


class LedgerOpened(DomainEvent):
    """A member's ledger for one calendar year, with the caps of the policy then in force."""

    event_type = "jinhui.entitlements.LedgerOpened"
    member_id: str
    year: int
    base_union: str
    policy_version: str
    source_event_id: str
    lines: list[LedgerLine]


class EntitlementEvent(DomainEvent):
    topic = ENTITLEMENTS_EVENTS
    disbursement_id: str
    member_id: str
    year: int
    benefit: str
    amount_fen: int
    clause: str
    policy_version: str


class EntitlementReserved(EntitlementEvent):
    event_type = "jinhui.entitlements.EntitlementReserved"
    remaining_fen: int | None
    remaining_count: int | None


class EntitlementRejected(EntitlementEvent):
    event_type = "jinhui.entitlements.EntitlementRejected"
    reason: str
    remaining_fen: int | None
    remaining_count: int | None


class ReservationCommitted(EntitlementEvent):
    event_type = "jinhui.entitlements.ReservationCommitted"


class ReservationReleased(EntitlementEvent):
    event_type = "jinhui.entitlements.ReservationReleased"
    reason: str
