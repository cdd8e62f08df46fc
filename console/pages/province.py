"""County and province staff: how the ten measures are taken up, by city and county, the
hardship register by level, and what a draft policy would have done to a past year."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from console.backend import ServiceProblem
from console.pages.casework import LEVELS
from console.pages.common import BackendDep, PersonDep, page, today

router = APIRouter(include_in_schema=False)


@router.get("/uptake", response_class=HTMLResponse, name="uptake")
async def uptake(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    depth: Annotated[int, Query(ge=1, le=4, description="2: cities, 3: counties")] = 3,
) -> HTMLResponse:
    year = year or today().year
    rows = await api.get("disbursements", "/v1/finance/spending", who.token, params={"year": year})
    places: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    benefits: set[str] = set()
    for r in rows:
        place = "/".join(str(r["union"]).split("/")[:depth])
        cell = places[place][str(r["benefit"])]
        cell[0] += int(r["issued"])
        cell[1] += int(r["issued_fen"])
        benefits.add(str(r["benefit"]))
    cases = await api.get("hardship", "/v1/hardship/cases", who.token, params={"limit": 5000})
    by_level = Counter(c["level"] or "none" for c in cases if c["status"] != "closed")
    return page(
        request,
        "uptake.html",
        who,
        year=year,
        depth=depth,
        places=dict(sorted(places.items())),
        benefits=sorted(benefits),
        by_level=by_level,
        levels=LEVELS,
    )


@router.get("/what-if", response_class=HTMLResponse, name="what_if")
async def what_if_form(request: Request, who: PersonDep, api: BackendDep) -> HTMLResponse:
    """The draft starts as the policy in force today, renamed: one edits what would change."""
    versions = await api.get("entitlements", "/v1/policies", who.token)
    in_force = [v for v in versions if v["effective_from"] <= today().isoformat()]
    draft: dict[str, Any] = {}
    if in_force:
        latest = max(in_force, key=lambda v: v["effective_from"])
        draft = await api.get("entitlements", f"/v1/policies/{quote(latest['version'])}", who.token)
        draft["version"] = f"{latest['version']}-draft"
    text = json.dumps(draft, ensure_ascii=False, indent=2)
    return page(request, "what_if.html", who, draft=text, year=today().year - 1, union="")


@router.post("/what-if", response_class=HTMLResponse, name="what_if_run")
async def what_if_run(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    draft: Annotated[str, Form(min_length=2, max_length=500_000)],
    year: Annotated[int, Form(ge=2000, le=2100)],
    union: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Every request of the year decided again under the draft; nothing is saved."""
    try:
        parsed = json.loads(draft)
    except json.JSONDecodeError as exc:
        raise ServiceProblem(
            422, "草案格式有误 Invalid draft", f"草案须为 JSON：{exc.msg}（第 {exc.lineno} 行）",
            field="draft",
        ) from None  # fmt: skip
    answer = await api.post(
        "entitlements",
        "/v1/policies/what-if",
        who.token,
        {"draft": parsed, "year": year, "union": union.strip() or None},
    )
    return page(request, "what_if.html", who, draft=draft, year=year, union=union, answer=answer)
