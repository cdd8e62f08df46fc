"""Caseworkers' API (`/v1/hardship/...`). Caseworkers act within their org subtree, reviewers
approve relief, auditors read (personal data masked) and read the audit trail. Every read of
personal data and every change is written to the audit trail; a file outside the caller's
subtree is a 404."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Header, Query, Response
from fastapi import Path as FastApiPath
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import and_, select

from services.hardship.adapters.tables import audit_log, cases
from services.hardship.contracts import HardshipLevel
from services.hardship.domain.case import Case
from services.hardship.domain.household import Household, ids_masked, masked
from services.hardship.domain.purposes import PURPOSES, purpose_code
from services.hardship.service_layer import early_warning, handlers
from shared.auth import Principal, PrincipalDep, Role, parse_org
from shared.db.sql import in_subtree
from shared.errors import Forbidden, NotFound
from shared.http.deps import RuntimeDep
from shared.money import Amount
from shared.runtime import Runtime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/hardship", tags=["hardship"])
CASEWORK = (Role.CASEWORKER,)
READERS = (Role.CASEWORKER, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
CLEAR = (Role.CASEWORKER, Role.REVIEWER)
Why = Annotated[
    str,
    Header(
        alias="X-Access-Reason",
        min_length=2,
        max_length=300,
        description="Why the file is read (audited). Chinese is sent percent-encoded UTF-8, "
        "e.g. %E5%B9%B4%E5%BA%A6%E5%A4%8D%E6%A0%B8 for 年度复核",
    ),
]
View = Annotated[
    Literal["masked", "clear"],
    Query(
        description="`clear` shows ID numbers in full (caseworkers and reviewers; audited as a "
        "clear read with the reason); by default they are masked"
    ),
]


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


def _view(case: Case, household: dict[str, Any] | None) -> CaseView:
    s = case.state
    return CaseView(
        case_id=case.case_id,
        union=s.union,
        status=s.status,
        level=s.level.value if s.level else None,
        emergency=s.emergency,
        member_ids=s.member_ids,
        next_review_on=s.next_review_on,
        follow_up_on=s.follow_up_on,
        history=case.history,
        reliefs=[
            ReliefView(
                **{k: v for k, v in vars(r).items() if k in ReliefView.model_fields},
                status="granted" if r.approved_by else "awaiting approval",
            )
            for r in case.reliefs.values()
        ],
        household=household,
    )


async def _read(
    runtime: Runtime, caller: Principal, case_id: str, why: str, view: str = "masked"
) -> CaseView:
    """Every read is audited, a refused one too (in its own transaction, so the refusal
    stands)."""
    ctx = runtime.context
    why = unquote(why)
    try:
        caller.require(*READERS)
        if view == "clear":
            caller.require(*CLEAR)
        async with UnitOfWork(runtime) as uow:
            case = await handlers.load_case(uow, caller, case_id)
            found = await handlers.read_household(ctx, uow, case_id)
            details = found.clear() if found else None
            if details is not None and not caller.has(*CLEAR):
                details = masked(details)
            elif details is not None and view != "clear":
                details = ids_masked(details)
            action = "read-clear" if view == "clear" else "read"
            await handlers.audit(ctx, uow, caller, action, case_id, why)
    except (NotFound, Forbidden):
        async with UnitOfWork(runtime) as uow:
            await handlers.audit(ctx, uow, caller, "read-denied", case_id, why)
        raise
    return _view(case, details)


@router.post("/cases", status_code=201, response_model=IntakeAnswer, summary="Take an intake")
async def intake(body: IntakeRequest, caller: PrincipalDep, runtime: RuntimeDep) -> IntakeAnswer:
    """A second intake for a household already on file (same member or ID number) joins it."""
    caller.require(*CASEWORK)
    union = parse_org(body.union)
    caller.require_org(union)
    async with UnitOfWork(runtime) as uow:
        case_id, joined = await handlers.intake(
            runtime.context, uow, caller, union=union, source=body.source, household=body.household
        )
    return IntakeAnswer(case_id=case_id, joined=joined)


@router.get("/cases/{case_id}", response_model=CaseView, summary="A household file (audited)")
async def get_case(
    case_id: str, caller: PrincipalDep, runtime: RuntimeDep, why: Why, view: View = "masked"
) -> CaseView:
    return await _read(runtime, caller, case_id, why, view)


class DuplicateFile(BaseModel):
    case_id: str
    union: str
    other_case_id: str
    other_union: str
    flagged_at: datetime


@router.get(
    "/duplicates",
    response_model=list[DuplicateFile],
    summary="One household on file in two unions that cannot see each other (province reviewers)",
)
async def list_duplicates(caller: PrincipalDep, runtime: RuntimeDep) -> list[DuplicateFile]:
    caller.require(Role.REVIEWER, Role.ADMIN)
    if "/" in caller.org:
        raise Forbidden("only the provincial federation sees duplicates", rule="auth.org")
    async with runtime.sessions() as session:
        return [DuplicateFile(**row) for row in await handlers.duplicates(session)]


async def _step(
    runtime: Runtime, caller: Principal, case_id: str, action: str, body: Step
) -> CaseView:
    caller.require(*CASEWORK)
    async with UnitOfWork(runtime) as uow:
        await handlers.act(
            runtime.context,
            uow,
            caller,
            case_id,
            action,
            why=body.reason,
            household=body.household,
            sudden=body.sudden,
        )
    return await _read(runtime, caller, case_id, f"after {action}")


def _route(action: str, summary: str) -> None:
    async def endpoint(
        case_id: str, caller: PrincipalDep, runtime: RuntimeDep, body: Step | None = None
    ) -> CaseView:
        return await _step(runtime, caller, case_id, action, body or Step())

    endpoint.__name__ = action.replace("-", "_")
    router.add_api_route(
        f"/cases/{{case_id}}/{action}",
        endpoint,
        methods=["POST"],
        response_model=CaseView,
        summary=summary,
    )


for _action, _summary in (
    ("assess", "Assess the household against the criteria in force"),
    ("register", "Put an assessed household on the register"),
    ("start-review", "Start a review (yearly, or brought forward by a life event)"),
    ("complete-review", "Re-assess: stay on the register (maybe at another level) or exit"),
    ("exit", "Out of hardship (脱困)"),
    ("close", "Close: retired, transferred out, deceased, refused"),
    ("re-enter", "An exited household falls back into hardship (返困)"),
    ("convert", "Turn an emergency intake into a full file"),
):
    _route(_action, _summary)


@router.post("/emergencies", status_code=201, summary="Same-day relief on a short intake")
async def emergency(
    body: EmergencyRequest, caller: PrincipalDep, runtime: RuntimeDep
) -> dict[str, str]:
    caller.require(*CASEWORK)
    union = parse_org(body.union)
    caller.require_org(union)
    async with UnitOfWork(runtime) as uow:
        case_id, relief_id = await handlers.emergency(
            runtime.context,
            uow,
            caller,
            union=union,
            household=body.household,
            member_id=body.member_id,
            amount_fen=body.amount_fen,
            in_kind=body.in_kind,
            purpose=body.purpose,
        )
    return {"case_id": case_id, "relief_id": relief_id}


@router.post("/cases/{case_id}/reliefs", status_code=201, summary="Request relief")
async def request_relief(
    case_id: str, body: ReliefRequest, caller: PrincipalDep, runtime: RuntimeDep
) -> CaseView:
    """Above the criteria's threshold a reviewer (not the requester) must approve it."""
    caller.require(*CASEWORK)
    async with UnitOfWork(runtime) as uow:
        await handlers.request_relief(runtime.context, uow, caller, case_id, **body.model_dump())
    return await _read(runtime, caller, case_id, "after relief request")


