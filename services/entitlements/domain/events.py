"""Entitlements' own events (ledgers opened, what it knows of a member, policy versions); what it
publishes for other services is in `services.entitlements.contracts`."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.contracts import POLICY_VERSION_PUBLISHED
from services.entitlements.domain.policy import PolicyVersion
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


class BirthSpacingReviewed(DomainEvent):
    """A reviewer's finding on a birth refused as too close to a sibling's. The spacing is a
    check of the data, not a rule of the notice: approved, the child's gift is decided as for
    any birth. On the ledger of the child's birth year, where the gift is counted."""

    event_type = "jinhui.entitlements.BirthSpacingReviewed"
    member_id: str
    child_id: str
    approved: bool
    reason: str
    reviewed_by: str
    reviewed_by_org: str
    reviewed_on: date


class ProfileEvent(DomainEvent):
    member_id: str
    source_event_id: str


class ProfileOpened(ProfileEvent):
    event_type = "jinhui.entitlements.ProfileOpened"
    base_union: str
    birth_date: date
    join_date: date
    employment_form: str
    migrant_worker: bool
    ethnic_minority: bool
    martyr_family: bool


class BirthdayNoted(ProfileEvent):
    event_type = "jinhui.entitlements.BirthdayNoted"
    year: int
    birthday: date


class ChildNoted(ProfileEvent):
    event_type = "jinhui.entitlements.ChildNoted"
    child_id: str
    birth_date: date
    birth_order: int
    within_policy: bool


class ProfileChanged(ProfileEvent):
    """A transfer, an employment-form change, a correction, an end or a re-joining: only the
    fields that changed are given."""

    event_type = "jinhui.entitlements.ProfileChanged"
    base_union: str | None = None
    employment_form: str | None = None
    migrant_worker: bool | None = None
    ethnic_minority: bool | None = None
    martyr_family: bool | None = None
    birth_date: date | None = None
    active: bool | None = None
    status_date: date | None = None
    in_hardship: bool | None = None
    effective_on: date | None = Field(
        default=None, description="From when the change holds; none: it always held (a correction)"
    )


class PolicyVersionPublished(DomainEvent):
    """A new version of the policy: it governs every decision whose business date is on or
    after `policy.effective_from`. Stream `policy-book`, key `policy`."""

    event_type = POLICY_VERSION_PUBLISHED
    topic = ENTITLEMENTS_EVENTS
    policy: PolicyVersion
    published_by: str
