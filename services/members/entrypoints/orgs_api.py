"""The union org tree over HTTP: everyone reads their subtree; administrators load units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.members.adapters import orgs
from services.members.domain.org import OrgUnit
from services.members.entrypoints.deps import context
from services.members.service_layer import hr_conflicts
from services.members.service_layer.hr_conflicts import parked_events
from shared.auth import PrincipalDep, parse_org
from shared.errors import NotFound
from shared.http.deps import RuntimeDep
from shared.uow import UnitOfWork

router = APIRouter(tags=["org tree"])


class OrgUnits(BaseModel):
    units: list[OrgUnit] = Field(
        min_length=1, max_length=10_000, description="Units to add or rename, parents first"
    )


class UnitsWritten(BaseModel):
    written: int


class HrConflict(BaseModel):
    id: int
    source: str
    employee_number: str
    hr_event_id: str
    event_type: str
    kind: str = Field(description="id-number-in-use | never-hired")
    reason: str
    base_union: str | None
    existing_member_id: str | None
    existing_employee_number: str | None
    raised_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class Resolution(BaseModel):
    resolution: str = Field(
        min_length=1, max_length=500, examples=["与 HR 核实：E-112 工号录入错误，已更正后重发"]
    )


class ParkedHrEvent(BaseModel):
    source: str
    employee_number: str
    hr_event_id: str
    event_type: str
    parked_at: object
    last_error: str | None


@router.get("/v1/orgs", response_model=list[OrgUnit], summary="The caller's part of the org tree")
async def list_units(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    root: Annotated[
        str | None, Query(description="Start here (default: the caller's own org)")
    ] = None,
) -> list[OrgUnit]:
    start = parse_org(root) if root else caller.org
    if not caller.can_reach(start):
        raise NotFound(f"no union {start}")
    async with runtime.sessions() as session:
        return await orgs.subtree(session, start)


@router.put("/v1/orgs", response_model=UnitsWritten, summary="Add or rename units (admin)")
async def put_units(body: OrgUnits, caller: PrincipalDep, runtime: RuntimeDep) -> UnitsWritten:
    """Units may refer to each other as parents; a unit keeps its kind once created."""
    for unit in body.units:
        caller.require_org(unit.path)
    async with runtime.sessions() as session, session.begin():
        written = await orgs.save_units(session, body.units)
    return UnitsWritten(written=written)


@router.get(
    "/v1/hr/parked",
    response_model=list[ParkedHrEvent],
    tags=["hr"],
    summary="HR events waiting for the hire of their employee",
)
async def list_parked(caller: PrincipalDep, runtime: RuntimeDep) -> list[ParkedHrEvent]:
    """The union of an employee not hired yet is not known: only callers at the province see
    them (a union's HR integration sees its own once the hire arrives)."""
    if not caller.at_province:
        return []
    async with runtime.sessions() as session:
        return [ParkedHrEvent(**row) for row in await parked_events(session)]


@router.get(
    "/v1/hr/conflicts",
    response_model=list[HrConflict],
    tags=["hr"],
    summary="HR events an operator must resolve: a reused ID number, a hire that never came",
)
async def list_conflicts(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    include_resolved: Annotated[
        bool, Query(description="Also the conflicts already resolved")
    ] = False,
) -> list[HrConflict]:
    """Nothing here was applied. Resolve it at the HR system (correct the number, send the
    hire) and re-send the event with a new `hr_event_id`, then mark the conflict resolved."""
    async with runtime.sessions() as session:
        rows = await hr_conflicts.conflicts(session, caller.org, open_only=not include_resolved)
    return [HrConflict(**row) for row in rows]


@router.post(
    "/v1/hr/conflicts/{conflict_id}/resolve",
    response_model=list[HrConflict],
    tags=["hr"],
    summary="Mark an HR conflict resolved, saying how",
)
async def resolve_conflict(
    conflict_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: Resolution,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> list[HrConflict]:
    async with UnitOfWork(runtime) as uow:
        done = await hr_conflicts.resolve_conflict(
            context(runtime), uow, conflict_id, caller.org, caller.subject, body.resolution
        )
    if not done:
        raise NotFound(f"no HR conflict {conflict_id}")
    async with runtime.sessions() as session:
        rows = await hr_conflicts.conflicts(session, caller.org, open_only=True)
    return [HrConflict(**row) for row in rows]
