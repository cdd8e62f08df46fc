"""Eligibility lists, within the caller's part of the union tree."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.entitlements.adapters import eligibility
from services.entitlements.contracts import Benefit
from services.entitlements.domain.profile import born_after_for
from services.entitlements.entrypoints.deps import context
from shared.auth import Principal, PrincipalDep
from shared.clock import business_date
from shared.errors import InvalidInput
from shared.http.deps import RuntimeDep
from shared.http.params import OptionalYear

router = APIRouter(prefix="/v1/eligibility", tags=["eligibility"])
Union = Annotated[str | None, Query(description="Narrow to this org (default: the caller's)")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="At most this many members")]


def _org(caller: Principal, union: str | None) -> str:
    """Who may be offered what says who is in hardship or migrant work: for those who pay and
    those who help, not for HR integrations."""
    return caller.org_in_reach(union)


@router.get("/summer-camp", summary="Children eligible for the union summer camp (clause 5)")
async def summer_camp(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    union: Union = None,
    max_age: Annotated[
        int | None,
        Query(ge=0, le=25, description="Children up to this age (default and most: the policy's)"),
    ] = None,
    limit: Limit = 1000,
) -> list[dict[str, Any]]:
    today = business_date(runtime.clock)
    try:
        rule = context(runtime).policies.in_force(today).member_benefits[Benefit.SUMMER_CAMP]
    except (LookupError, KeyError):
        raise InvalidInput(f"no summer-camp rule governs {today}", field="max_age") from None
    limit_age = rule.max_child_age if rule.max_child_age is not None else 25
    born_after = born_after_for(
        min(max_age if max_age is not None else limit_age, limit_age), today
    )
    async with runtime.sessions() as session:
        return await eligibility.summer_camp_children(
            session, _org(caller, union), born_after, limit
        )


@router.get("/nef-insurance", summary="New-employment-form workers to insure (clause 9)")
async def nef_insurance(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    union: Union = None,
    year: OptionalYear = None,
    limit: Limit = 1000,
) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        return await eligibility.nef_workers(
            session, _org(caller, union), year or business_date(runtime.clock).year, limit
        )


@router.get(
    "/recuperation", summary="Members not yet sent to recuperation in the current cycle (clause 2)"
)
async def recuperation(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    union: Union = None,
    year: OptionalYear = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    year = year or business_date(runtime.clock).year
    try:
        policy = context(runtime).policies.in_force(date(year, 12, 31))
        rule = policy.member_benefits[Benefit.RECUPERATION]
    except (LookupError, KeyError):
        raise InvalidInput(f"no recuperation rule governs {year}", field="year") from None
    cycle = rule.cycle_of(year)
    assert cycle is not None
    async with runtime.sessions() as session:
        members = await eligibility.not_yet_recuperated(session, _org(caller, union), cycle, limit)
    return {"cycle": {"from": cycle[0], "to": cycle[1]}, "clause": rule.clause, "members": members}
