"""A base union's finance officer: members, a member's ledgers, one disbursement, batches with
their forecast first, and spending by month (the union's standards: `standards.py`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.pages.common import (
    BackendDep,
    PersonDep,
    fen_from_yuan,
    page,
    policy_in_force,
    today,
)

router = APIRouter(include_in_schema=False)
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/members", response_class=HTMLResponse, name="members")
async def members(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    union: Annotated[str | None, Query(max_length=200)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    employee_number: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    found = await api.get(
        "members",
        "/v1/members",
        who.token,
        params={
            "base_union": union,
            "name": name,
            "employee_number": employee_number,
            "after": after,
            "limit": 50,
        },
    )
    query = {"union": union or "", "name": name or "", "employee_number": employee_number or ""}
    return page(request, "members.html", who, found=found, query=query)


@router.get("/members/{member_id}/ledger", response_class=HTMLResponse, name="ledger")
async def ledger(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    member_id: Id,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    as_of: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    year = year or today().year
    view = await api.get(
        "entitlements",
        f"/v1/members/{quote(member_id, safe='')}/ledgers/{year}",
        who.token,
        params={"as_of": as_of.isoformat() if as_of else None},
    )
    return page(request, "ledger.html", who, ledger=view, year=year, as_of=as_of)


@router.get("/disbursements/{disbursement_id}", response_class=HTMLResponse, name="disbursement")
async def disbursement(
    request: Request, who: PersonDep, api: BackendDep, disbursement_id: Id
) -> HTMLResponse:
    found = await api.get(
        "disbursements", f"/v1/disbursements/{quote(disbursement_id, safe='')}", who.token
    )
    return page(request, "disbursement.html", who, d=found)


@router.get("/batches/new", response_class=HTMLResponse, name="batch_new")
async def batch_new(request: Request, who: PersonDep, api: BackendDep) -> HTMLResponse:
    return page(
        request,
        "batch_new.html",
        who,
        benefits=await _benefits(api, who.token),
        form={"union": who.org, "business_date": today().isoformat()},
    )


@router.post("/batches/forecast", response_class=HTMLResponse, name="batch_forecast")
async def batch_forecast(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    union: Annotated[str, Form(max_length=200)],
    benefit: Annotated[str, Form(max_length=50)],
    amount_yuan: Annotated[str, Form(max_length=20)],
    business_date: Annotated[date, Form()],
    birthday_month: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """The dry run comes first: who would be refused and why, what it costs, what to know."""
    form = {
        "union": union,
        "benefit": benefit,
        "amount_yuan": amount_yuan,
        "business_date": business_date.isoformat(),
        "birthday_month": birthday_month,
    }
    body: dict[str, Any] = {
        "union": union,
        "benefit": benefit,
        "amount_fen": fen_from_yuan(amount_yuan),
        "business_date": business_date.isoformat(),
    }
    if birthday_month:
        body["birthday_month"] = int(birthday_month) if birthday_month.isdigit() else 0
    forecast = await api.post("entitlements", "/v1/forecasts/batches", who.token, body)
    return page(
        request,
        "batch_forecast.html",
        who,
        form=form,
        forecast=forecast,
        batch_key=str(uuid.uuid4()),  # the same key if the officer presses twice
    )


@router.post("/batches", name="batch_run")
async def batch_run(
    who: PersonDep,
    api: BackendDep,
    batch_key: Annotated[str, Form(min_length=1, max_length=200)],
    union: Annotated[str, Form(max_length=200)],
    benefit: Annotated[str, Form(max_length=50)],
    amount_yuan: Annotated[str, Form(max_length=20)],
    business_date: Annotated[date, Form()],
    birthday_month: Annotated[str, Form(max_length=2)] = "",
) -> RedirectResponse:
    selection: dict[str, Any] = {"kind": "all_active"}
    if birthday_month:
        month = int(birthday_month) if birthday_month.isdigit() else 0
        selection = {"kind": "birthday_month", "month": month}
    batch = await api.post(
        "disbursements",
        "/v1/disbursement-batches",
        who.token,
        {
            "batch_key": batch_key,
            "union": union,
            "benefit": benefit,
            "amount_fen": fen_from_yuan(amount_yuan),
            "business_date": business_date.isoformat(),
            "selection": selection,
        },
    )
    return RedirectResponse(f"/batches/{quote(batch['batch_id'], safe='')}", 303)


@router.get("/batches/{batch_id}", response_class=HTMLResponse, name="batch")
async def batch(request: Request, who: PersonDep, api: BackendDep, batch_id: Id) -> HTMLResponse:
    view = await _batch(api, who.token, batch_id)
    return page(request, "batch.html", who, batch=view)


@router.get("/batches/{batch_id}/progress", response_class=HTMLResponse, name="batch_progress")
async def batch_progress(
    request: Request, who: PersonDep, api: BackendDep, batch_id: Id
) -> HTMLResponse:
    """The progress bar alone, which the batch page asks for every second until it is done."""
    view = await _batch(api, who.token, batch_id)
    return page(request, "batch_progress.html", who, batch=view)


@router.get("/batches/{batch_id}/lines.{kind}", name="batch_lines")
async def batch_lines(
    who: PersonDep,
    api: BackendDep,
    batch_id: Id,
    kind: Annotated[Literal["csv", "xlsx"], Path()],
) -> Response:
    """The API's file as it made it: CSV, or a workbook with amounts as numbers."""
    path = f"/v1/disbursement-batches/{quote(batch_id, safe='')}/lines.{kind}"
    answer = await api.call("disbursements", "GET", path, who.token)
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.{kind}"'},
    )


@router.get("/spending", response_class=HTMLResponse, name="spending")
async def spending(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    union: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    year = year or today().year
    rows = await api.get(
        "disbursements", "/v1/finance/spending", who.token, params={"year": year, "union": union}
    )
    by_month = [0] * 12
    by_benefit: dict[str, int] = defaultdict(int)
    for r in rows:
        by_month[int(r["month"]) - 1] += int(r["issued_fen"])
        by_benefit[str(r["benefit"])] += int(r["issued_fen"])
    return page(
        request,
        "spending.html",
        who,
        year=year,
        rows=rows,
        by_month=by_month,
        by_benefit=dict(sorted(by_benefit.items(), key=lambda kv: -kv[1])),
        total=sum(by_month),
        peak=max(by_month) or 1,
    )


async def _batch(api: BackendDep, token: str, batch_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await api.get(
        "disbursements", f"/v1/disbursement-batches/{quote(batch_id, safe='')}", token
    )
    pending = int(view["by_status"].get("pending", 0))
    total = int(view["lines"])
    view["decided"] = total - pending
    view["percent"] = 100 if total == 0 else round(100 * (total - pending) / total)
    # every line written ("submitted") and none waiting for its decision
    view["done"] = view["status"] == "submitted" and pending == 0
    return view


async def _benefits(api: BackendDep, token: str) -> dict[str, str]:
    """The benefits of the policy in force today, by their titles in the policy."""
    policy = await policy_in_force(api, token)
    if policy is None:
        return {}
    return {name: rule.get("title", name) for name, rule in policy["member_benefits"].items()}
