"""What the hardship register publishes, on `hardship.events.v1` keyed by case id: the register's
changes and granted relief. Ids, levels and amounts only: never names, ID numbers, income or
health. Other services import these, and nothing else, from hardship.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.events import DomainEvent
from shared.kafka.topics import HARDSHIP_EVENTS
from shared.money import MAX_AMOUNT_FEN


class HardshipLevel(StrEnum):
    DEEP = "deep"  # 深度困难
    RELATIVE = "relative"  # 相对困难
    ACCIDENT = "accident"  # 意外致困


class HardshipEvent(DomainEvent):
    topic = HARDSHIP_EVENTS
    case_id: str
    member_ids: list[str] = Field(description="The household's members who are union members")


class HouseholdEnteredRegister(HardshipEvent):
    event_type = "jinhui.hardship.HouseholdEnteredRegister"
    level: HardshipLevel
    entered_on: date


class HardshipLevelChanged(HardshipEvent):
    event_type = "jinhui.hardship.HardshipLevelChanged"
    level: HardshipLevel
    changed_on: date


class HouseholdExitedRegister(HardshipEvent):
    """Out of hardship (脱困) or closed (retired, transferred out, deceased, refused)."""

    event_type = "jinhui.hardship.HouseholdExitedRegister"
    reason: str
    exited_on: date


class ReliefGranted(HardshipEvent):
    """Approved relief, to be paid through disbursements (benefit `hardship_relief`)."""

    event_type = "jinhui.hardship.ReliefGranted"
    relief_id: str
    member_id: str
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    in_kind: bool = False
    purpose: str = Field(max_length=40, description="A purpose code, never free text")
    granted_on: date
    union: str | None = Field(
        default=None, description="The case's union, whose caseworkers granted the relief"
    )
    approved_by: str | None = Field(default=None, description="Who approved it (a subject)")
