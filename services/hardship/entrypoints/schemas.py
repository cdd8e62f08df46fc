"""What the caseworker's desk reads and answers: request and response bodies, documented field by
field in the OpenAPI. Lists carry ids, levels and dates only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from services.hardship.domain.household import Household
from services.hardship.domain.purposes import PURPOSES, purpose_code
from shared.money import Amount


class IntakeRequest(BaseModel):
    union: str = Field(description="Org path of the household's base union")
    source: Literal["survey", "walk_in", "referral", "life_event"] = Field(
        description="来源: a survey (走访摸底), a walk-in (来访), a referral (转介) or a member's "
        "life event"
    )
    household: Household = Field(description="The household as the caseworker found it")


class IntakeAnswer(BaseModel):
    case_id: str
    joined: bool = Field(description="True when the household already had a file")


class Step(BaseModel):
    reason: str = Field(
        default="",
        max_length=300,
        description="理由, free text (Chinese welcome)",
        examples=["年度复核"],
    )
    household: Household | None = Field(default=None, description="Updated details, if any")
    sudden: bool = Field(
        default=False,
        description="突发意外致困: a sudden cause (an accident, a fire, a disaster) struck; "
        "the accident-caused level (意外致困) is given only when this is true",
    )


class ReliefRequest(BaseModel):
    member_id: str = Field(description="会员编号 of the household member the relief is for")
    amount_fen: Amount
    in_kind: bool = Field(default=False, description="实物帮扶: given in kind rather than paid")
    purpose: Annotated[str, AfterValidator(purpose_code)] = Field(
        max_length=40,
        description="用途: a Chinese name (" + "、".join(PURPOSES.values()) + ") or a code "
        "(" + ", ".join(PURPOSES) + ", or a union's own of a-z and _); published as the code",
        examples=["医疗费用", "medical"],
    )


class EmergencyRequest(ReliefRequest):
    union: str = Field(description="Org path of the household's base union")
    household: Household = Field(description="The household, as far as it is known at once")


class Purpose(BaseModel):
    code: str = Field(description="What the register publishes (medical)")
    title: str = Field(description="How caseworkers name it (医疗费用); either is accepted")


class ReliefView(BaseModel):
    relief_id: str
    member_id: str
    amount_fen: int
    in_kind: bool
    purpose: str
    requested_by: str
    approved_by: str | None
    status: Literal["granted", "awaiting approval"]


class CaseView(BaseModel):
    case_id: str
    union: str
    status: str
    level: str | None
    emergency: bool
    member_ids: list[str]
    next_review_on: date | None
    follow_up_on: date | None
    history: list[tuple[date, str]]
    reliefs: list[ReliefView]
    household: dict[str, Any] | None = Field(description="Masked unless the role needs it")


class DuplicateFile(BaseModel):
    case_id: str
    union: str
    other_case_id: str
    other_union: str
    flagged_at: datetime


class CaseRow(BaseModel):
    case_id: str
    union_path: str
    status: str
    level: str | None
    emergency: bool
    next_review_on: date | None
    follow_up_on: date | None
    last_changed_on: date
    reliefs_granted: int
    reliefs_awaiting: int = Field(description="Reliefs waiting for a reviewer's approval")


class WatchEntry(BaseModel):
    id: int
    member_id: str
    union_path: str | None
    rule: str
    title: str = Field(description="The rule's name (Chinese)")
    why: str = Field(description="Why the event suggests risk, and its source")
    raised_on: date
    look_again_on: date = Field(description="By when a caseworker should look")
    rules_version: str
    cleared_on: date | None
    cleared_by: str | None
    clear_reason: str | None


class Clearance(BaseModel):
    reason: str = Field(min_length=1, max_length=300, examples=["已电话回访，已再就业"])
