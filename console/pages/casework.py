"""Caseworkers and reviewers: the hardship register by level and status, a file with its
history and reliefs, and reliefs waiting for the second pair of eyes.

Every read of a file is audited with a reason; the console asks it once per session and sends
it with each read, as the API requires."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console.pages.common import BackendDep, PersonDep, page

router = APIRouter(prefix="/hardship", include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
LEVELS = {"deep": "深度困难", "relative": "相对困难", "accident": "意外致困"}
STATUSES = {
    "on_register": "在档",
    "under_review": "复核中",
    "exited": "已解困",
    "closed": "已关闭",
    "emergency": "应急救助",
}
WORKLISTS = {
    "due-for-review": "待复核",
    "overdue": "逾期未复核",
    "unchanged-for-a-year": "一年未变动",
    "never-helped": "未获帮扶",
    "follow-up": "待回访",
}


@router.get("", response_class=HTMLResponse, name="cases")
async def cases(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    level: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    worklist: Annotated[str | None, Query(alias="list", max_length=30)] = None,
) -> HTMLResponse:
    rows = await api.get(
        "hardship",
        "/v1/hardship/cases",
        who.token,
        params={"level": level, "status": status, "list": worklist, "limit": 200},
    )
    return page(
        request,
        "cases.html",
        who,
        rows=rows,
        query={"level": level or "", "status": status or "", "list": worklist or ""},
        levels=LEVELS,
        statuses=STATUSES,
        worklists=WORKLISTS,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse, name="case")
async def case(request: Request, who: PersonDep, api: BackendDep, case_id: CaseId) -> Any:
    reason = request.session.get("reason")
    if not reason:
        return page(request, "reason.html", who, next=f"/hardship/cases/{quote(case_id)}")
    found = await api.get(
        "hardship", f"/v1/hardship/cases/{quote(case_id, safe='')}", who.token, reason=reason
    )
    return page(
        request, "case.html", who, case=found, levels=LEVELS, statuses=STATUSES, reason=reason
    )


@router.post("/reason", name="reason")
async def give_reason(
    request: Request,
    who: PersonDep,
    reason: Annotated[str, Form(min_length=2, max_length=300)],
    next: Annotated[str, Form(max_length=200)] = "/hardship",
) -> RedirectResponse:
    """The reason for this session's reads (the API audits it with each one)."""
    request.session["reason"] = reason.strip()
    return RedirectResponse(next if next.startswith("/hardship") else "/hardship", 303)


@router.post("/cases/{case_id}/reliefs/{relief_id}/approve", name="approve_relief")
async def approve(
    who: PersonDep,
    api: BackendDep,
    case_id: CaseId,
    relief_id: Annotated[str, Path(min_length=1, max_length=100)],
) -> RedirectResponse:
    await api.post(
        "hardship",
        f"/v1/hardship/cases/{quote(case_id, safe='')}/reliefs/{quote(relief_id, safe='')}/approve",
        who.token,
        None,
    )
    return RedirectResponse(f"/hardship/cases/{quote(case_id)}", 303)
