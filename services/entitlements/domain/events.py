"""Events of the entitlements service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.events import DomainEvent


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
