"""What disbursements' HTTP API reads and answers: request and response bodies, documented
field by field in the OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.disbursements.service_layer.batches import BatchRequest
from services.entitlements.contracts import BenefitField
from shared.clock import PlausibleDate
from shared.money import MAX_AMOUNT_FEN, Amount

__all__ = [
    "BatchRequest",
    "BatchView",
    "DisbursementRequest",
    "DisbursementView",
    "PlanView",
    "Reason",
    "RecuperationPlan",
    "SpendingRow",
]


class DisbursementRequest(BaseModel):
    member_id: str = Field(max_length=40, examples=["m-0123456789abcdef"])
    benefit: BenefitField
    amount_fen: Amount
    business_date: PlausibleDate = Field(
        description="The benefit's business date (Asia/Shanghai): not in the future, and in a "
        "year whose books are still open"
    )
    details: dict[str, Any] = Field(default_factory=dict, description="The benefit's own details")
    issue_on_approval: bool = Field(
        default=True, description="Issue as soon as entitlements approves"
    )


class DisbursementView(BaseModel):
    disbursement_id: str
    status: str
    member_id: str
    base_union: str
    benefit: str
    amount_fen: int
    business_date: date
    year: int | None
    reason: str | None = Field(description="Why it was refused, in Chinese, amounts in yuan")
    reason_en: str | None = Field(default=None, description="The same reason in English")
    rule: str | None = Field(default=None, description="The refusing rule's stable code")
    clause: str | None
    policy_version: str | None
    remaining_fen: int | None
    remaining_count: int | None
    details: dict[str, Any]
    batch_id: str | None
    expires_on: date | None
    redeemed_on: date | None
    created_at: datetime
    updated_at: datetime
    status_url: str


class Reason(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=300,
        description="理由, free text (Chinese welcome)",
        examples=["发放对象有误"],
    )


class BatchView(BaseModel):
    batch_id: str
    status: str
    union: str
    benefit: str
    amount_fen: int
    business_date: date
    lines: int
    by_status: dict[str, int]
    amount_by_status_fen: dict[str, int]
    lines_url: str


class SpendingRow(BaseModel):
    union: str
    benefit: str
    month: int
    issued_fen: int
    issued: int
    subject_code: str | None = Field(
        description="会计科目: the expense subject it is booked to (reference/accounting-subjects)"
    )
    subject_name: str | None = Field(description="科目名称")


class ClauseRefusals(BaseModel):
    clause: str | None = Field(description="条款: the policy clause that refused")
    rule: str | None = Field(description="The rule's machine code")
    refused: int = Field(description="Lines refused under it")


class UptakeRow(BaseModel):
    place: str = Field(description="An org path cut to the depth asked (a city, a county)")
    benefit: str
    benefit_zh: str = Field(description="The measure's Chinese name")
    members_reached: int = Field(description="受益人数: distinct members paid at least once")
    issued: int = Field(description="发放笔数: lines spent (reversals deducted)")
    issued_fen: int = Field(description="发放金额 in fen")
    refused: int = Field(description="未通过笔数")
    refusals: list[ClauseRefusals] = Field(description="Refusals by clause, most first")


class RecuperationPlan(BaseModel):
    window_from: date = Field(description="计划开始: trips may start from this day")
    window_to: date = Field(description="计划结束: trips end by this day")
    participants: list[str] = Field(
        min_length=1, max_length=10_000, description="会员编号 of the members in the plan"
    )
    union_subsidy_per_person_fen: int = Field(
        strict=True,
        ge=0,
        le=MAX_AMOUNT_FEN,
        description="工会补助 per person, in fen",
        examples=[80000],
    )
    employer_fund_per_person_fen: int = Field(
        strict=True, ge=0, le=MAX_AMOUNT_FEN, description="From the employer's welfare fund"
    )


class PlanView(RecuperationPlan):
    union: str
    year: int
    participation: dict[str, str] = Field(description="member → status of their trip, if any")
    not_yet_sent: list[str]
