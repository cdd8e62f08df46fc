"""What disbursements' readers ask of its tables: a batch's lines with who each is for, and
spending per union, benefit and month. Reads only; the routers shape the answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.adapters.tables import disbursements, member_directory
from services.disbursements.domain.model import SPENT
from shared.db.sql import in_subtree


async def batch_lines(session: AsyncSession, batch_id: str) -> Sequence[Row[Any]]:
    """Every line of a batch with the member's 工号 and name, ordered as payroll lists them."""
    d, m = disbursements.c, member_directory.c
    result = await session.execute(
        select(
            m.employee_number,
            m.name,
            d.base_union,
            d.status,
            d.amount_fen,
            d.reason,
            d.clause,
            d.remaining_fen,
            d.disbursement_id,
            d.member_id,
        )
        .select_from(disbursements.outerjoin(member_directory, m.member_id == d.member_id))
        .where(d.batch_id == batch_id)
        .order_by(m.employee_number, d.member_id)
    )
    return result.all()


async def spending(
    session: AsyncSession, org: str, year: int
) -> list[tuple[str, str, int, int, int]]:
    """Issued spending at or below `org` in `year`: (union, benefit, month, fen, count). A
    reversed disbursement, or a failed payment cancelled, is no longer spent, so it is
    deducted; a failed payment waiting for finance still holds its money."""
    d = disbursements.c
    month = extract("month", d.business_date).label("month")
    result = await session.execute(
        select(d.base_union, d.benefit, month, func.sum(d.amount_fen), func.count())
        .where(
            in_subtree(d.base_union, org),
            d.status.in_(SPENT),
            extract("year", d.business_date) == year,
        )
        .group_by(d.base_union, d.benefit, month)
        .order_by(d.base_union, d.benefit, month)
    )
    return [(u, b, int(m), int(t), int(n)) for u, b, m, t, n in result.all()]
