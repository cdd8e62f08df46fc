"""What the register's readers ask of its tables: files by union, level, status and the
caseworker's work lists, and a file's audit trail. Ids, levels and dates only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.hardship.adapters.tables import audit_log, cases
from services.hardship.contracts import HardshipLevel
from shared.db.sql import in_subtree

WorkList = Literal[
    "due-for-review",
    "overdue",
    "unchanged-for-a-year",
    "never-helped",
    "follow-up",
    "awaiting-approval",
]


def _work_list(name: WorkList, today: date) -> Any:
    """A caseworker's ready-made list, as a condition on the files."""
    c = cases.c
    on_register = c.status.in_(("on_register", "under_review"))
    return {
        "due-for-review": and_(on_register, c.next_review_on <= today + timedelta(days=30)),
        "overdue": and_(on_register, c.next_review_on < today),
        "unchanged-for-a-year": and_(on_register, c.last_changed_on <= today - timedelta(days=365)),
        "never-helped": and_(on_register, c.reliefs_granted == 0),
        "follow-up": and_(c.status == "exited", c.follow_up_on <= today),
        "awaiting-approval": c.reliefs_awaiting > 0,  # the second pair of eyes' queue
    }[name]


async def search_cases(
    session: AsyncSession,
    org: str,
    today: date,
    *,
    level: HardshipLevel | None = None,
    status: str | None = None,
    review_due_before: date | None = None,
    worklist: WorkList | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    c = cases.c
    query = select(cases).where(in_subtree(c.union_path, org))
    if level:
        query = query.where(c.level == level.value)
    if status:
        query = query.where(c.status == status)
    if review_due_before:
        query = query.where(c.next_review_on <= review_due_before)
    if worklist:
        query = query.where(_work_list(worklist, today))
    rows = await session.execute(query.order_by(c.case_id).limit(limit))
    return [dict(r) for r in rows.mappings()]


async def audit_trail(
    session: AsyncSession, case_id: str
) -> tuple[str | None, list[dict[str, Any]]]:
    """The file's union (None: no such file) and who read or changed it, in order."""
    union = await session.scalar(select(cases.c.union_path).where(cases.c.case_id == case_id))
    if union is None:
        return None, []
    rows = await session.execute(
        select(audit_log).where(audit_log.c.case_id == case_id).order_by(audit_log.c.id)
    )
    return union, [dict(r) for r in rows.mappings()]
