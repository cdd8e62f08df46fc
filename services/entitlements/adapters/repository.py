"""Entitlements' aggregates and the table of requests waiting for a member fact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.contracts import DisbursementRequested
from services.entitlements.adapters.projections import live_writes
from services.entitlements.adapters.tables import pending_member_events, pending_requests
from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.domain.profile import MemberProfile
from shared.aggregate import Repository
from shared.events import DomainEvent, load_event
from shared.eventstore.store import Streams


def ledger_repository(store: Streams) -> Repository[MemberLedger]:
    return Repository(store, MemberLedger, "ledger", projector=live_writes)


def profile_repository(store: Streams) -> Repository[MemberProfile]:
    return Repository(store, MemberProfile, "profile", projector=live_writes)


async def park(
    session: AsyncSession,
    request: DisbursementRequested,
    waiting_for: str,
    now: datetime,
    deadline: datetime,
) -> None:
    await session.execute(
        pg_insert(pending_requests)
        .values(
            disbursement_id=request.disbursement_id,
            member_id=request.member_id,
            request=request.to_data(),
            waiting_for=waiting_for,
            first_seen=now,
            deadline=deadline,
        )
        .on_conflict_do_update(
            index_elements=[pending_requests.c.disbursement_id],
            set_={"waiting_for": waiting_for},
        )
    )


async def unpark(session: AsyncSession, disbursement_id: str) -> None:
    await session.execute(
        delete(pending_requests).where(pending_requests.c.disbursement_id == disbursement_id)
    )


async def parked_for(session: AsyncSession, member_id: str) -> list[DisbursementRequested]:
    rows = await session.scalars(
        select(pending_requests.c.request)
        .where(pending_requests.c.member_id == member_id)
        .order_by(pending_requests.c.first_seen)
        .with_for_update(skip_locked=True)
    )
    return [DisbursementRequested.model_validate(r) for r in rows]


async def any_parked(session: AsyncSession, member_ids: list[str]) -> bool:
    found = await session.scalar(
        select(pending_requests.c.disbursement_id)
        .where(pending_requests.c.member_id.in_(member_ids))
        .limit(1)
    )
    return found is not None


async def expired(session: AsyncSession, now: datetime, limit: int) -> list[DisbursementRequested]:
    rows = await session.scalars(
        select(pending_requests.c.request)
        .where(pending_requests.c.deadline <= now)
        .order_by(pending_requests.c.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [DisbursementRequested.model_validate(r) for r in rows]


async def keep_early_fact(
    session: AsyncSession, event: DomainEvent, member_id: str, source_event_id: str, now: datetime
) -> None:
    await session.execute(
        pg_insert(pending_member_events)
        .values(
            member_id=member_id,
            source_event_id=source_event_id,
            event_type=event.event_type,
            data=event.to_data(),
            received_at=now,
        )
        .on_conflict_do_nothing()
    )


async def take_early_facts(session: AsyncSession, member_id: str) -> list[tuple[DomainEvent, str]]:
    """The member's facts that came before the registration, in arrival order, removed."""
    rows = (
        await session.execute(
            delete(pending_member_events)
            .where(pending_member_events.c.member_id == member_id)
            .returning(
                pending_member_events.c.id,
                pending_member_events.c.event_type,
                pending_member_events.c.data,
                pending_member_events.c.source_event_id,
            )
        )
    ).all()
    return [(load_event(t, d), s) for _, t, d, s in sorted(rows)]


async def any_early_facts(session: AsyncSession, member_ids: list[str]) -> bool:
    found = await session.scalar(
        select(pending_member_events.c.id)
        .where(pending_member_events.c.member_id.in_(member_ids))
        .limit(1)
    )
    return found is not None
