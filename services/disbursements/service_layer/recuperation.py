"""Recuperation (clause 2): each base union keeps an annual plan; a trip is paid only for a
member in the plan, within its window, and the union's subsidy only up to the plan's amount.
Each issued trip is a participation: the policy says how often a member may go (once per cycle),
and entitlements' decision counts it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.adapters.tables import disbursements, recuperation_plans
from shared.errors import InvalidInput
from shared.money import yuan_text


async def save_plan(session: AsyncSession, union: str, year: int, plan: dict[str, Any]) -> None:
    if plan["window_to"] < plan["window_from"] or plan["window_from"].year != year:
        raise InvalidInput("the window lies within the plan's year", field="window_from")
    values = {"union_path": union, "year": year, **plan}
    await session.execute(
        pg_insert(recuperation_plans)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[recuperation_plans.c.union_path, recuperation_plans.c.year],
            set_={k: v for k, v in values.items() if k not in ("union_path", "year")},
        )
    )


async def plan_for(session: AsyncSession, union: str, year: int) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(recuperation_plans).where(
                    recuperation_plans.c.union_path == union, recuperation_plans.c.year == year
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def check_trip(
    session: AsyncSession,
    union: str,
    member_id: str,
    details: dict[str, Any],
    amount_fen: int,
    clause: str,
) -> None:
    year = int(details["plan_year"])
    plan = await plan_for(session, union, year)
    if plan is None:
        raise InvalidInput(
            f"the union has no recuperation plan for {year}",
            field="details.plan_year",
            rule="recuperation.no-plan",
            clause=clause,
        )
    if member_id not in plan["participants"]:
        raise InvalidInput(
            "the member is not in the union's recuperation plan",
            field="member_id",
            rule="recuperation.not-in-plan",
            clause=clause,
        )
    start, end = date.fromisoformat(details["start_date"]), date.fromisoformat(details["end_date"])
    if start < plan["window_from"] or end > plan["window_to"]:
        raise InvalidInput(
            "the stay falls outside the plan's window",
            field="details.start_date",
            rule="recuperation.window",
            clause=clause,
        )
    if amount_fen > plan["union_subsidy_per_person_fen"]:
        raise InvalidInput(
            f"工会补贴每人不超过 {yuan_text(plan['union_subsidy_per_person_fen'])}",
            field="amount_fen",
            rule="recuperation.subsidy",
            limit_fen=plan["union_subsidy_per_person_fen"],
            clause=clause,
        )


async def participation(session: AsyncSession, union: str, year: int) -> dict[str, str]:
    """Each planned member's trip status: the trip that counts, not the last request. An
    issued trip stands whatever was asked after it (a refused retry does not unsend a member);
    one on its way comes next; a trip given back, then a refusal, only when nothing else is."""
    rows = await session.execute(
        select(disbursements.c.member_id, disbursements.c.status)
        .where(
            disbursements.c.benefit == "recuperation",
            disbursements.c.base_union == union,
            disbursements.c.details["plan_year"].astext == str(year),
        )
        .order_by(disbursements.c.created_at)
    )
    went: dict[str, str] = {}
    for member, status in rows.all():
        if _weight(status) >= _weight(went.get(member)):
            went[member] = status
    return went


def _weight(status: str | None) -> int:
    return {
        None: -1,
        "rejected": 0,
        "cancelled": 1,
        "reversed": 1,
        "issued": 3,
        "paid": 3,
        "payment_failed": 3,
    }.get(status, 2)
