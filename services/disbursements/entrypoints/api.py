"""HTTP API of disbursements: what a union's finance officer uses every week."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from services.disbursements.adapters import repository as repo
from services.disbursements.domain.commands import (
    CancelDisbursement,
    DisbursementCommand,
    IssueDisbursement,
    RedeemVoucher,
    ReissueDisbursement,
    ReverseDisbursement,
)
from services.disbursements.domain.model import SPENT
from services.disbursements.entrypoints.deps import context
from services.disbursements.entrypoints.exports import csv_response
from services.disbursements.entrypoints.schemas import (
    ClauseRefusals,
    DisbursementRequest,
    DisbursementView,
    PlanView,
    Reason,
    RecuperationPlan,
    SpendingRow,
    UptakeRow,
)
from services.disbursements.service_layer import handlers, recuperation, views
from services.entitlements.contracts import BENEFIT_ZH, Benefit
from shared.auth import Principal, PrincipalDep, Role, parse_org
from shared.clock import business_date
from shared.db.notices import Notices
from shared.errors import NotFound
from shared.http.deps import RuntimeDep
from shared.http.params import DisbursementId, OrgQuery, YearPath, YearQuery
from shared.runtime import Runtime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["disbursements"])
_FALLBACK_POLL_S = 0.5
WRITERS = (Role.FINANCE_OFFICER, Role.ADMIN)
# Who reads payments: finance, its auditors, and the hardship desk for the relief it grants.
READERS = (Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR, Role.CASEWORKER, Role.REVIEWER)
HARDSHIP_ROLES = (Role.CASEWORKER, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=8, max_length=200, description="Retry-safe")
]


def _view(row: dict[str, Any], caller: Principal) -> DisbursementView:
    fields = {k: row[k] for k in DisbursementView.model_fields if k in row}
    if row["benefit"] == Benefit.HARDSHIP_RELIEF and not caller.has(*HARDSHIP_ROLES):
        fields["details"] = {}  # which hardship file paid it is the hardship desk's to know
    return DisbursementView(**fields, status_url=f"/v1/disbursements/{row['disbursement_id']}")


async def _read(
    runtime: Runtime, caller: Principal, disbursement_id: DisbursementId
) -> dict[str, Any]:
    async with runtime.sessions() as session:
        row = await repo.read(session, disbursement_id)
    if row is None or not caller.can_reach(row["base_union"]):
        raise NotFound(f"no disbursement {disbursement_id}")
    return row


@router.post(
    "/disbursements",
    status_code=202,
    response_model=DisbursementView,
    summary="Ask for one disbursement; entitlements decides",
)
async def request_disbursement(
    body: DisbursementRequest,
    key: IdempotencyKey,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=30,
            description="Seconds to wait for a member registered a moment ago to reach this "
            "service (over Kafka) before answering 404",
        ),
    ] = 0,
) -> DisbursementView:
    """Answers 202 with the status URL. The same `Idempotency-Key` with the same body answers
    with the same disbursement; with another body, 422."""
    ctx = context(runtime)
    digest = handlers.request_hash(body.model_dump(mode="json"))
    if wait:
        await handlers.member_arrived(runtime, body.member_id, wait)
    async with UnitOfWork(runtime) as uow:
        existing = await handlers.claim_idempotency_key(uow, caller.subject, key, digest)
        disbursement_id = existing or await handlers.key_target(uow, caller.subject, key)
        if existing is None:
            new = handlers.NewDisbursement(**body.model_dump())
            opened = await handlers.open_disbursement(ctx, uow, disbursement_id, new, caller)
            await repo.disbursement_repository(uow.events).save(
                opened, metadata={"actor": caller.subject}
            )
    return _view(await _read(runtime, caller, disbursement_id), caller)


@router.get(
    "/disbursements/{disbursement_id}",
    response_model=DisbursementView,
    summary="Where a disbursement stands; `wait` long-polls for the decision",
)
async def get_disbursement(
    disbursement_id: DisbursementId,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait while pending")] = 0,
) -> DisbursementView:
    loop, decided = asyncio.get_running_loop(), context(runtime).decided
    deadline = loop.time() + wait
    with decided.watching(disbursement_id) if decided else nullcontext(asyncio.Event()) as notice:
        while True:
            notice.clear()  # before the read: a notice during the read is kept
            row = await _read(runtime, caller, disbursement_id)
            left = deadline - loop.time()
            if row["status"] != "pending" or left <= 0:
                return _view(row, caller)
            # Woken by the transaction that applies the decision, on whichever replica; the
            # fallback poll covers a listener that is reconnecting.
            await Notices.wait(notice, min(left, _FALLBACK_POLL_S))


async def _change(
    runtime: Runtime, caller: Principal, command: DisbursementCommand
) -> DisbursementView:
    """request → command → one handler → the disbursement as it stands afterwards."""
    async with UnitOfWork(runtime) as uow:
        await handlers.handle(uow, caller, command, business_date(runtime.clock))
    return _view(await _read(runtime, caller, command.disbursement_id), caller)


@router.post("/disbursements/{disbursement_id}/issue", response_model=DisbursementView)
async def issue(
    disbursement_id: DisbursementId, caller: PrincipalDep, runtime: RuntimeDep
) -> DisbursementView:
    """For a disbursement requested with `issue_on_approval: false`, once approved."""
    return await _change(runtime, caller, IssueDisbursement(disbursement_id=disbursement_id))


@router.post("/disbursements/{disbursement_id}/cancel", response_model=DisbursementView)
async def cancel(
    disbursement_id: DisbursementId, body: Reason, caller: PrincipalDep, runtime: RuntimeDep
) -> DisbursementView:
    """Before it is issued (the reservation goes back to the member's cap), or after payroll
    failed to pay it (the use goes back to the cap; payroll hears of nothing new)."""
    cancel = CancelDisbursement(disbursement_id=disbursement_id, reason=body.reason)
    return await _change(runtime, caller, cancel)


@router.post("/disbursements/{disbursement_id}/reverse", response_model=DisbursementView)
async def reverse(
    disbursement_id: DisbursementId, body: Reason, caller: PrincipalDep, runtime: RuntimeDep
) -> DisbursementView:
    """After it is issued: the cap is released and payroll gets a correction."""
    reverse = ReverseDisbursement(disbursement_id=disbursement_id, reason=body.reason)
    return await _change(runtime, caller, reverse)


@router.post("/disbursements/{disbursement_id}/reissue", response_model=DisbursementView)
async def reissue(
    disbursement_id: DisbursementId, body: Reason, caller: PrincipalDep, runtime: RuntimeDep
) -> DisbursementView:
    """After payroll failed to pay it: sent to payroll again under a new entry, in this month's
    pay period, on the reservation it holds (no new decision). To give the money back to the
    member's cap instead, cancel it."""
    command = ReissueDisbursement(disbursement_id=disbursement_id, reason=body.reason)
    return await _change(runtime, caller, command)


@router.post("/disbursements/{disbursement_id}/redeem", response_model=DisbursementView)
async def redeem(
    disbursement_id: DisbursementId, caller: PrincipalDep, runtime: RuntimeDep
) -> DisbursementView:
    """A voucher used before its expiry; unused vouchers go back to the cap when they expire."""
    return await _change(runtime, caller, RedeemVoucher(disbursement_id=disbursement_id))


# --- finance views -----------------------------------------------------------------------------


@router.get(
    "/finance/spending",
    response_model=list[SpendingRow],
    tags=["finance"],
    summary="Issued spending per union, benefit and month (reversals deducted), with the "
    "expense subject each is booked to",
    responses={200: {"content": {"text/csv": {}}}},
)
async def spending(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    year: YearQuery,
    union: OrgQuery = None,
    format: Annotated[
        str, Query(pattern="^(json|csv)$", description="csv: UTF-8 with BOM, for Excel")
    ] = "json",
) -> Any:
    org = caller.org_in_reach(union)
    async with runtime.sessions() as session:
        rows = [
            SpendingRow(
                union=u, benefit=b, month=m, issued_fen=t, issued=n, **_subject(runtime, b, year, m)
            )
            for u, b, m, t, n in await views.spending(session, org, year)
        ]
    if format == "csv":
        return csv_response(
            list(SpendingRow.model_fields),
            [tuple(r.model_dump().values()) for r in rows],
            f"spending-{year}.csv",
        )
    return rows


def _subject(runtime: Runtime, benefit: str, year: int, month: int) -> dict[str, str | None]:
    subject = context(runtime).accounts.subject(benefit, date(year, month, 1))
    return {
        "subject_code": subject.code if subject else None,
        "subject_name": subject.name if subject else None,
    }


@router.get(
    "/finance/uptake",
    response_model=list[UptakeRow],
    tags=["finance"],
    summary="How the ten measures are taken up, by place: members reached, lines and amounts "
    "spent, refusals by clause",
)
async def uptake(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    year: YearQuery,
    union: OrgQuery = None,
    depth: Annotated[
        int, Query(ge=1, le=8, description="Org-tree levels to sum to: 2 cities, 3 counties")
    ] = 3,
) -> list[UptakeRow]:
    """Never above the caller's own place: a county asking for cities sees its county."""
    org = caller.org_in_reach(union)
    depth = max(depth, org.count("/") + 1)
    async with runtime.sessions() as session:
        totals, refusals = await views.uptake(session, org, year, depth)
    by_cell: dict[tuple[str, str], list[ClauseRefusals]] = {}
    for place, benefit, clause, rule, n in refusals:
        by_cell.setdefault((place, benefit), []).append(
            ClauseRefusals(clause=clause, rule=rule, refused=n)
        )
    return [
        UptakeRow(
            place=place,
            benefit=benefit,
            benefit_zh=BENEFIT_ZH.get(Benefit(benefit), benefit),
            members_reached=members,
            issued=issued,
            issued_fen=int(fen),
            refused=refused,
            refusals=by_cell.get((place, benefit), []),
        )
        for place, benefit, members, issued, fen, refused in totals
    ]


# --- recuperation plans ------------------------------------------------------------------------


@router.put(
    "/recuperation-plans/{org:path}/{year}",
    response_model=PlanView,
    tags=["recuperation"],
    summary="A base union's annual recuperation plan",
)
async def put_plan(
    org: str, year: YearPath, body: RecuperationPlan, caller: PrincipalDep, runtime: RuntimeDep
) -> PlanView:
    union = parse_org(org)
    caller.require_org(union)
    async with UnitOfWork(runtime) as uow:
        await recuperation.save_plan(
            uow.session, union, year, {**body.model_dump(), "set_by": caller.subject}
        )
    return await get_plan(org, year, caller, runtime)


@router.get(
    "/recuperation-plans/{org:path}/{year}",
    response_model=PlanView,
    tags=["recuperation"],
    summary="The plan, and who has gone",
)
async def get_plan(org: str, year: YearPath, caller: PrincipalDep, runtime: RuntimeDep) -> PlanView:
    union = parse_org(org)
    if not caller.can_reach(union):
        raise NotFound(f"no plan for {union}")
    async with runtime.sessions() as session:
        plan = await recuperation.plan_for(session, union, year)
        if plan is None:
            raise NotFound(f"no recuperation plan for {union} in {year}")
        went = await recuperation.participation(session, union, year)
    fields = {k: plan[k] for k in RecuperationPlan.model_fields}
    return PlanView(
        **fields,
        union=union,
        year=year,
        participation={m: went[m] for m in plan["participants"] if m in went},
        not_yet_sent=[m for m in plan["participants"] if went.get(m) not in SPENT],
    )