@router.post(
    "/cases/{case_id}/reliefs/{relief_id}/approve", summary="Approve relief (a second person)"
)
async def approve_relief(
    case_id: str, relief_id: str, caller: PrincipalDep, runtime: RuntimeDep
) -> CaseView:
    caller.require(Role.REVIEWER)
    async with UnitOfWork(runtime) as uow:
        await handlers.approve_relief(runtime.context, uow, caller, case_id, relief_id)
    return await _read(runtime, caller, case_id, "after relief approval")


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


LISTS = Literal["due-for-review", "overdue", "unchanged-for-a-year", "never-helped", "follow-up"]


@router.get("/cases", response_model=list[CaseRow], summary="Search the register")
async def search(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    union: Annotated[
        str | None, Query(description="Only files at or below this org (default: the caller's)")
    ] = None,
    level: Annotated[
        HardshipLevel | None, Query(description="困难类别: deep, relative or accident")
    ] = None,
    status: Annotated[
        str | None, Query(description="e.g. on_register, under_review, exited, closed")
    ] = None,
    review_due_before: Annotated[
        date | None, Query(description="Files whose next review is due before this day")
    ] = None,
    worklist: Annotated[
        LISTS | None, Query(alias="list", description="A caseworker's ready-made work list")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many")] = 500,
) -> list[CaseRow]:
    """Ids, levels and dates only: no personal data in lists."""
    caller.require(*READERS)
    org = parse_org(union) if union else caller.org
    if not caller.can_reach(org):
        raise NotFound(f"no union {org}")
    today = runtime.context.today()
    c = cases.c
    query = select(cases).where(in_subtree(c.union_path, org))
    if level:
        query = query.where(c.level == level.value)
    if status:
        query = query.where(c.status == status)
    if review_due_before:
        query = query.where(c.next_review_on <= review_due_before)
    on_register = c.status.in_(("on_register", "under_review"))
    lists = {
        "due-for-review": and_(on_register, c.next_review_on <= today + timedelta(days=30)),
        "overdue": and_(on_register, c.next_review_on < today),
        "unchanged-for-a-year": and_(on_register, c.last_changed_on <= today - timedelta(days=365)),
        "never-helped": and_(on_register, c.reliefs_granted == 0),
        "follow-up": and_(c.status == "exited", c.follow_up_on <= today),
    }
    if worklist:
        query = query.where(lists[worklist])
    async with runtime.sessions() as session:
        rows = (await session.execute(query.order_by(c.case_id).limit(limit))).mappings()
        return [CaseRow.model_validate(dict(r)) for r in rows]


@router.get("/export.csv", summary="The register as CSV (ids, levels, dates)")
async def export(caller: PrincipalDep, runtime: RuntimeDep) -> Response:
    rows = await search(caller, runtime, limit=5000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(CaseRow.model_fields))
    writer.writerows(tuple(r.model_dump().values()) for r in rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/cases/{case_id}/audit", summary="Who read or changed the file, when and why")
async def audit_trail(case_id: str, caller: PrincipalDep, runtime: RuntimeDep) -> list[dict]:
    caller.require(Role.AUDITOR, Role.ADMIN)
    async with runtime.sessions() as session:
        union = await session.scalar(select(cases.c.union_path).where(cases.c.case_id == case_id))
        if union is None or not caller.can_reach(union):
            raise NotFound(f"no case {case_id}")
        rows = await session.execute(
            select(audit_log).where(audit_log.c.case_id == case_id).order_by(audit_log.c.id)
        )
        return [dict(r) for r in rows.mappings()]


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


@router.get(
    "/watch-list",
    response_model=list[WatchEntry],
    summary="Members not on the register whose life events suggest risk (audited)",
)
async def watch_list(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    why: Why,
    include_cleared: Annotated[bool, Query(description="Also the entries already cleared")] = False,
) -> list[WatchEntry]:
    """Within the caller's part of the org tree, soonest follow-up first: job loss, a move to
    new-employment-form work, a birth in a household with an earlier file, repeated emergency
    relief, and households just out of hardship (relapse watch). The rules and their sources:
    `services/hardship/reference/early-warning.yaml`."""
    caller.require(*READERS)
    async with UnitOfWork(runtime) as uow:
        rows = await early_warning.watched(uow.session, caller.org, include_cleared=include_cleared)
        await handlers.audit(runtime.context, uow, caller, "read-watch-list", None, unquote(why))
    return [WatchEntry(**row) for row in rows]


@router.post(
    "/watch-list/{entry_id}/clear",
    response_model=list[WatchEntry],
    summary="A caseworker looked: clear the entry, saying what was found",
)
async def clear_watch(
    entry_id: Annotated[int, FastApiPath(ge=1, le=2**31 - 1)],
    body: Clearance,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> list[WatchEntry]:
    caller.require(*CASEWORK)
    ctx = runtime.context
    async with UnitOfWork(runtime) as uow:
        done = await early_warning.clear(
            uow, entry_id, caller.org, caller.subject, body.reason, ctx.today()
        )
        if not done:
            raise NotFound(f"no open watch-list entry {entry_id}")
        await handlers.audit(ctx, uow, caller, "watch-cleared", None, body.reason)
        rows = await early_warning.watched(uow.session, caller.org, include_cleared=False)
    return [WatchEntry(**row) for row in rows]
