"""What entitlements' HTTP API reads and answers: request and response bodies, documented field by
field in the OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from services.entitlements.contracts import BenefitField
from shared.clock import PlausibleDate
from shared.money import Amount


class BenefitLine(BaseModel):
    benefit: str
    title: str = Field(description="The benefit's name in the policy (Chinese)")
    title_en: str
    clause: str
    cap_fen: int | None
    used_fen: int
    reserved_fen: int
    remaining_fen: int | None
    count: int
    max_count: int | None
    counted_in: int | None = Field(
        default=None,
        description="The year whose ledger holds this line when it is not this year's: a "
        "once-a-cycle benefit (recuperation) is counted in its cycle's first year",
    )


class ChildGrant(BaseModel):
    child_id: str
    disbursement_id: str


class LedgerView(BaseModel):
    member_id: str
    year: int
    base_union: str
    as_of: date
    policy_version: str = Field(description="The version in force on `as_of` (clamped to the year)")
    benefits: list[BenefitLine]
    childbirth_grants: list[ChildGrant]


class LedgerEntry(BaseModel):
    version: int
    type: str
    recorded_at: datetime
    business_date: date | None = Field(default=None, description="The day the entry belongs to")
    source_event_id: str | None
    disbursement_id: str | None = None
    benefit: str | None = None
    amount_fen: int | None = None
    clause: str | None = None
    policy_version: str | None = None
    reason: str | None = None
    reason_en: str | None = None
    rule: str | None = None
    remaining_fen: int | None = None
    child_id: str | None = None
    count_key: str | None = None


class TripShape(BaseModel):
    days: int = Field(
        ge=1, le=366, strict=True, description="天数: days of the outing", examples=[2]
    )
    nights: int = Field(ge=0, le=366, strict=True, description="夜数: nights away", examples=[1])
    cost_categories: list[str] = Field(
        max_length=20,
        description="费用类别 the outing pays for",
        examples=[["transport", "accommodation", "meals"]],
    )


class CheckRequest(BaseModel):
    member_id: str = Field(max_length=40, examples=["m-0123456789abcdef"])
    benefit: BenefitField
    amount_fen: Amount
    business_date: PlausibleDate = Field(description="The benefit's business date (Asia/Shanghai)")
    child_id: str | None = Field(
        default=None, max_length=40, description="For a childbirth gift or a summer camp: the child"
    )
    trip: TripShape | None = Field(default=None, description="For an outing")


class CheckAnswer(BaseModel):
    allowed: bool
    benefit: str
    amount_fen: int
    clause: str
    policy_version: str
    ledger_year: int
    rule: str = Field(description="`allowed`, or the code of the rule that refuses")
    reason: str | None = Field(description="Why not, in Chinese, with amounts in yuan")
    reason_en: str | None = Field(description="The same reason in English")
    remaining_fen: int | None = Field(description="What remains under the cited clause")
    remaining_count: int | None
    union_remaining_fen: int | None


# A reason a person writes for an act kept on record: not blank, and short enough to read.
Reason = Annotated[str, StringConstraints(min_length=2, max_length=300, pattern=r"\S")]


class SpacingReview(BaseModel):
    """A reviewer's finding on a birth refused as `child.births-too-close`."""

    model_config = ConfigDict(extra="forbid")

    approved: StrictBool = Field(description="true: the births are real, decide the gift again")
    reason: Reason = Field(
        examples=["已核对两份出生医学证明，系早产后再次分娩"],
        description="What the reviewer checked, kept on the ledger",
    )
