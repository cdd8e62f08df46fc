"""County and province staff: how the ten measures are taken up, by city and county, the
hardship register by level, and what a draft policy would have done to a past year."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from console.backend import ServiceProblem
from console.pages.casework import LEVELS
from console.pages.common import BackendDep, PersonDep, page, policy_in_force, today

router = APIRouter(include_in_schema=False)


@router.get("/uptake", response_class=HTMLResponse, name="uptake")
async def uptake(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    depth: Annotated[int, Query(ge=1, le=4, description="2: cities, 3: counties")] = 3,
) -> HTMLResponse:
    """Per place and measure: members reached, amount, and what refused the rest (by clause);
    places by their Chinese names from the org tree."""
    year = year or today().year
    rows = await api.get(
        "disbursements", "/v1/finance/uptake", who.token, params={"year": year, "depth": depth}
    )
    names = {u["path"]: u["name"] for u in await api.get("members", "/v1/orgs", who.token)}
    places: dict[str, dict[str, Any]] = defaultdict(dict)
    benefits: dict[str, str] = {}
    refusals: list[dict[str, Any]] = []
    for r in rows:
        places[r["place"]][r["benefit"]] = r
        benefits[r["benefit"]] = r["benefit_zh"]
        cell = {"place": r["place"], "benefit_zh": r["benefit_zh"]}
        refusals += [{**cell, **x} for x in r["refusals"]]
    cases = await api.get("hardship", "/v1/hardship/cases", who.token, params={"limit": 5000})
    by_level = Counter(c["level"] or "none" for c in cases if c["status"] != "closed")
    return page(
        request,
        "uptake.html",
        who,
        year=year,
        depth=depth,
        places=dict(sorted(places.items())),
        names=names,
        benefits=dict(sorted(benefits.items())),
        refusals=sorted(refusals, key=lambda x: -x["refused"])[:50],
        by_level=by_level,
        levels=LEVELS,
    )


@router.get("/what-if", response_class=HTMLResponse, name="what_if")
async def what_if_form(request: Request, who: PersonDep, api: BackendDep) -> HTMLResponse:
    """The draft starts as the policy in force today, renamed: one edits what would change."""
    draft = await policy_in_force(api, who.token) or {}
    if draft:
        draft["version"] = f"{draft['version']}-draft"
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
