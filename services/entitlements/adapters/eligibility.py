"""Lists derived from the read tables: who may be offered what."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.entitlements.adapters.projections import LIVE
from services.entitlements.domain.profile import Standing
from shared.db.sql import in_subtree

P, C, B = LIVE.profiles, LIVE.children, LIVE.balances


def _within(org: str) -> Any:
    return in_subtree(P.c.base_union, org)


async def summer_camp_children(
    session: AsyncSession, org: str, born_after: date, limit: int
) -> list[dict[str, Any]]:
    """Children of active members who are martyrs' families, in hardship, in a new form of
    employment, migrant or ethnic-minority workers (clause 5)."""
    rows = await session.execute(
        select(
            C.c.child_id,
            C.c.birth_date,
            P.c.member_id,
            P.c.base_union,
            P.c.martyr_family,
            P.c.in_hardship,
            P.c.employment_form,
            P.c.migrant_worker,
            P.c.ethnic_minority,
        )
        .join(P, P.c.member_id == C.c.member_id)
        .where(
            _within(org),
            P.c.active,
            C.c.birth_date > born_after,
            or_(
                P.c.martyr_family,
                P.c.in_hardship,
                P.c.employment_form != "standard",
                P.c.migrant_worker,
                P.c.ethnic_minority,
            ),
        )
        .order_by(C.c.child_id, P.c.member_id)
        .limit(limit)
    )
    children: dict[str, dict[str, Any]] = {}
    for r in rows.mappings():
        standing = Standing(
            base_union=r["base_union"],
            employment_form=r["employment_form"],
            migrant_worker=r["migrant_worker"],
            ethnic_minority=r["ethnic_minority"],
            martyr_family=r["martyr_family"],
            in_hardship=r["in_hardship"],
            active=True,
        )
        entry = children.setdefault(
            r["child_id"],
            {
                "child_id": r["child_id"],
                "birth_date": r["birth_date"],
                "parents": [],
                "reasons": [],
            },
        )
        entry["parents"].append(r["member_id"])
        entry["reasons"] = sorted(set(entry["reasons"]) | standing.groups)
    return list(children.values())


async def nef_workers(
    session: AsyncSession, org: str, year: int, limit: int
) -> list[dict[str, Any]]:
    """Active members in a new form of employment, and whether they are insured this year."""
    insured = and_(
        B.c.member_id == P.c.member_id,
        B.c.year == year,
        B.c.benefit == "nef_injury_insurance",
    )
    rows = await session.execute(
        select(P.c.member_id, P.c.base_union, P.c.employment_form, B.c.count)
        .outerjoin(B, insured)
        .where(_within(org), P.c.active, P.c.employment_form != "standard")
        .order_by(P.c.member_id)
        .limit(limit)
    )
    return [
        {
            **{k: r[k] for k in ("member_id", "base_union", "employment_form")},
            "insured": bool(r["count"]),
        }
        for r in rows.mappings()
    ]


async def not_yet_recuperated(
    session: AsyncSession, org: str, cycle: tuple[int, int], limit: int
) -> list[dict[str, Any]]:
    """Active members who have not taken part in recuperation within the cycle."""
    rows = await session.execute(
        select(P.c.member_id, P.c.base_union, P.c.last_recuperation_year)
        .where(
            _within(org),
            P.c.active,
            or_(P.c.last_recuperation_year.is_(None), P.c.last_recuperation_year < cycle[0]),
        )
        .order_by(P.c.member_id)
        .limit(limit)
    )
    return [dict(r) for r in rows.mappings()]
