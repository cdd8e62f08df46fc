"""Members: the event-sourced aggregate and the registry read model, written in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.members.adapters.tables import members
from services.members.domain.events import MemberRegistered
from services.members.domain.model import Member
from shared.aggregate import Repository
from shared.eventstore.store import EventStore


def member_repository(store: EventStore) -> Repository[Member]:
    return Repository(store, Member, "member")


async def project(session: AsyncSession, event: MemberRegistered) -> None:
    row = event.model_dump(mode="python", exclude={"member_id"})
    await session.execute(
        pg_insert(members)
        .values(member_id=event.member_id, **row)
        .on_conflict_do_update(index_elements=[members.c.member_id], set_=row)
    )


async def read_member(session: AsyncSession, member_id: str) -> dict[str, Any] | None:
    result = await session.execute(select(members).where(members.c.member_id == member_id))
    row = result.mappings().first()
    return dict(row) if row else None
