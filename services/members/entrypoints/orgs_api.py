"""The union org tree over HTTP: everyone reads their subtree; administrators load units."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.members.adapters import orgs
from services.members.domain.org import OrgUnit
from services.members.service_layer.hr import parked_events
from shared.auth import PrincipalDep, Role, parse_org
from shared.errors import NotFound
from shared.http.deps import RuntimeDep

router = APIRouter(tags=["org tree"])


class OrgUnits(BaseModel):
    units: list[OrgUnit] = Field(min_length=1, max_length=10_000)


class UnitsWritten(BaseModel):
    written: int


class ParkedHrEvent(BaseModel):
    source: str
    employee_number: str
    hr_event_id: str
    event_type: str
    parked_at: object
    last_error: str | None


@router.get("/v1/orgs", response_model=list[OrgUnit], summary="The caller's part of the org tree")
async def list_units(
    caller: PrincipalDep, runtime: RuntimeDep, root: str | None = None
) -> list[OrgUnit]:
    start = parse_org(root) if root else caller.org
    if not caller.can_reach(start):
        raise NotFound(f"no union {start}")
    async with runtime.sessions() as session:
        return await orgs.subtree(session, start)


@router.put("/v1/orgs", response_model=UnitsWritten, summary="Add or rename units (admin)")
async def put_units(body: OrgUnits, caller: PrincipalDep, runtime: RuntimeDep) -> UnitsWritten:
    """Units may refer to each other as parents; a unit keeps its kind once created."""
    caller.require(Role.ADMIN)
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
    caller.require(Role.ADMIN, Role.HR_INTEGRATION)
    async with runtime.sessions() as session:
        return [ParkedHrEvent(**row) for row in await parked_events(session)]
