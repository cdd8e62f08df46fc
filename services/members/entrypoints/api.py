"""HTTP API of the member registry. Routers stay thin: request → command → handler."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from services.members.adapters.repository import read_member
from services.members.domain.commands import RegisterMember
from services.members.service_layer import handlers
from shared.auth import PrincipalDep
from shared.errors import NotFound
from shared.http.deps import RuntimeDep
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/members", tags=["members"])


class MemberCreated(BaseModel):
    member_id: str


class MemberView(BaseModel):
    member_id: str
    base_union: str
    name: str
    birth_date: date
    join_date: date
    employment_form: str
    migrant_worker: bool
    ethnic_minority: bool
    martyr_family: bool
    status: str


@router.post("", status_code=201, response_model=MemberCreated, summary="Register a member")
async def register(cmd: RegisterMember, caller: PrincipalDep, runtime: RuntimeDep) -> MemberCreated:
    member_id = await handlers.register_member(cmd, UnitOfWork(runtime), caller)
    return MemberCreated(member_id=member_id)


@router.get("/{member_id}", response_model=MemberView, summary="A member's registry entry")
async def get_member(member_id: str, caller: PrincipalDep, runtime: RuntimeDep) -> MemberView:
    async with runtime.sessions() as session:
        row = await read_member(session, member_id)
    # 404 rather than 403 outside the caller's subtree: existence is not disclosed.
    if row is None or not caller.can_reach(row["base_union"]):
        raise NotFound(f"no member {member_id}")
    return MemberView(**row)
