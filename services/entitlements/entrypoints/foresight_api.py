"""Foresight for finance officers and the province: a batch priced before it runs, and a draft
policy tried on a year that has happened. Both decide with the same `decide` as every real
request, on the real ledgers, and save nothing."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from services.entitlements.contracts import Benefit
from services.entitlements.service_layer.forecasts import BatchPlan, forecast_batch
from shared.auth import PrincipalDep, Role, parse_org
from shared.clock import PlausibleDate
from shared.http.deps import RuntimeDep
from shared.money import Amount, yuan_text

router = APIRouter(prefix="/v1", tags=["foresight"])
PLANNERS = (Role.FINANCE_OFFICER, Role.ADMIN)


class BatchForecastRequest(BaseModel):
    union: str = Field(max_length=200, description="Every active member at or below this org")
    benefit: Benefit
    amount_fen: Amount
    business_date: PlausibleDate
    birthday_month: int | None = Field(default=None, ge=1, le=12)


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


class BatchForecast(BaseModel):
    lines: int
    approved: int
    refused: int
    cost_fen: int
    cost: str = Field(description="The cost in yuan, as people read it")
    refusals: list[Refusals]
    union_headroom: list[Headroom]
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
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """The same selection (active members at or below `union`, optionally those born in a
    month), the same order and the same decision as `POST /v1/disbursement-batches` would make
    now; allowed lines take their share of the union's culture-and-sports headroom as they
    would in the real batch."""
    caller.require(*PLANNERS)
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
        result = await forecast_batch(runtime.context, runtime.event_store(session), plan)
    if format == "csv":
        return _csv(result.lines)
    refusals = result.refused_by_rule()
    examples = {(d.clause, d.rule): d.reason or "" for _, _, d in result.lines if not d.allowed}
    headroom = [Headroom(**vars(h)) for h in result.headroom.values()]
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
        warnings=_warnings(result.lines, headroom),
    )


def _warnings(lines: list[Any], headroom: list[Headroom]) -> list[str]:
    said = []
    if lines and not any(d.allowed for _, _, d in lines):
        said.append("整批都将被拒绝：" + (lines[0][2].reason or ""))
    for h in headroom:
        refused = sum(1 for _, u, d in lines if u == h.union and d.rule.startswith("union."))
        if refused:
            said.append(f"{h.union}：将超出工会层面的限额（条款 {h.clause}），{refused} 人将被拒绝")
        cost = sum(d.amount_fen for _, u, d in lines if u == h.union and d.allowed)
        if h.budget_fen is not None and cost > h.budget_fen:
            said.append(
                f"{h.union}：本批支出 {yuan_text(cost)} 超过年度预算 {yuan_text(h.budget_fen)}"
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
