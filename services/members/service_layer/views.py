"""What callers may read of a member: scoped by org, ID number and phone masked unless the
caller's role needs them in clear (HR integration and administrators)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.members.adapters import repository as repo
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.eventstore.store import EventStore
from shared.vault import IdentityVault

log = logging.getLogger(__name__)
CLEAR_IDENTITY_ROLES = (Role.HR_INTEGRATION, Role.ADMIN)


class ChildView(BaseModel):
    child_id: str
    birth_date: date
    birth_order: int
    within_policy: bool
    other_parent_member_id: str | None


class MemberSummary(BaseModel):
    member_id: str
    base_union: str
    name: str
    sex: str | None
    birth_date: date
    join_date: date
    employment_form: str
    migrant_worker: bool
    ethnic_minority: bool
    martyr_family: bool
    spouse_member_id: str | None
    employee_number: str | None
    status: str
    ended_reason: str | None
    ended_on: date | None
    last_birthday_year: int | None


class MemberView(MemberSummary):
    id_number: str | None
    phone: str | None
    children: list[ChildView]


class MemberEventView(BaseModel):
    version: int
    type: str
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


async def require_reachable(session: AsyncSession, caller: Principal, member_id: str) -> str:
    """The member's base union, or 404 — also outside the caller's subtree, so that existence
    is not disclosed."""
    union = await repo.union_of(session, member_id)
    if union is None or not caller.can_reach(union):
        raise NotFound(f"no member {member_id}")
    return union


async def member_view(
    session: AsyncSession, vault: IdentityVault, caller: Principal, member_id: str
) -> MemberView:
    row = await repo.read_member(session, member_id)
    if row is None or not caller.can_reach(row["base_union"]):
        raise NotFound(f"no member {member_id}")
    clear = caller.has(*CLEAR_IDENTITY_ROLES)
    id_number, phone = row["id_masked"], row["phone_masked"]
    if clear:
        id_number = vault.open(row["id_encrypted"]) if row["id_encrypted"] else None
        phone = vault.open(row["phone_encrypted"]) if row["phone_encrypted"] else None
        log.info(
            "identity disclosed in clear",
            extra={"actor": caller.subject, "member_id": member_id},
        )
    children = [ChildView(**c) for c in await repo.read_children(session, member_id)]
    summary = MemberSummary.model_validate(row, from_attributes=False)
    return MemberView(**summary.model_dump(), id_number=id_number, phone=phone, children=children)


async def member_events(store: EventStore, member_id: str) -> list[MemberEventView]:
    return [
        MemberEventView(
            version=s.version,
            type=s.event.event_type,
            recorded_at=s.recorded_at,
            actor=s.metadata.get("actor"),
            data=s.event.to_data(),
        )
        for s in await store.load(f"member-{member_id}")
    ]
