"""Caseworkers' API (`/v1/hardship/...`). Caseworkers act within their org subtree, reviewers
approve relief, auditors read (personal data masked) and read the audit trail. Every read of
personal data and every change is written to the audit trail; a file outside the caller's
subtree is a 404."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi import Path as FastApiPath

from services.hardship.contracts import HardshipLevel
from services.hardship.domain.case import Case
from services.hardship.domain.commands import STEPS, CaseCommand
from services.hardship.domain.household import ids_masked, masked
from services.hardship.domain.purposes import PURPOSES
from services.hardship.entrypoints.access import CLEAR_VIEW
from services.hardship.entrypoints.deps import context
from services.hardship.entrypoints.schemas import (
    CaseRow,
    CaseView,
    Clearance,
    DuplicateFile,
    EmergencyRequest,
    IntakeAnswer,
    IntakeRequest,
    Purpose,
    ReliefRequest,
    ReliefView,
    Step,
    WatchEntry,
)
from services.hardship.service_layer import early_warning, handlers, views
from shared.auth import Principal, PrincipalDep, parse_org
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.http.deps import LanguageDep, RuntimeDep
from shared.http.language import Language
from shared.http.params import CaseId, RecordId
from shared.runtime import Runtime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/hardship", tags=["hardship"])


def access_reason(
    given: Annotated[
        str,
        Header(
            alias="X-Access-Reason",
            min_length=2,
            max_length=1000,
            description="Why the file is read (audited), 2 to 300 characters once decoded. "
            "Chinese is sent percent-encoded UTF-8, e.g. %E5%B9%B4%E5%BA%A6%E5%A4%8D%E6%A0%B8 "
            "for 年度复核",
        ),
    ],
) -> str:
    """The reason as a person wrote it: decoded, trimmed, and refused when blank, too short or
    too long, or holding a control character (a NUL cannot even be stored)."""
    try:
        why = unquote(given, errors="strict").strip()
    except UnicodeDecodeError:
        why = ""
    if not 2 <= len(why) <= 300 or any(unicodedata.category(c) == "Cc" for c in why):
        raise InvalidInput(
            "访问理由须为 2 至 300 个可读字符（the access reason is 2 to 300 readable characters）",
            field="X-Access-Reason",
            rule="input.access-reason",
        )
    return why


Why = Annotated[str, Depends(access_reason)]
View = Annotated[
    Literal["masked", "clear"],
    Query(
        description="`clear` shows ID numbers in full (caseworkers and reviewers; audited as a "
        "clear read with the reason); by default they are masked"
    ),
]


def _view(case: Case, household: dict[str, Any] | None, lang: Language) -> CaseView:
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
        history=[(h.on, h.zh if lang == "zh" else h.en) for h in case.history],
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
    runtime: Runtime,
    caller: Principal,
    case_id: CaseId,
    why: str,
    view: str = "masked",
    lang: Language = "zh",
) -> CaseView:
    """Every read is audited, a refused one too (in its own transaction, so the refusal
    stands)."""
    ctx = context(runtime)
    try:
        if view == "clear":
            caller.require(*CLEAR_VIEW)
        async with UnitOfWork(runtime) as uow:
            case = await handlers.load_case(uow, caller, case_id)
            found = await handlers.read_household(ctx, uow, case_id)
            details = found.clear() if found else None
            if details is not None and not caller.has(*CLEAR_VIEW):
                details = masked(details)
            elif details is not None and view != "clear":
                details = ids_masked(details)
            action = "read-clear" if view == "clear" else "read"
            await handlers.audit(ctx, uow, caller, action, case_id, why)
    except (NotFound, Forbidden):
        async with UnitOfWork(runtime) as uow:
            await handlers.audit(ctx, uow, caller, "read-denied", case_id, why)
        raise
    return _view(case, details, lang)


@router.post("/cases", status_code=201, response_model=IntakeAnswer, summary="Take an intake")
async def intake(body: IntakeRequest, caller: PrincipalDep, runtime: RuntimeDep) -> IntakeAnswer:
    """A second intake for a household already on file (same member or ID number) joins it."""
    union = parse_org(body.union)
    caller.require_org(union)
    async with UnitOfWork(runtime) as uow:
        case_id, joined = await handlers.intake(
            context(runtime), uow, caller, union=union, source=body.source, household=body.household
        )
    return IntakeAnswer(case_id=case_id, joined=joined)


@router.get("/cases/{case_id}", response_model=CaseView, summary="A household file (audited)")
async def get_case(
    case_id: CaseId,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    why: Why,
    lang: LanguageDep,
    view: View = "masked",
) -> CaseView:
    return await _read(runtime, caller, case_id, why, view, lang)


@router.get(
    "/duplicates",
    response_model=list[DuplicateFile],
    summary="One household on file in two unions that cannot see each other (province reviewers)",
)
async def list_duplicates(caller: PrincipalDep, runtime: RuntimeDep) -> list[DuplicateFile]:
    async with runtime.sessions() as session:
        return [DuplicateFile(**row) for row in await handlers.duplicates(session)]


async def _step(
    runtime: Runtime, caller: Principal, command: CaseCommand, lang: Language
) -> CaseView:
    """request → command → one handler → the file as it stands afterwards."""
    async with UnitOfWork(runtime) as uow:
        await handlers.handle(context(runtime), uow, caller, command)
    return await _read(runtime, caller, command.case_id, f"after {command.action}", lang=lang)


def _route(step: type[CaseCommand]) -> None:
    async def endpoint(
        case_id: CaseId,
        caller: PrincipalDep,
        runtime: RuntimeDep,
        lang: LanguageDep,
        body: Step | None = None,
    ) -> CaseView:
        given = body or Step()
        command = step(
            case_id=case_id, why=given.reason, household=given.household, sudden=given.sudden
        )
        return await _step(runtime, caller, command, lang)

    endpoint.__name__ = step.action.replace("-", "_")
    router.add_api_route(
        f"/cases/{{case_id}}/{step.action}",
        endpoint,
        methods=["POST"],
        response_model=CaseView,
        summary=step.summary,
    )


for _step_command in STEPS:
    _route(_step_command)


@router.post("/emergencies", status_code=201, summary="Same-day relief on a short intake")
async def emergency(
    body: EmergencyRequest, caller: PrincipalDep, runtime: RuntimeDep
) -> dict[str, str]:
    union = parse_org(body.union)
    caller.require_org(union)
    async with UnitOfWork(runtime) as uow:
        case_id, relief_id = await handlers.emergency(
            context(runtime),
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
    case_id: CaseId,
    body: ReliefRequest,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    lang: LanguageDep,
) -> CaseView:
    """Above the criteria's threshold a reviewer (not the requester) must approve it."""
    async with UnitOfWork(runtime) as uow:
        await handlers.request_relief(context(runtime), uow, caller, case_id, **body.model_dump())
    return await _read(runtime, caller, case_id, "after relief request", lang=lang)


