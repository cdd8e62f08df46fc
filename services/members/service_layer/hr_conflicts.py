"""What HR sent that needs a person: conflicts (an ID number already registered elsewhere,
a hire that never came) listed for HR operators within their part of the union tree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.members.adapters.tables import hr_conflicts, hr_parked
from services.members.domain.hr import HrEvent
from services.members.service_layer.handlers import MembersContext
from shared.db.sql import in_subtree
from shared.telemetry.metrics import HR_CONFLICTS
from shared.uow import Transaction


async def raise_conflict(
    ctx: MembersContext,
    tx: Transaction,
    *,
    source: str,
    event: HrEvent,
    kind: str,
    reason: str,
    base_union: str | None = None,
    existing_member_id: str | None = None,
    existing_employee_number: str | None = None,
) -> None:
    await tx.session.execute(
        pg_insert(hr_conflicts)
        .values(
            source=source,
            employee_number=event.employee_number,
            hr_event_id=event.hr_event_id,
            event_type=event.event_type,
            kind=kind,
            reason=reason,
            base_union=base_union,
            existing_member_id=existing_member_id,
            existing_employee_number=existing_employee_number,
            raised_at=ctx.clock.now(),
        )
        .on_conflict_do_nothing()
    )
    HR_CONFLICTS.labels(kind).inc()


async def expire_parked(ctx: MembersContext, tx: Transaction, older_than: timedelta) -> int:
    """Parked events whose hire never came go to the conflict list, for an HR operator."""
    cutoff = ctx.clock.now() - older_than
    rows = (
        await tx.session.execute(
            delete(hr_parked)
            .where(hr_parked.c.parked_at <= cutoff)
            .returning(
                hr_parked.c.source,
                hr_parked.c.employee_number,
                hr_parked.c.hr_event_id,
                hr_parked.c.event_type,
            )
        )
    ).all()
    for source, employee_number, hr_event_id, event_type in rows:
        await tx.session.execute(
            pg_insert(hr_conflicts)
            .values(
                source=source,
                employee_number=employee_number,
                hr_event_id=hr_event_id,
                event_type=event_type,
                kind="never-hired",
                reason=f"等待入职事件超过 {older_than.days} 天仍未收到"
                "（no hire for this employee arrived in time）",
                raised_at=ctx.clock.now(),
            )
            .on_conflict_do_nothing()
        )
        HR_CONFLICTS.labels("never-hired").inc()
    return len(rows)


async def conflicts(session: AsyncSession, org: str, *, open_only: bool) -> list[dict[str, Any]]:
    """Conflicts within `org` (those that name no union only for callers at the root)."""
    c = hr_conflicts
    query = select(c).where(_within(org)).order_by(c.c.id)
    if open_only:
        query = query.where(c.c.resolved_at.is_(None))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def resolve_conflict(
    ctx: MembersContext, tx: Transaction, conflict_id: int, org: str, by: str, resolution: str
) -> bool:
    c = hr_conflicts
    done = await tx.session.execute(
        update(c)
        .where(c.c.id == conflict_id, _within(org))
        .values(resolved_at=ctx.clock.now(), resolved_by=by, resolution=resolution)
        .returning(c.c.id)
    )
    return done.first() is not None


async def parked_events(session: AsyncSession) -> list[dict[str, Any]]:
    """What is waiting for a hire (no payloads: they may hold ID numbers)."""
    rows = await session.execute(
        select(
            hr_parked.c.source,
            hr_parked.c.employee_number,
            hr_parked.c.hr_event_id,
            hr_parked.c.event_type,
            hr_parked.c.parked_at,
            hr_parked.c.last_error,
        ).order_by(hr_parked.c.id)
    )
    return [dict(r) for r in rows.mappings()]


def _within(org: str) -> ColumnElement[bool]:
    """Conflicts in `org`'s subtree; those that name no union, for callers at the root only."""
    within = in_subtree(hr_conflicts.c.base_union, org)
    return or_(within, hr_conflicts.c.base_union.is_(None)) if "/" not in org else within
