"""HTTP API of the month-end loop with payroll: the reconciliation of a pay period (JSON, CSV,
Excel) and the entries payroll has not answered."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.disbursements.domain.payroll import FAILURE_ZH, PAY_PERIOD, FailureReason
from services.disbursements.entrypoints.deps import ContextDep
from services.disbursements.entrypoints.exports import XLSX, Sheet, csv_response, xlsx_response
from services.disbursements.service_layer import reconciliation as rec
from services.entitlements.contracts import BENEFIT_ZH, Benefit
from shared.auth import PrincipalDep
from shared.http.deps import RuntimeDep
from shared.http.params import OrgQuery
from shared.money import format_yuan

router = APIRouter(prefix="/v1/finance", tags=["finance"])

STATE_ZH = {
    "issued": "已发放",
    "paid": "已支付",
    "failed": "支付失败",
    "unanswered": "未回复",
    "reversed": "已冲回",
}
KIND_ZH = {"issued": "发放", "reissued": "重发", "reversed": "冲回"}
FOLLOW_UP_ZH = {
    "issued": "待工资系统回复",
    "paid": "已支付",
    "payment_failed": "待财务处理（重发或取消）",
    "cancelled": "已取消，额度已退回",
    "reversed": "已冲回",
}


class Total(BaseModel):
    count: int
    amount_fen: int
    amount_yuan: str


class ReconciliationLine(BaseModel):
    entry_id: str = Field(description="The payroll entry (`<disbursement_id>/issued` …)")
    kind: str = Field(description="issued, reissued or reversed")
    state: str = Field(description="paid, failed, unanswered; reversed for a correction")
    disbursement_id: str
    disbursement_status: str | None = Field(description="Where the disbursement stands now")
    member_id: str
    employee_number: str | None
    name: str | None
    base_union: str
    benefit: str
    subject_code: str | None = Field(description="Expense subject it is booked to")
    subject_name: str | None
    amount_fen: int
    business_date: date
    paid_pay_period: str | None
    paid_on: date | None
    payroll_reference: str | None
    failure_code: str | None
    failure_text: str | None
    sent_at: datetime


class ReconciliationView(BaseModel):
    union: str
    pay_period: str
    totals: dict[str, Total] = Field(
        description="issued (= paid + failed + unanswered), paid, failed, unanswered, reversed"
    )
    lines: list[ReconciliationLine]


class UnansweredEntry(BaseModel):
    entry_id: str
    kind: str
    disbursement_id: str
    disbursement_status: str | None
    member_id: str
    employee_number: str | None
    name: str | None
    base_union: str
    benefit: str
    amount_fen: int
    business_date: date
    pay_period: str
    sent_at: datetime


PayPeriod = Annotated[
    str, Query(pattern=PAY_PERIOD, description="The pay period, YYYY-MM", examples=["2026-03"])
]


@router.get(
    "/reconciliation",
    response_model=ReconciliationView,
    summary="Month-end reconciliation with payroll: issued, paid, failed, unanswered, reversed",
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
async def reconciliation(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
    pay_period: PayPeriod,
    union: OrgQuery = None,
    format: Annotated[
        str,
        Query(pattern="^(json|csv|xlsx)$", description="csv: UTF-8 with BOM; xlsx: Excel"),
    ] = "json",
) -> Any:
    """Every entry sent to payroll for the pay period, at or below the union, with payroll's
    answer and the expense subject it is booked to. Counts and amounts in exact fen."""
    org = caller.org_in_reach(union)
    async with runtime.sessions() as session:
        report = await rec.reconcile(session, org, pay_period, ctx.accounts)
    view = ReconciliationView(
        union=org,
        pay_period=pay_period,
        totals={
            s: Total(count=t.count, amount_fen=t.amount_fen, amount_yuan=format_yuan(t.amount_fen))
            for s, t in report.totals.items()
        },
        lines=[ReconciliationLine.model_validate(line) for line in report.lines],
    )
    if format == "json":
        return view
    name = f"reconciliation-{pay_period}"
    if format == "csv":
        return csv_response(COLUMNS, _rows(view), f"{name}.csv")
    return xlsx_response(f"{name}.xlsx", _summary(view), ("明细 lines", COLUMNS, _rows(view)))


COLUMNS = [  # Chinese first, the machine name beside it; amounts in yuan and exact fen
    "序号/line",
    "工号/employee_number",
    "姓名/name",
    "基层工会/base_union",
    "福利项目/benefit",
    "会计科目/subject_code",
    "科目名称/subject_name",
    "条目/kind",
    "对账结果/state",
    "金额(元)/amount_yuan",
    "金额(分)/amount_fen",
    "支付期间/paid_pay_period",
    "支付日期/paid_on",
    "工资单号/payroll_reference",
    "失败原因/failure",
    "后续/follow_up",
    "发放编号/disbursement_id",
    "条目编号/entry_id",
    "会员编号/member_id",
]


def _zh(table: dict[str, str], code: str | None) -> str | None:
    return f"{table.get(code, code)} {code}" if code else None


def _rows(view: ReconciliationView) -> list[list[Any]]:
    rows = []
    for n, line in enumerate(view.lines, start=1):
        failure = None
        if line.failure_code:
            zh = FAILURE_ZH.get(FailureReason(line.failure_code), line.failure_code)
            failure = f"{zh} {line.failure_code}：{line.failure_text}"
        rows.append(
            [
                n,
                line.employee_number,
                line.name,
                line.base_union,
                f"{BENEFIT_ZH.get(Benefit(line.benefit), line.benefit)} {line.benefit}",
                line.subject_code,
                line.subject_name,
                _zh(KIND_ZH, line.kind),
                _zh(STATE_ZH, line.state),
                format_yuan(line.amount_fen),
                line.amount_fen,
                line.paid_pay_period,
                line.paid_on,
                line.payroll_reference,
                failure,
                _zh(FOLLOW_UP_ZH, line.disbursement_status),
                line.disbursement_id,
                line.entry_id,
                line.member_id,
            ]
        )
    return rows


def _summary(view: ReconciliationView) -> Sheet:
    """汇总: the union and period, then each state's count and amount."""
    rows: list[list[Any]] = [["工资期间/pay_period", view.pay_period]]
    rows += [["项目/state", "笔数/count", "金额(元)/amount_yuan", "金额(分)/amount_fen"]]
    rows += [
        [_zh(STATE_ZH, state), total.count, Decimal(total.amount_fen) / 100, total.amount_fen]
        for state, total in view.totals.items()
    ]
    return ("汇总 summary", ["工会/union", view.union], rows)


@router.get(
    "/payroll/unanswered",
    response_model=list[UnansweredEntry],
    summary="Entries sent to payroll and not answered within the configured number of days",
)
async def unanswered(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
    union: OrgQuery = None,
    older_than_days: Annotated[
        int | None,
        Query(ge=0, le=3660, description="Sent more than this many days ago; default: setting"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many entries")] = 1000,
) -> list[UnansweredEntry]:
    """Oldest first: the lines to chase with payroll (an issue or re-issue with no answer)."""
    org = caller.org_in_reach(union)
    days = ctx.payroll_answer_days if older_than_days is None else older_than_days
    async with runtime.sessions() as session:
        rows = await rec.unanswered(session, org, days, limit)
    return [UnansweredEntry.model_validate(r) for r in rows]
