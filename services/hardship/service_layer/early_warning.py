"""Hardship seen coming: life events of members who are not on the register put them on a watch
list for the caseworkers of their union, by the rules in `reference/early-warning.yaml`.

Only ids, dates and the rule's reason are kept: no name, no income. A member already on the
register (or under review) is not watched: their caseworker already follows them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.hardship.adapters.tables import cases, member_unions, watch_list
from services.hardship.domain.case import ON_REGISTER
from services.hardship.domain.early_warning import WatchBook, WatchRule
from services.members.contracts import (
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
)
from shared.db.sql import in_subtree
from shared.uow import Transaction

BOOK = WatchBook.bundled()


async def note_union(tx: Transaction, event: MemberEvent) -> None:
    """Keep each member's base union, to scope the watch list."""
    union = None
    if isinstance(event, MemberRegistered | MemberRejoined):
        union = event.base_union
    elif isinstance(event, MemberTransferred):
        union = event.to_union
    if union is None:
        return
    await tx.session.execute(
        pg_insert(member_unions)
        .values(member_id=event.member_id, base_union=union)
        .on_conflict_do_update(
            index_elements=[member_unions.c.member_id], set_={"base_union": union}
        )
    )


async def on_life_event(tx: Transaction, event: MemberEvent, on: date, source: str) -> int:
    rules = BOOK.in_force(on)
    if rules is None:
        return 0
    raised = 0
    for name, rule in rules.for_event(event.event_type).items():
        ended = event.reason.value if isinstance(event, MembershipEnded) else None
        if ended is not None and rule.only_reasons and ended not in rule.only_reasons:
            continue
        if rule.requires_earlier_file and not await _had_a_file(tx.session, event.member_id):
            continue
        raised += await watch(tx, event.member_id, name, rule, rules.version, on, source)
    return raised


async def on_exit(
    tx: Transaction, member_ids: list[str], union: str, on: date, source: str
) -> None:
    """A household left the register: watch it for a relapse (by the file's union)."""
    rules = BOOK.in_force(on)
    for name, rule in (rules.named("exit") if rules else {}).items():
        for member_id in member_ids:
            assert rules is not None
            await watch(
                tx, member_id, name, rule, rules.version, on, source,
                even_if_on_file=True, union=union,
            )  # fmt: skip


async def on_emergency(tx: Transaction, member_id: str, on: date, source: str) -> None:
    """Emergency relief again and again: look whether the hardship is still temporary."""
    rules = BOOK.in_force(on)
    for name, rule in (rules.named("emergency") if rules else {}).items():
        assert rule.emergencies is not None and rule.within_days is not None
        since = on - timedelta(days=rule.within_days)
        count = await tx.session.scalar(
            select(func.count()).where(
                cases.c.emergency,
                cases.c.member_ids.any(member_id),
                cases.c.opened_on >= since,
            )
        )
        if (count or 0) >= rule.emergencies:
            assert rules is not None
            await watch(tx, member_id, name, rule, rules.version, on, source, even_if_on_file=True)


async def watch(
    tx: Transaction,
    member_id: str,
    name: str,
    rule: WatchRule,
    version: str,
    on: date,
    source: str,
    *,
    even_if_on_file: bool = False,
    union: str | None = None,
) -> int:
    if not even_if_on_file and await _on_the_register(tx.session, member_id):
        return 0
    union = union or await tx.session.scalar(
        select(member_unions.c.base_union).where(member_unions.c.member_id == member_id)
    )
    written = await tx.session.execute(
        pg_insert(watch_list)
        .values(
            member_id=member_id,
            union_path=union,
            rule=name,
            title=rule.title,
            why=rule.why,
            raised_on=on,
            look_again_on=on + timedelta(days=rule.look_again_within_days),
            source_event_id=source,
            rules_version=version,
        )
        .on_conflict_do_nothing()
        .returning(watch_list.c.id)
    )
    return len(written.all())


async def _on_the_register(session: AsyncSession, member_id: str) -> bool:
    found = await session.scalar(
        select(cases.c.case_id)
        .where(cases.c.member_ids.any(member_id), cases.c.status.in_(ON_REGISTER))
        .limit(1)
    )
    return found is not None


async def _had_a_file(session: AsyncSession, member_id: str) -> bool:
    found = await session.scalar(
        select(cases.c.case_id).where(cases.c.member_ids.any(member_id)).limit(1)
    )
    return found is not None


async def watched(
    session: AsyncSession, org: str, *, include_cleared: bool
) -> list[dict[str, Any]]:
    """The caller's subtree; entries whose union is not known yet only at the province."""
    w = watch_list.c
    within = in_subtree(w.union_path, org)
    if "/" not in org:
        within = or_(within, w.union_path.is_(None))
    query = select(watch_list).where(within).order_by(w.look_again_on, w.id)
    if not include_cleared:
        query = query.where(w.cleared_on.is_(None))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def clear(tx: Transaction, entry_id: int, org: str, by: str, reason: str, on: date) -> bool:
    w = watch_list.c
    within = in_subtree(w.union_path, org)
    if "/" not in org:
        within = or_(within, w.union_path.is_(None))
    done = await tx.session.execute(
        update(watch_list)
        .where(and_(w.id == entry_id, within, w.cleared_on.is_(None)))
        .values(cleared_on=on, cleared_by=by, clear_reason=reason)
        .returning(w.id)
    )
    return done.first() is not None
