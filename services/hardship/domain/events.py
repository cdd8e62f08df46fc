"""The case's own events (stream `case-<id>`), internal to the hardship service.

They carry ids, levels, dates, amounts and who acted: the household's personal details (names,
ID numbers, income, health) live encrypted in the `households` table, never in an event.
"""

from __future__ import annotations

from datetime import date

from services.hardship.contracts import HardshipLevel
from shared.events import DomainEvent


class CaseEvent(DomainEvent):
    case_id: str
    actor: str


class CaseOpened(CaseEvent):
    event_type = "jinhui.hardship.CaseOpened"
    union: str
    member_ids: list[str]
    source: str  # survey | walk_in | referral | life_event | emergency
    opened_on: date
    emergency: bool = False


class IntakeJoined(CaseEvent):
    """A second intake for the same household, joined to its file."""

    event_type = "jinhui.hardship.IntakeJoined"
    source: str
    member_ids: list[str]
    on: date


class CaseAssessed(CaseEvent):
    event_type = "jinhui.hardship.CaseAssessed"
    level: HardshipLevel | None  # None: not in hardship by the criteria
    criteria_version: str
    assessed_on: date


class EnteredRegister(CaseEvent):
    event_type = "jinhui.hardship.EnteredRegister"
    level: HardshipLevel
    on: date
    next_review_on: date


class ReviewStarted(CaseEvent):
    event_type = "jinhui.hardship.ReviewStarted"
    on: date
    why: str


class ReviewBroughtForward(CaseEvent):
    """A member event (a birth, a job lost, a new form of employment) calls for an early look."""

    event_type = "jinhui.hardship.ReviewBroughtForward"
    next_review_on: date
    why: str


class ReviewCompleted(CaseEvent):
    event_type = "jinhui.hardship.ReviewCompleted"
    level: HardshipLevel
    on: date
    next_review_on: date


class ExitedRegister(CaseEvent):
    event_type = "jinhui.hardship.ExitedRegister"
    reason: str  # out_of_hardship
    on: date
    follow_up_on: date


class CaseClosed(CaseEvent):
    event_type = "jinhui.hardship.CaseClosed"
    reason: str  # retired | transferred_out | deceased | refused | emergency_not_converted
    on: date


class CaseReEntered(CaseEvent):
    """A household out of hardship falls back (返困): it re-enters with its history."""

    event_type = "jinhui.hardship.CaseReEntered"
    on: date


class ReliefRequested(CaseEvent):
    event_type = "jinhui.hardship.ReliefRequested"
    relief_id: str
    member_id: str
    amount_fen: int
    in_kind: bool
    purpose: str
    needs_second_approval: bool
    on: date


class ReliefApproved(CaseEvent):
    event_type = "jinhui.hardship.ReliefApproved"
    relief_id: str
    on: date


class EmergencyConverted(CaseEvent):
    event_type = "jinhui.hardship.EmergencyConverted"
    on: date
