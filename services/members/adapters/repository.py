"""Members: the event-sourced aggregate and the registry read model, written in one transaction.

The read model is a projection: every event the aggregate records is applied to it by
`project` in the transaction that appends the event, so a read never sees one without the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.members.adapters.tables import member_children, member_identities, members
from services.members.contracts import (
    BirthdayReached,
    ChildBirthRegistered,
    MemberDetailsCorrected,
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
    NewEmploymentFormEnded,
    NewEmploymentFormRegistered,
    SpouseLinked,
)
from services.members.domain.model import Member
from shared.aggregate import Repository
from shared.db.sql import in_subtree
from shared.events import DomainEvent
from shared.eventstore.store import EventStore


class MemberRepository(Repository[Member]):
    def __init__(self, store: EventStore, session: AsyncSession) -> None:
        super().__init__(store, Member, "member")
        self._session = session

    async def save_many(
        self, aggregates: Sequence[Member], metadata: dict[str, str] | None = None
    ) -> None:
        pending = [e for a in aggregates for e in a.pending]
        await super().save_many(aggregates, metadata)
        registrations = [e for e in pending if isinstance(e, MemberRegistered)]
        if registrations:
            await insert_new_members(self._session, registrations)
        for event in pending:
            if not isinstance(event, MemberRegistered):
                await project(self._session, event)


def _registration_row(event: MemberRegistered) -> dict[str, Any]:
    row = event.model_dump(mode="python")
    row["sex"] = event.sex.value if event.sex else None
    row["birthday_md"] = event.birth_date.month * 100 + event.birth_date.day
    return row


async def insert_new_members(session: AsyncSession, events: Sequence[MemberRegistered]) -> None:
    """New members' rows, in one round trip (a registration is always a new stream)."""
    await session.execute(insert(members), [_registration_row(e) for e in events])


def _where(member_id: str) -> Any:
    return members.c.member_id == member_id


# Long on purpose: one match over the member events, each case a statement or two.
async def project(session: AsyncSession, event: DomainEvent) -> None:
    values: dict[str, Any] | None = None
    match event:
        case MemberRegistered():
            row = _registration_row(event)
            await session.execute(
                pg_insert(members)
                .values(**row)
                .on_conflict_do_update(index_elements=[members.c.member_id], set_=row)
            )
            return
        case SpouseLinked():
            values = {"spouse_member_id": event.spouse_member_id}
        case ChildBirthRegistered():
            await session.execute(
                pg_insert(member_children)
                .values(
                    member_id=event.member_id,
                    child_id=event.child_id,
                    birth_date=event.birth_date,
                    birth_order=event.birth_order,
                    within_policy=event.within_policy,
                    other_parent_member_id=event.other_parent_member_id,
                )
                .on_conflict_do_nothing()
            )
            values = {"children": members.c.children + 1}
        case NewEmploymentFormRegistered():
            values = {"employment_form": event.employment_form.value}
        case NewEmploymentFormEnded():
            values = {"employment_form": "standard"}
        case BirthdayReached():
            values = {"last_birthday_year": func.greatest(members.c.last_birthday_year, event.year)}
        case MemberTransferred():
            values = {"base_union": event.to_union}
        case MemberDetailsCorrected():
            values = event.model_dump(
                mode="python",
                include={
                    "name",
                    "birth_date",
                    "migrant_worker",
                    "ethnic_minority",
                    "martyr_family",
                    "employee_number",
                },
                exclude_none=True,
            )
            if event.sex:
                values["sex"] = event.sex.value
            if event.birth_date:
                values["birthday_md"] = event.birth_date.month * 100 + event.birth_date.day
        case MembershipEnded():
            values = {
                "status": "ended",
                "ended_reason": event.reason.value,
                "ended_on": event.effective_date,
            }
        case MemberRejoined():
            values = {
                "status": "active",
                "ended_reason": None,
                "ended_on": None,
                "base_union": event.base_union,
                "join_date": event.join_date,
            }
    if values:
        assert isinstance(event, MemberEvent)
        await session.execute(
            update(members).where(_where(event.member_id)).values(**values, updated_at=func.now())
        )


