"""What entitlements publishes for other services: the one benefit vocabulary, and its decisions
and union ledgers on `entitlements.events.v1` (keyed by member id, or union for a union's own
ledger). Other services import these, and nothing else, from entitlements.

Every service names benefits with these codes; the policy data gives each its clause and its
titles in Chinese and English.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events import DomainEvent
from shared.kafka.topics import ENTITLEMENTS_EVENTS, announce
from shared.orgs import org_contains

# A new policy version goes on the topic for the record (its whole text); no other service reads
# it, and each skips it on purpose.
POLICY_VERSION_PUBLISHED = "jinhui.entitlements.PolicyVersionPublished"
announce(ENTITLEMENTS_EVENTS, POLICY_VERSION_PUBLISHED)


class Benefit(StrEnum):
    VOUCHER = "voucher"
    RECUPERATION = "recuperation"
    CULTURE_SPORTS = "culture_sports"
    OUTING = "outing"
    CULTURE_TOURISM_PRODUCT = "culture_tourism_product"
    SUMMER_CAMP = "summer_camp"
    TRAINING_SUBSIDY = "training_subsidy"
    HOLIDAY_GIFT = "holiday_gift"
    BIRTHDAY_GIFT = "birthday_gift"
    CHILDBIRTH_GIFT = "childbirth_gift"
    CONSUMPTION_ASSISTANCE = "consumption_assistance"
    NEF_INJURY_INSURANCE = "nef_injury_insurance"
    HARDSHIP_RELIEF = "hardship_relief"


# Each benefit's Chinese name, as reports and exports print it beside the code.
BENEFIT_ZH = {
    Benefit.VOUCHER: "消费券",
    Benefit.RECUPERATION: "疗休养",
    Benefit.CULTURE_SPORTS: "文体活动",
    Benefit.OUTING: "春秋游",
    Benefit.CULTURE_TOURISM_PRODUCT: "文旅产品",
    Benefit.SUMMER_CAMP: "夏令营",
    Benefit.TRAINING_SUBSIDY: "技能提升补贴",
    Benefit.HOLIDAY_GIFT: "节日慰问",
    Benefit.BIRTHDAY_GIFT: "生日慰问",
    Benefit.CHILDBIRTH_GIFT: "生育慰问",
    Benefit.CONSUMPTION_ASSISTANCE: "消费帮扶",
    Benefit.NEF_INJURY_INSURANCE: "新就业形态职业伤害保障",
    Benefit.HARDSHIP_RELIEF: "困难帮扶",
}

BenefitField = Annotated[
    Benefit,
    Field(
        description="福利项目, one of the notice's measures: voucher (消费券), recuperation "
        "(疗休养), culture_sports (文体活动), outing (春秋游), culture_tourism_product (文旅产品), "
        "summer_camp (夏令营), training_subsidy (技能提升补贴), holiday_gift (节日慰问), "
        "birthday_gift (生日慰问), childbirth_gift (生育慰问), nef_injury_insurance (新就业形态"
        "职业伤害保障), hardship_relief (困难帮扶); consumption_assistance is union spending",
        examples=["holiday_gift"],
    ),
]


class GrantingLevel(StrEnum):
    """Where the union that grants a benefit stands: the member's own base union, or a union at
    county level or above (the notice gives some measures only to the latter)."""

    BASE_UNION = "base_union"
    COUNTY_AND_ABOVE = "county_and_above"


def granting_level(granting_org: str, base_union: str) -> GrantingLevel:
    """Whether the union that grants is the member's own base union (or a unit within it), or
    a union above it."""
    if org_contains(base_union, granting_org):
        return GrantingLevel.BASE_UNION
    return GrantingLevel.COUNTY_AND_ABOVE


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
    reason_en: str | None = Field(default=None, description="The same reason in English")
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
    set_by_org: str | None = Field(
        default=None, description="The org the setter acted from (the union, or one above it)"
    )
    set_on: date | None = Field(
        default=None,
        description="The business date it was set: it governs only requests made on or after "
        "it, so a decision already made never changes",
    )
    correction_reason: str | None = Field(
        default=None,
        description="Set for a correction of a past standard (an effective date before the "
        "day it was set): why, as the setter wrote it",
    )


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
