"""Foresight for finance officers and the province: a batch priced before it runs, and a draft
policy tried on a year that has happened. Both decide with the same `decide` as every real
request, on the real ledgers, and save nothing."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from services.entitlements.contracts import BenefitField
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.entrypoints.deps import context
from services.entitlements.service_layer.forecasts import BatchPlan, forecast_batch
from services.entitlements.service_layer.what_if import Difference, WhatIf, what_if
from shared.auth import PrincipalDep, Role, parse_org
from shared.clock import PlausibleDate
from shared.errors import InvalidInput
from shared.http.deps import RuntimeDep
from shared.http.params import YEAR_MAX, YEAR_MIN
from shared.money import Amount, yuan_text

router = APIRouter(prefix="/v1", tags=["foresight"])
PLANNERS = (Role.FINANCE_OFFICER, Role.ADMIN)


class BatchForecastRequest(BaseModel):
    union: str = Field(max_length=200, description="Every active member at or below this org")
    benefit: BenefitField
    amount_fen: Amount
    business_date: PlausibleDate
    birthday_month: int | None = Field(
        default=None, ge=1, le=12, description="Only members whose birthday is in this month"
    )


class Refusals(BaseModel):
    clause: str
    rule: str
    lines: int
    example_reason: str


class Headroom(BaseModel):
    union: str
    rule: str
    clause: str
    limit_fen: int | None = Field(description="Dues income plus the 4x top-up")
    before_fen: int | None = Field(description="What the union may still spend before the batch")
    after_fen: int | None = Field(description="…and after it, if it runs as forecast")
    budget_fen: int | None
    consumption_share_fen: int | None


class Budget(BaseModel):
    union: str
    budget_fen: int | None = Field(description="The year's expenditure budget, as recorded")
    spent_fen: int = Field(description="What members' ledgers of the year already hold")
    batch_fen: int = Field(description="What the batch would add")
    after_fen: int | None = Field(description="What the budget keeps after the batch")


class BatchForecast(BaseModel):
    lines: int
    approved: int
    refused: int
    cost_fen: int
    cost: str = Field(description="The cost in yuan, as people read it")
    refusals: list[Refusals]
    union_headroom: list[Headroom]
    budgets: list[Budget] = Field(description="Every union the batch reaches, against its budget")
    warnings: list[str] = Field(description="What the finance officer should know first (Chinese)")


@router.post(
    "/forecasts/batches",
    response_model=BatchForecast,
    summary="What a batch would cost and who it would refuse, before it runs (reserves nothing)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def forecast(
    body: BatchForecastRequest,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: UTF-8 with BOM, for Excel")
    ] = "json",
) -> Any:
    """The same selection (active members at or below `union`, optionally those born in a
    month), the same order and the same decision as `POST /v1/disbursement-batches` would make
    now; allowed lines take their share of the union's culture-and-sports headroom as they
    would in the real batch."""
    union = parse_org(body.union)
    caller.require_org(union)
    plan = BatchPlan(
        union=union,
        benefit=body.benefit,
        amount_fen=body.amount_fen,
        business_date=body.business_date,
        granting_org=caller.org,
        birthday_month=body.birthday_month,
    )
    async with runtime.sessions() as session:
        try:
            result = await forecast_batch(context(runtime), runtime.event_store(session), plan)
        except LookupError as exc:
            if isinstance(exc, KeyError):  # a bug, not a date without a policy
                raise
            raise InvalidInput(
                f"no policy in force on {plan.business_date}", field="business_date"
            ) from None
    if format == "csv":
        return _csv(result.lines)
    refusals = result.refused_by_rule()
    examples = {(d.clause, d.rule): d.reason or "" for _, _, d in result.lines if not d.allowed}
    headroom = [Headroom(**vars(h)) for h in result.headroom.values()]
    budgets = [Budget(**vars(b), after_fen=b.after_fen) for b in result.budgets.values()]
    return BatchForecast(
        lines=len(result.lines),
        approved=result.approved,
        refused=len(result.lines) - result.approved,
        cost_fen=result.cost_fen,
        cost=yuan_text(result.cost_fen),
        refusals=[
            Refusals(clause=c, rule=r, lines=n, example_reason=examples[(c, r)])
            for (c, r), n in refusals.most_common()
        ],
        union_headroom=headroom,
        budgets=budgets,
        warnings=_warnings(result.lines, headroom, budgets),
    )


def _warnings(lines: list[Any], headroom: list[Headroom], budgets: list[Budget]) -> list[str]:
    """Every limit the forecast knows, the most serious first: the whole batch refused, a
    union-level rule passed, a budget passed or never recorded."""
    said = []
    if lines and not any(d.allowed for _, _, d in lines):
        said.append("整批都将被拒绝：" + (lines[0][2].reason or ""))
    for h in headroom:
        refused = sum(1 for _, u, d in lines if u == h.union and d.rule.startswith("union."))
        if refused:
            said.append(f"{h.union}：将超出工会层面的限额（条款 {h.clause}），{refused} 人将被拒绝")
    for b in budgets:
        if b.budget_fen is None and b.batch_fen:
            said.append(f"{b.union}：尚未登记本年度预算，无法核对本批支出 {yuan_text(b.batch_fen)}")
        elif b.after_fen is not None and b.after_fen < 0:
            said.append(
                f"{b.union}：本批支出 {yuan_text(b.batch_fen)}，加上本年已用 "
                f"{yuan_text(b.spent_fen)}，超过年度预算 {yuan_text(b.budget_fen or 0)}"
                f"（超出 {yuan_text(-b.after_fen)}）"
            )
    return said


def _csv(lines: list[Any]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["会员号 member_id", "基层工会 base_union", "结果 outcome", "条款 clause",
                     "规则 rule", "原因 reason", "剩余 remaining_fen"])  # fmt: skip
    for member_id, union, d in lines:
        writer.writerow([member_id, union, "批准 approved" if d.allowed else "拒绝 rejected",
                         d.clause, d.rule, d.reason or "", d.remaining_fen])  # fmt: skip
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8")


class WhatIfRequest(BaseModel):
    draft: PolicyVersion = Field(description="A draft version: tried, never published")
    year: int = Field(
        ge=YEAR_MIN,
        le=YEAR_MAX,
        description="The year whose requests are decided again",
        examples=[2026],
    )
    union: str | None = Field(default=None, max_length=200, description="Only this subtree")


class TotalsRow(BaseModel):
    union: str
    benefit: str
    requests: int
    allowed_before: int
    allowed_after: int
    fen_before: int
    fen_after: int


class WhatIfAnswer(BaseModel):
    draft: str
    year: int
    requests: int
    changed: int
    totals: list[TotalsRow]
    differences: list[Difference] = Field(description="The first 1,000; all of them as CSV")


@router.post(
    "/policies/what-if",
    response_model=WhatIfAnswer,
    summary="What a draft policy would have done to a past year (province admins; saves nothing)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def policy_what_if(
    body: WhatIfRequest,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: UTF-8 with BOM, for Excel")
    ] = "json",
) -> Any:
    """Every request of `year` decided again under the draft, in the order it was decided,
    on ledgers rebuilt in memory; the answer is what changes, per member and benefit, with
    totals per union and benefit. The same as `jinhui what-if`, which shows progress."""
    union = parse_org(body.union) if body.union else None
    async with runtime.sessions() as session:
        result = await what_if(runtime.event_store(session), body.draft, body.year, union=union)
    if format == "csv":
        return differences_csv(result)
    return WhatIfAnswer(
        draft=result.draft,
        year=result.year,
        requests=result.requests,
        changed=len(result.differences),
        totals=[TotalsRow(union=u, benefit=b, **vars(t)) for (u, b), t in result.totals.items()],
        differences=result.differences[:1000],
    )


def differences_csv(result: WhatIf) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["会员号 member_id", "基层工会 union", "待遇 benefit", "业务日期 business_date",
                     "金额 amount_fen", "原结果 before", "原条款 clause_before", "新结果 after",
                     "新条款 clause_after", "规则 rule", "原因 reason"])  # fmt: skip
    for d in result.differences:
        writer.writerow([d.member_id, d.union, d.benefit, d.business_date, d.amount_fen,
                         "批准" if d.allowed_before else "拒绝", d.clause_before,
                         "批准" if d.allowed_after else "拒绝", d.clause_after, d.rule_after,
                         d.reason_after or ""])  # fmt: skip
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8")