@router.post(
    "/cases/{case_id}/reliefs/{relief_id}/approve", summary="Approve relief (a second person)"
)
async def approve_relief(
    case_id: CaseId,
    relief_id: RecordId,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    lang: LanguageDep,
) -> CaseView:
    async with UnitOfWork(runtime) as uow:
        await handlers.approve_relief(context(runtime), uow, caller, case_id, relief_id)
    return await _read(runtime, caller, case_id, "after relief approval", lang=lang)


LISTS = views.WorkList


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
    org = caller.org_in_reach(union)
    async with runtime.sessions() as session:
        rows = await views.search_cases(
            session,
            org,
            context(runtime).today(),
            level=level,
            status=status,
            review_due_before=review_due_before,
            worklist=worklist,
            limit=limit,
        )
    return [CaseRow.model_validate(r) for r in rows]


@router.get(
    "/export.csv",
    summary="The register as CSV (ids, levels, dates)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export(caller: PrincipalDep, runtime: RuntimeDep) -> Response:
    rows = await search(caller, runtime, limit=5000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(CaseRow.model_fields))
    writer.writerows(tuple(r.model_dump().values()) for r in rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get(
    "/relief-purposes",
    response_model=list[Purpose],
    summary="What relief may be for (用途): each code with its Chinese name",
)
async def relief_purposes() -> list[Purpose]:
    """The console and other clients show and offer these names rather than keep a copy."""
    return [Purpose(code=code, title=title) for code, title in PURPOSES.items()]


@router.get("/cases/{case_id}/audit", summary="Who read or changed the file, when and why")
async def audit_trail(case_id: CaseId, caller: PrincipalDep, runtime: RuntimeDep) -> list[dict]:
    async with runtime.sessions() as session:
        union, trail = await views.audit_trail(session, case_id)
    if union is None or not caller.can_reach(union):
        raise NotFound(f"no case {case_id}")
    return trail


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
    async with UnitOfWork(runtime) as uow:
        rows = await early_warning.watched(uow.session, caller.org, include_cleared=include_cleared)
        await handlers.audit(context(runtime), uow, caller, "read-watch-list", None, why)
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
    ctx = context(runtime)
    async with UnitOfWork(runtime) as uow:
        done = await early_warning.clear(
            uow, entry_id, caller.org, caller.subject, body.reason, ctx.today()
        )
        if not done:
            raise NotFound(f"no open watch-list entry {entry_id}")
        await handlers.audit(ctx, uow, caller, "watch-cleared", None, body.reason)
        rows = await early_warning.watched(uow.session, caller.org, include_cleared=False)
    return [WatchEntry(**row) for row in rows]