async def read_member(session: AsyncSession, member_id: str) -> dict[str, Any] | None:
    result = await session.execute(
        select(
            members,
            member_identities.c.id_masked,
            member_identities.c.id_encrypted,
            member_identities.c.phone_masked,
            member_identities.c.phone_encrypted,
        )
        .outerjoin(member_identities, member_identities.c.member_id == members.c.member_id)
        .where(_where(member_id))
    )
    row = result.mappings().first()
    return dict(row) if row else None


async def read_children(session: AsyncSession, member_id: str) -> list[dict[str, Any]]:
    result = await session.execute(
        select(member_children)
        .where(member_children.c.member_id == member_id)
        .order_by(member_children.c.birth_date, member_children.c.birth_order)
    )
    return [dict(r) for r in result.mappings()]


async def union_of(session: AsyncSession, member_id: str) -> str | None:
    return await session.scalar(select(members.c.base_union).where(_where(member_id)))


async def member_by_fingerprint(session: AsyncSession, fingerprint: str) -> str | None:
    return await session.scalar(
        select(member_identities.c.member_id).where(member_identities.c.id_hash == fingerprint)
    )


async def members_by_fingerprints(session: AsyncSession, fingerprints: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(member_identities.c.id_hash, member_identities.c.member_id).where(
            member_identities.c.id_hash.in_(fingerprints)
        )
    )
    return dict(rows.tuples().all())


async def save_identity(
    session: AsyncSession,
    member_id: str,
    *,
    id_hash: str | None = None,
    id_encrypted: bytes | None = None,
    id_masked: str | None = None,
    phone_encrypted: bytes | None = None,
    phone_masked: str | None = None,
) -> None:
    given = {
        k: v
        for k, v in {
            "id_hash": id_hash,
            "id_encrypted": id_encrypted,
            "id_masked": id_masked,
            "phone_encrypted": phone_encrypted,
            "phone_masked": phone_masked,
        }.items()
        if v is not None
    }
    if id_hash is None:  # a phone change: the member's vault row exists already
        await session.execute(
            update(member_identities)
            .where(member_identities.c.member_id == member_id)
            .values(**given)
        )
        return
    await session.execute(
        pg_insert(member_identities)
        .values(member_id=member_id, **given)
        .on_conflict_do_update(index_elements=[member_identities.c.member_id], set_=given)
    )


async def insert_identities(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New members' vault rows in one round trip; a duplicate hash fails the transaction."""
    await session.execute(insert(member_identities), list(rows))


def search_query(
    *,
    within: str,
    base_union: str | None,
    name: str | None,
    employment_form: str | None,
    birthday_month: int | None,
    status: str | None,
    employee_number: str | None = None,
) -> Select[Any]:
    query = select(members).where(in_subtree(members.c.base_union, within))
    if base_union:
        query = query.where(in_subtree(members.c.base_union, base_union))
    if name:
        query = query.where(members.c.name.contains(name, autoescape=True))
    if employment_form:
        query = query.where(members.c.employment_form == employment_form)
    if birthday_month:
        query = query.where(
            members.c.birthday_md.between(birthday_month * 100, birthday_month * 100 + 31)
        )
    if status:
        query = query.where(members.c.status == status)
    if employee_number:
        query = query.where(members.c.employee_number == employee_number)
    return query


async def birthday_candidates(
    session: AsyncSession, year: int, through: date, limit: int, after: str = ""
) -> list[str]:
    """Active members whose birthday of `year` has come by `through` and is not yet recorded.
    29 February birthdays count from 28 February in common years. Keyset-paged by member id:
    a member the aggregate declines (joined after the birthday) does not stall the scan."""
    through_md = through.month * 100 + through.day
    common_year = not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
    reached = members.c.birthday_md <= through_md
    if common_year and through_md >= 228:
        reached = reached | (members.c.birthday_md == 229)
    rows = await session.scalars(
        select(members.c.member_id)
        .where(
            members.c.status == "active",
            reached,
            func.coalesce(members.c.last_birthday_year, 0) < year,
            members.c.member_id > after,
        )
        .order_by(members.c.member_id)
        .limit(limit)
    )
    return list(rows)
