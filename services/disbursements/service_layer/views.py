"""What disbursements' readers ask of its tables: a batch's lines with who each is for, and
spending per union, benefit and month, uptake by place. Reads only; the routers shape the
answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, String, extract, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
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


async def uptake(
    session: AsyncSession, org: str, year: int, depth: int
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
    """How a year's benefits were taken up at or below `org`, summed to places `depth` levels
    of the org tree deep (2: cities, 3: counties): per place and benefit, the members reached
    (each once), the lines spent and their fen, the lines refused; then the refusals per
    clause. A disbursement counts in the year of its business date, as its cap does."""
    d = disbursements.c
    parts = func.string_to_array(d.base_union, "/", type_=ARRAY(String))
    place = func.array_to_string(parts[1:depth], "/").label("place")
    spent = d.status.in_(SPENT)
    refused = d.status == "rejected"
    within = (
        in_subtree(d.base_union, org),
        d.business_date >= date(year, 1, 1),
        d.business_date < date(year + 1, 1, 1),
    )
    totals = await session.execute(
        select(
            place,
            d.benefit,
            func.count(d.member_id.distinct()).filter(spent),
            func.count().filter(spent),
            func.coalesce(func.sum(d.amount_fen).filter(spent), 0),
            func.count().filter(refused),
        )
        .where(*within)
        .group_by(*_first(2))
        .order_by(*_first(2))
    )
    refusals = await session.execute(
        select(place, d.benefit, d.clause, d.rule, func.count())
        .where(*within, refused)
        .group_by(*_first(4))
        .order_by(*_first(2), func.count().desc())
    )
    return totals.all(), refusals.all()


def _first(n: int) -> list[Any]:
    """The first n output columns by position: the place is an expression with parameters,
    which PostgreSQL would not match between the select list and GROUP BY."""
    return [text(str(i)) for i in range(1, n + 1)]
