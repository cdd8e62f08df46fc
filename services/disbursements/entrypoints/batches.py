"""HTTP API of batches: one benefit to every selected member of a union or subtree, its progress,
and every line with its reason, as CSV or Excel for the finance officer's files."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Response

from services.disbursements.entrypoints.exports import XLSX, csv_response, xlsx_response
from services.disbursements.entrypoints.schemas import BatchView
from services.disbursements.service_layer import views
from services.disbursements.service_layer.batches import BatchRequest, batch_report, create_batch
from shared.auth import Principal, PrincipalDep, parse_org
from shared.errors import NotFound
from shared.http.deps import RuntimeDep
from shared.http.params import BatchId
from shared.money import format_yuan
from shared.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["disbursements"])


@router.post(
    "/disbursement-batches",
    status_code=202,
    response_model=BatchView,
    tags=["batches"],
    summary="One benefit to every selected member of a union or subtree",
)
async def post_batch(body: BatchRequest, caller: PrincipalDep, runtime: RuntimeDep) -> BatchView:
    union = parse_org(body.union)
    caller.require_org(union)
    batch_id = await create_batch(runtime, caller, body, union)
    runtime.services["batches"].wake.set()
    return await _batch(runtime, caller, batch_id)


@router.get(
    "/disbursement-batches/{batch_id}",
    response_model=BatchView,
    tags=["batches"],
    summary="Progress and totals: lines by status",
)
async def get_batch(batch_id: BatchId, caller: PrincipalDep, runtime: RuntimeDep) -> BatchView:
    return await _batch(runtime, caller, batch_id)


async def _batch(runtime: Runtime, caller: Principal, batch_id: BatchId) -> BatchView:
    found = await batch_report(runtime, batch_id)
    if found is None or not caller.can_reach(found[0]["union_path"]):
        raise NotFound(f"no batch {batch_id}")
    batch, counts = found
    by_status = {status: n for status, n, _ in counts}
    return BatchView(
        batch_id=batch_id,
        status=batch["status"],
        union=batch["union_path"],
        benefit=batch["benefit"],
        amount_fen=batch["amount_fen"],
        business_date=batch["business_date"],
        lines=sum(by_status.values()),
        by_status=by_status,
        amount_by_status_fen={status: int(total) for status, _, total in counts},
        lines_url=f"/v1/disbursement-batches/{batch_id}/lines.csv",
    )


STATUS_ZH = {
    "pending": "处理中",
    "approved": "已核准",
    "issued": "已发放",
    "paid": "已支付",
    "payment_failed": "支付失败",
    "rejected": "未通过",
    "cancelled": "已取消",
    "reversed": "已冲回",
}
LINE_COLUMNS = [  # Chinese first, the machine name beside it; amounts in yuan and exact fen
    "序号/line",
    "工号/employee_number",
    "姓名/name",
    "基层工会/base_union",
    "结果/status",
    "金额(元)/amount_yuan",
    "金额(分)/amount_fen",
    "原因/reason",
    "条款/clause",
    "剩余额度(元)/remaining_yuan",
    "发放编号/disbursement_id",
    "会员编号/member_id",
]


@router.get(
    "/disbursement-batches/{batch_id}/lines.csv",
    tags=["batches"],
    summary="Every line of a batch: who (工号, name), status, reason, clause, what remains",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM, for Excel"}},
)
async def batch_lines(batch_id: BatchId, caller: PrincipalDep, runtime: RuntimeDep) -> Response:
    rows = await _lines(runtime, caller, batch_id, format_yuan)
    return csv_response(LINE_COLUMNS, rows, f"{batch_id}.csv")


@router.get(
    "/disbursement-batches/{batch_id}/lines.xlsx",
    tags=["batches"],
    summary="The same lines as an Excel workbook (amounts as numbers, ids as text)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "One sheet, 明细 lines"}},
)
async def batch_lines_xlsx(
    batch_id: BatchId, caller: PrincipalDep, runtime: RuntimeDep
) -> Response:
    rows = await _lines(runtime, caller, batch_id, lambda fen: Decimal(fen) / 100)
    return xlsx_response(f"{batch_id}.xlsx", ("明细 lines", LINE_COLUMNS, rows))


async def _lines(
    runtime: Runtime, caller: Principal, batch_id: str, yuan: Callable[[int], Any]
) -> list[list[Any]]:
    """One row per line, in LINE_COLUMNS' order; `yuan` writes an amount in yuan."""
    await _batch(runtime, caller, batch_id)
    async with runtime.sessions() as session:
        rows = await views.batch_lines(session, batch_id)
    return [
        [
            n,
            r.employee_number,
            r.name,
            r.base_union,
            f"{STATUS_ZH.get(r.status, r.status)} {r.status}",
            yuan(r.amount_fen),
            r.amount_fen,
            r.reason,
            r.clause,
            yuan(r.remaining_fen) if r.remaining_fen is not None else None,
            r.disbursement_id,
            r.member_id,
        ]
        for n, r in enumerate(rows, start=1)
    ]
