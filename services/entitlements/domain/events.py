"""Events of the entitlements service."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

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


class EntitlementEvent(DomainEvent):
    topic = ENTITLEMENTS_EVENTS
    disbursement_id: str
    member_id: str
    year: int = Field(description="The ledger year (a child's gift: the birth year)")
    benefit: str
    amount_fen: int
    clause: str
    policy_version: str
    child_id: str | None = None
    union_charged: str | None = None  # the union whose own ledger this also counts against
    business_date: date | None = Field(
        default=None, description="The business day this entry belongs to (Asia/Shanghai)"
    )
    count_key: str | None = Field(
        default=None, description="What the count is per, beyond member and year (a child, a cycle)"
    )


class AskedFor(BaseModel):
    """What the request said beyond member, benefit, amount and date: enough to decide it
    again (a draft policy's what-if)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requested_on: date
    granting_level: str | None = None
    trip_days: int | None = None
    trip_nights: int | None = None
    trip_cost_categories: tuple[str, ...] = ()


class Decided(EntitlementEvent):
    asked: AskedFor | None = None


class EntitlementReserved(Decided):
    event_type = "jinhui.entitlements.EntitlementReserved"
    remaining_fen: int | None
    remaining_count: int | None
    union_remaining_fen: int | None = None


class EntitlementRejected(Decided):
    event_type = "jinhui.entitlements.EntitlementRejected"
    reason: str = Field(description="Why, in Chinese, with amounts in yuan")
    rule: str = Field(default="-", description="The rule that refused, as a stable code")
    remaining_fen: int | None = Field(description="What remains under the cited clause")
    remaining_count: int | None
    union_remaining_fen: int | None = None


class ReservationCommitted(EntitlementEvent):
    event_type = "jinhui.entitlements.ReservationCommitted"


class ReservationReleased(EntitlementEvent):
    event_type = "jinhui.entitlements.ReservationReleased"
    reason: str


class ReservationReversed(EntitlementEvent):
    """A committed use given back (an issued disbursement reversed, a voucher expired)."""

    event_type = "jinhui.entitlements.ReservationReversed"
    reason: str
    keeps_count: bool = Field(
        default=False, description="The money goes back, the count does not (a voucher)"
    )


# --- what entitlements knows of a member: stream `profile-<member_id>` (internal) -------------


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


# --- policy and the base unions' own standards ---------------------------------------------


class PolicyVersionPublished(DomainEvent):
    """A new version of the policy: it governs every decision whose business date is on or
    after `policy.effective_from`. Stream `policy-book`, key `policy`."""

    event_type = "jinhui.entitlements.PolicyVersionPublished"
    topic = ENTITLEMENTS_EVENTS
    policy: PolicyVersion
    published_by: str


class UnionStandardSet(DomainEvent):
    """A base union (or a union above it) set its own value where the notice lets it, within
    the provincial ceiling. Stream `standards-<org>`."""

    event_type = "jinhui.entitlements.UnionStandardSet"
    topic = ENTITLEMENTS_EVENTS
    union: str
    benefit: str
    effective_from: date
    amount_fen: int | None = None
    expiry_days: int | None = None
    standard_fen: int | None = None
    yearly_total_fen: int | None = None
    clause: str
    policy_version: str
    set_by: str


# --- union ledgers: stream `unionledger-<org>-<year>` ---------------------------------------


class UnionFinancesRecorded(DomainEvent):
    """A union's dues income and expenditure budget for a year, and the share of the budget
    it reserves for consumption assistance."""

    event_type = "jinhui.entitlements.UnionFinancesRecorded"
    topic = ENTITLEMENTS_EVENTS
    union: str
    year: int
    dues_income_fen: int
    budget_fen: int
    consumption_share_fen: int
    culture_sports_limit_fen: int | None = Field(
        default=None, description="Dues plus the top-up allowed by the policy then in force"
    )
    recorded_by: str


class UnionSpendingEvent(DomainEvent):
    topic = ENTITLEMENTS_EVENTS
    union: str
    year: int
    rule: str  # culture_sports_topup | consumption_assistance
    clause: str
    disbursement_id: str
    member_id: str
    amount_fen: int
    business_date: date | None = None


class UnionSpendingReserved(UnionSpendingEvent):
    event_type = "jinhui.entitlements.UnionSpendingReserved"


class UnionSpendingCommitted(UnionSpendingEvent):
    event_type = "jinhui.entitlements.UnionSpendingCommitted"


class UnionSpendingReleased(UnionSpendingEvent):
    event_type = "jinhui.entitlements.UnionSpendingReleased"


class UnionSpendingReversed(UnionSpendingEvent):
    event_type = "jinhui.entitlements.UnionSpendingReversed"


class ConsumptionAssistanceSpent(DomainEvent):
    """A union bought from areas lifted out of poverty (clause 8): union spending that no
    member receives, counted against the share of the budget the union reserved."""

    event_type = "jinhui.entitlements.ConsumptionAssistanceSpent"
    topic = ENTITLEMENTS_EVENTS
    union: str
    year: int
    purchase_id: str
    amount_fen: int
    business_date: date
    purpose: str
    rule: str = Field(description="The union-level rule it counts towards")
    clause: str
    recorded_by: str
