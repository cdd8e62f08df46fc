"""Command handlers of the member registry: load, decide, save — one unit of work each."""

from __future__ import annotations

import uuid

from services.members.adapters.repository import member_repository, project
from services.members.domain.commands import RegisterMember
from services.members.domain.events import MemberRegistered
from shared.auth import Principal, Role, parse_org
from shared.uow import UnitOfWork


async def register_member(cmd: RegisterMember, uow: UnitOfWork, caller: Principal) -> str:
    caller.require(Role.HR_INTEGRATION, Role.ADMIN)
    base_union = parse_org(cmd.base_union)
    caller.require_org(base_union)
    member_id = f"m-{uuid.uuid4().hex[:20]}"
    async with uow:
        repo = member_repository(uow.events)
        member = repo.new(member_id)
        member.register(
            member_id=member_id, **cmd.model_dump(exclude={"base_union"}), base_union=base_union
        )
        pending = list(member.pending)
        await repo.save(member, metadata={"actor": caller.subject})
        for event in pending:
            if isinstance(event, MemberRegistered):
                await project(uow.session, event)
    return member_id
