"""Caseworkers and reviewers: the hardship register by level and status, a file with its
history and reliefs, and reliefs waiting for the second pair of eyes.

Every read of a file is audited with a reason; the console asks it once per session and sends
it with each read, as the API requires."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console.backend import Backend
from console.pages.common import BackendDep, PersonDep, fen_from_yuan, page
from console.signin import Person

router = APIRouter(prefix="/hardship", include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
LEVELS = {"deep": "深度困难", "relative": "相对困难", "accident": "意外致困"}
STATUSES = {
    "intake": "已受理",
    "assessed": "已评估",
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
    "awaiting-approval": "待复核人员审批的救助",
}
STEPS = {  # the API's steps of a file, as a caseworker names them
    "assess": "评估",
    "register": "列入档案",
    "start-review": "开始复核",
    "complete-review": "完成复核",
    "exit": "脱困",
    "re-enter": "返困",
    "convert": "转为正式档案",
    "close": "关闭档案",
}
Step = Annotated[str, Path(pattern="^(" + "|".join(STEPS) + ")$")]
CAUSES = {
    "illness": "疾病",
    "disability": "残疾",
    "accident": "意外事故",
    "unemployment": "失业",
    "natural_disaster": "自然灾害",
    "childrens_education": "子女教育",
    "other": "其他",
}


async def purposes(api: Backend, token: str) -> dict[str, str]:
    """Relief purposes as the register names them (code → 中文名), read from the API."""
    rows = await api.get("hardship", "/v1/hardship/relief-purposes", token)
    return {row["code"]: row["title"] for row in rows}


RELATIONS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母", "other": "其他"}
SOURCES = {"survey": "走访摸底", "walk_in": "来访", "referral": "转介", "life_event": "生活事件"}
Text = Annotated[str, Form(max_length=100)]


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
        request,
        "case.html",
        who,
        case=found,
        levels=LEVELS,
        statuses=STATUSES,
        reason=reason,
        steps=STEPS,
        relations=RELATIONS,
        purposes=await purposes(api, who.token),
    )


@router.post("/cases/{case_id}/steps/{action}", name="case_step")
async def case_step(
    who: PersonDep,
    api: BackendDep,
    case_id: CaseId,
    action: Step,
    why: Annotated[str, Form(max_length=300)] = "",
    sudden: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """One step of the file (the API decides whether it may be taken now, and says why not)."""
    return await _on_file(api, who, case_id, action, {"reason": why.strip(), "sudden": sudden})


@router.post("/cases/{case_id}/reliefs", name="request_relief")
async def request_relief(
    who: PersonDep,
    api: BackendDep,
    case_id: CaseId,
    member_id: Annotated[str, Form(min_length=1, max_length=100)],
    amount_yuan: Annotated[str, Form(min_length=1, max_length=20)],
    purpose: Annotated[str, Form(min_length=1, max_length=40)],
    in_kind: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Above the criteria's threshold the relief waits for a reviewer (not the requester)."""
    body = {
        "member_id": member_id,
        "amount_fen": fen_from_yuan(amount_yuan),
        "purpose": purpose.strip(),
        "in_kind": in_kind,
    }
    return await _on_file(api, who, case_id, "reliefs", body)


@router.get("/watch", response_class=HTMLResponse, name="watch")
async def watch(request: Request, who: PersonDep, api: BackendDep) -> Any:
    """The early-warning list: members not on the register whose life events suggest risk.
    Reading it is audited like a file."""
    reason = request.session.get("reason")
    if not reason:
        return page(request, "reason.html", who, next="/hardship/watch")
    rows = await api.get("hardship", "/v1/hardship/watch-list", who.token, reason=reason)
    return page(request, "watch.html", who, rows=rows, reason=reason)


@router.post("/watch/{entry_id}/clear", name="clear_watch")
async def clear_watch(
    who: PersonDep,
    api: BackendDep,
    entry_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    found: Annotated[str, Form(min_length=1, max_length=300)],
) -> RedirectResponse:
    await api.post(
        "hardship",
        f"/v1/hardship/watch-list/{entry_id}/clear",
        who.token,
        {"reason": found.strip()},
    )
    return RedirectResponse("/hardship/watch", 303)


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
    return await _on_file(api, who, case_id, f"reliefs/{quote(relief_id, safe='')}/approve", None)


async def _on_file(
    api: Backend, who: Person, case_id: str, action: str, body: dict[str, Any] | None
) -> RedirectResponse:
    """An act on a file through the API (which refuses in words), then back to the file."""
    await api.post(
        "hardship", f"/v1/hardship/cases/{quote(case_id, safe='')}/{action}", who.token, body
    )
    return RedirectResponse(f"/hardship/cases/{quote(case_id)}", 303)


@router.get("/new", response_class=HTMLResponse, name="new_case")
async def new_case(request: Request, who: PersonDep, api: BackendDep) -> HTMLResponse:
    """One form for both ways in: an intake opens a file to assess; an emergency pays the same
    day on what is known at once and opens a file to convert later."""
    return page(
        request,
        "case_new.html",
        who,
        causes=CAUSES,
        sources=SOURCES,
        relations={k: v for k, v in RELATIONS.items() if k != "self"},
        purposes=await purposes(api, who.token),
        union=who.org,
    )


@router.post("/new", name="open_case")
async def open_case(
    who: PersonDep,
    api: BackendDep,
    kind: Annotated[Literal["intake", "emergency"], Form()],
    union: Annotated[str, Form(min_length=1, max_length=200)],
    city: Annotated[str, Form(min_length=1, max_length=40)],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    income_yuan: Annotated[str, Form(min_length=1, max_length=20)],
    causes: Annotated[list[str], Form(min_length=1, max_length=7)],
    member_id: Text = "",
    source: Text = "walk_in",
    amount_yuan: Annotated[str, Form(max_length=20)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    other_name: Annotated[list[str] | None, Form(max_length=19)] = None,
    other_relation: Annotated[list[str] | None, Form(max_length=19)] = None,
    other_member_id: Annotated[list[str] | None, Form(max_length=19)] = None,
) -> RedirectResponse:
    """The applicant and the household's other members (a row left blank is no one), with the
    income per head; ID numbers and documents are added at the assessment, through the API."""
    person = {"name": name.strip(), "relation": "self", "member_id": member_id.strip() or None}
    rows = zip(other_name or [], other_relation or [], other_member_id or [], strict=False)
    others = [
        {"name": n.strip(), "relation": r, "member_id": m.strip() or None}
        for n, r, m in rows
        if n.strip()
    ]
    household = {
        "city": city.strip(),
        "people": [person, *others],
        "monthly_income_per_head_fen": fen_from_yuan(income_yuan),
        "causes": causes,
    }
    if kind == "intake":
        body: dict[str, Any] = {"union": union, "source": source, "household": household}
        opened = await api.post("hardship", "/v1/hardship/cases", who.token, body)
    else:
        body = {
            "union": union,
            "household": household,
            "member_id": member_id.strip(),
            "amount_fen": fen_from_yuan(amount_yuan),
            "purpose": purpose.strip(),
        }
        opened = await api.post("hardship", "/v1/hardship/emergencies", who.token, body)
    return RedirectResponse(f"/hardship/cases/{quote(str(opened['case_id']))}", 303)
