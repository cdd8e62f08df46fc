"""Cases, their index for lists, the encrypted household details, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.hardship.adapters.tables import audit_log, cases, duplicate_files, households
from services.hardship.domain.case import Case
from services.hardship.domain.events import CaseEvent, CaseOpened, ReliefApproved
from shared.aggregate import Repository
from shared.events import DomainEvent
from shared.eventstore.store import EventStore


class CaseRepository(Repository[Case]):
    """Saving a case also brings its row in the `cases` index up to date."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store, Case, "case")
        self._session = store.session

    async def save_many(self, aggregates: Any, metadata: dict[str, str] | None = None) -> None:
        pending = [(a, list(a.pending)) for a in aggregates]
        await super().save_many(aggregates, metadata)
        for case, events in pending:
            await index(self._session, case, events)


async def index(session: AsyncSession, case: Case, events: list[DomainEvent]) -> None:
    s = case.state
    row = {
        "union_path": s.union,
        "member_ids": s.member_ids,
        "status": s.status,
        "level": s.level.value if s.level else None,
        "emergency": s.emergency,
        "next_review_on": s.next_review_on,
        "follow_up_on": s.follow_up_on,
        "last_changed_on": s.last_changed_on,
        "reliefs_granted": sum(1 for r in case.reliefs.values() if r.approved_by),
        "reliefs_awaiting": sum(1 for r in case.reliefs.values() if not r.approved_by),
    }
    if any(isinstance(e, CaseOpened) for e in events):
        await session.execute(
            insert(cases).values(case_id=case.case_id, opened_on=s.opened_on, **row)
        )
    elif any(isinstance(e, CaseEvent | ReliefApproved) for e in events):
        await session.execute(update(cases).where(cases.c.case_id == case.case_id).values(**row))


async def save_household(
    session: AsyncSession, case_id: str, city: str, sealed: bytes, id_hashes: list[str]
) -> None:
    await session.execute(
        pg_insert(households)
        .values(case_id=case_id, city=city, sealed=sealed, id_hashes=id_hashes)
        .on_conflict_do_update(
            index_elements=[households.c.case_id],
            set_={"city": city, "sealed": sealed, "id_hashes": id_hashes},
        )
    )


async def household(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    row = (
        (await session.execute(select(households).where(households.c.case_id == case_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def open_case_for(
    session: AsyncSession, member_ids: list[str], id_hashes: list[str]
) -> tuple[str, str] | None:
    """A case not closed that shares a member or an ID number with a new intake: its id and
    its union."""
    query = (
        select(cases.c.case_id, cases.c.union_path)
        .outerjoin(households, households.c.case_id == cases.c.case_id)
        .where(cases.c.status != "closed")
    )
    conditions = []
    if member_ids:
        conditions.append(cases.c.member_ids.overlap(member_ids))
    if id_hashes:
        conditions.append(households.c.id_hashes.overlap(id_hashes))
    if not conditions:
        return None
    row = (await session.execute(query.where(or_(*conditions)).limit(1))).first()
    return (row[0], row[1]) if row else None


async def flag_duplicate(session: AsyncSession, case_id: str, other: str, at: datetime) -> None:
    await session.execute(
        pg_insert(duplicate_files)
        .values(case_id=case_id, other_case_id=other, flagged_at=at)
        .on_conflict_do_nothing()
    )


async def duplicates(session: AsyncSession) -> list[dict[str, Any]]:
    d, mine, theirs = duplicate_files, cases.alias("mine"), cases.alias("theirs")
    rows = await session.execute(
        select(
            d.c.case_id,
            mine.c.union_path.label("union"),
            d.c.other_case_id,
            theirs.c.union_path.label("other_union"),
            d.c.flagged_at,
        )
        .join(mine, mine.c.case_id == d.c.case_id)
        .join(theirs, theirs.c.case_id == d.c.other_case_id)
        .order_by(d.c.flagged_at)
    )
    return [dict(r) for r in rows.mappings()]


async def audit(
    session: AsyncSession, at: datetime, actor: str, action: str, case_id: str | None, why: str
) -> None:
    await session.execute(
        insert(audit_log).values(at=at, actor=actor, action=action, case_id=case_id, why=why[:300])
    )
