"""County and province staff: how the ten measures are taken up, by city and county, and the
hardship register by level."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

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
