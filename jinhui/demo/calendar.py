"""The union's year as a calendar: each dated step is one small function, run on its day.

The steps go through the services' own APIs, as HR, caseworkers and finance officers would.
Every day also runs the birthday scheduler; the first of each month expires vouchers, and the
last day of each month pays the month's birthday gifts and counts the hardship register.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from jinhui.demo.runner import (
    COUNTY,
    UNION,
    Progress,
    Services,
    batch,
    case_step,
    headers,
    household,
    known_as_riders,
    outing,
    redeem_vouchers,
    single,
    until,
)
from services.disbursements.service_layer.vouchers import expire_vouchers
from services.hardship.adapters.tables import cases
from shared.auth import Role


@dataclass
class Day:
    s: Services
    on: date
    rng: random.Random
    cases_open: list[str] = field(default_factory=list)

    @property
    def year(self) -> int:
        return self.on.year


Step = Callable[[Day], Awaitable[None]]
CALENDAR: dict[tuple[int, int], list[Step]] = {}


def on(month: int, day: int) -> Callable[[Step], Step]:
    def register(step: Step) -> Step:
        CALENDAR.setdefault((month, day), []).append(step)
        return step

    return register


@on(1, 5)
async def union_standards(d: Day) -> None:
    """Training by the union's own standard; recuperation by the union's plan."""
    finance, ids = headers(Role.FINANCE_OFFICER), d.s.member_ids
    await d.s.entitlements.client.put(
        f"/v1/unions/{UNION}/standards/training_subsidy",
        json={"effective_from": d.on.isoformat(), "standard_fen": 100000},
        headers=finance,
    )
    await d.s.disbursements.client.put(
        f"/v1/recuperation-plans/{UNION}/{d.year}",
        json={
            "window_from": f"{d.year}-04-01",
            "window_to": f"{d.year}-10-31",
            "participants": ids[: max(1, len(ids) // 20)],
            "union_subsidy_per_person_fen": 80000,
            "employer_fund_per_person_fen": 300000,
        },
        headers=finance,
    )


@on(1, 20)
async def spring_festival(d: Day) -> None:
    await batch(d.s, f"spring-{d.year}", "holiday_gift", 50000, d.on)


@on(2, 15)
async def hardship_survey(d: Day) -> None:
    """A survey finds households in hardship: assessed and registered."""
    ids = d.s.member_ids
    for member_id in d.rng.sample(ids, max(2, len(ids) // 100)):
        income = d.rng.choice((50000, 90000, 120000))
        created = await d.s.hardship.client.post(
            "/v1/hardship/cases",
            json={"union": UNION, "source": "survey", "household": household(member_id, income)},
            headers=headers(Role.CASEWORKER, "caseworker-demo"),
        )
        case_id = created.json()["case_id"]
        await case_step(d.s, case_id, "assess")
        await case_step(d.s, case_id, "register")
        d.cases_open.append(case_id)


@on(3, 1)
async def vouchers(d: Day) -> None:
    await batch(d.s, f"vouchers-{d.year}", "voucher", 30000, d.on)


@on(3, 20)
async def voucher_spending(d: Day) -> None:
    """Most members spend their voucher; the rest expire."""
    await redeem_vouchers(d.s, d.rng, share=0.8)


@on(4, 8)
async def births(d: Day) -> None:
    """Ten couples of members have a child; each parent gets the childbirth gift."""
    hr, ids = headers(Role.HR_INTEGRATION), d.s.member_ids
    for a, b in zip(ids[0:20:2], ids[1:20:2], strict=False):
        await d.s.members.client.put(
            f"/v1/members/{a}/spouse", json={"spouse_member_id": b}, headers=hr
        )
        born = await d.s.members.client.post(
            f"/v1/members/{a}/births",
            json={
                "birth_date": d.on.isoformat(),
                "birth_order": d.rng.choice((1, 2)),
                "within_policy": True,
                "other_parent_member_id": b,
            },
            headers=hr,
        )
        child = born.json()["child_id"]
        d.s.children.append((a, child))
        for parent in (a, b):
            await single(d.s, parent, "childbirth_gift", 150000, d.on, {"child_id": child})


@on(5, 16)
async def spring_outing(d: Day) -> None:
    ids = d.s.member_ids
    for member_id in d.rng.sample(ids, max(1, len(ids) // 5)):
        await single(d.s, member_id, "outing", 53000, d.on, outing(d.on))


@on(5, 25)
async def recuperation(d: Day) -> None:
    for member_id in d.s.member_ids[: max(1, len(d.s.member_ids) // 20)]:
        trip = {
            "plan_year": d.year,
            "start_date": (d.on - timedelta(days=5)).isoformat(),
            "end_date": (d.on - timedelta(days=1)).isoformat(),
            "employer_welfare_fund_fen": 300000,
        }
        await single(d.s, member_id, "recuperation", 80000, d.on, trip)


@on(6, 1)
async def films(d: Day) -> None:
    await batch(d.s, f"films-{d.year}", "culture_sports", 20000, d.on)


@on(6, 10)
async def riders_join(d: Day) -> None:
    """Some members start delivering food for a platform: a new form of employment."""
    ids = d.s.member_ids
    for member_id in d.rng.sample(ids, max(1, len(ids) // 50)):
        d.s.riders.append(member_id)
        await d.s.members.client.put(
            f"/v1/members/{member_id}/new-employment-form",
            json={
                "employment_form": "food_delivery_rider",
                "registered_on": d.on.isoformat(),
                "platform": "美团",
            },
            headers=headers(Role.HR_INTEGRATION),
        )


@on(6, 15)
async def injury_insurance(d: Day) -> None:
    """The county union insures riders, on what entitlements knows of them."""
    await until(lambda: known_as_riders(d.s))
    for member_id in d.s.riders:
        await single(d.s, member_id, "nef_injury_insurance", 15000, d.on, org=COUNTY)


@on(7, 12)
async def flood(d: Day) -> None:
    """A flood: emergency relief, approved by a second person."""
    ids = d.s.member_ids
    if not ids:
        return
    emergency = await d.s.hardship.client.post(
        "/v1/hardship/emergencies",
        json={
            "union": UNION,
            "member_id": ids[-1],
            "amount_fen": 300000,
            "purpose": "flood_damage",
            "household": household(ids[-1], 60000, "natural_disaster"),
        },
        headers=headers(Role.CASEWORKER, "caseworker-demo"),
    )
    body = emergency.json()
    await d.s.hardship.client.post(
        f"/v1/hardship/cases/{body['case_id']}/reliefs/{body['relief_id']}/approve",
        headers=headers(Role.REVIEWER, "reviewer-demo"),
    )


@on(7, 15)
async def summer_camps(d: Day) -> None:
    for parent, child in d.s.children:
        camp = {"child_id": child, "camp": "晋祠少年营"}
        await single(d.s, parent, "summer_camp", 60000, d.on, camp, org=COUNTY)


@on(8, 20)
async def mid_year_review(d: Day) -> None:
    """Half the registered households are reviewed and found out of hardship."""
    for case_id in d.cases_open[: len(d.cases_open) // 2]:
        await case_step(d.s, case_id, "start-review", reason="mid-year review")
        await case_step(d.s, case_id, "complete-review", household=household(None, 200000))


@on(9, 10)
async def training(d: Day) -> None:
    ids = d.s.member_ids
    for member_id in d.rng.sample(ids, max(1, len(ids) // 30)):
        await single(d.s, member_id, "training_subsidy", 100000, d.on)


@on(9, 15)
async def mid_autumn(d: Day) -> None:
    await batch(d.s, f"mid-autumn-{d.year}", "holiday_gift", 30000, d.on)


@on(9, 28)
async def culture_tourism(d: Day) -> None:
    await batch(d.s, f"culture-tourism-{d.year}", "culture_tourism_product", 20000, d.on)


@on(10, 1)
async def national_day(d: Day) -> None:
    """A plan too generous for the yearly cap: the report shows its refusals."""
    await batch(d.s, f"national-day-{d.year}", "holiday_gift", 180000, d.on)


@on(11, 5)
async def back_into_hardship(d: Day) -> None:
    if d.cases_open:
        await case_step(d.s, d.cases_open[0], "re-enter", household=household(None, 40000))


@on(11, 15)
async def consumption_assistance(d: Day) -> None:
    """Union spending: farm produce from formerly poor areas for the canteen."""
    await d.s.entitlements.client.post(
        f"/v1/unions/{UNION}/consumption-assistance",
        json={
            "purchase_id": f"assistance-{d.year}",
            "amount_fen": len(d.s.member_ids) * 8000,
            "business_date": d.on.isoformat(),
            "purpose": "采购脱贫地区农产品用于职工食堂",
        },
        headers=headers(Role.FINANCE_OFFICER),
    )


async def month_end(d: Day, register_by_month: dict[str, list[int]]) -> None:
    """The month's birthday gifts, and the register's size by level for the chart."""
    month = d.on.month
    birthdays = {"kind": "birthday_month", "month": month}
    await batch(d.s, f"birthdays-{d.year}-{month}", "birthday_gift", 30000, d.on, birthdays)
    async with d.s.hardship.runtime.sessions() as session:
        counts: dict[str, int] = dict(
            (
                await session.execute(
                    select(cases.c.level, func.count())
                    .where(cases.c.status.in_(("on_register", "under_review")))
                    .group_by(cases.c.level)
                )
            )
            .tuples()
            .all()
        )
    for level, values in register_by_month.items():
        values.append(int(counts.get(level, 0)))


async def a_year(s: Services, year: int, rng: random.Random, progress: Progress) -> dict[str, Any]:
    register_by_month: dict[str, list[int]] = {"deep": [], "relative": [], "accident": []}
    first, last = date(year, 1, 2), date(year, 12, 31)
    d = Day(s, first, rng)
    while d.on <= last:
        s.clock.set_business_date(d.on)
        await s.members.runtime.services["birthdays"].run_once()
        for step in CALENDAR.get((d.on.month, d.on.day), []):
            await step(d)
        if d.on.day == 1:
            await expire_vouchers(s.disbursements.runtime.context, s.disbursements.runtime)
        if (d.on + timedelta(days=1)).month != d.on.month:
            await month_end(d, register_by_month)
        progress("a year of the union", (d.on - first).days + 1, (last - first).days + 1)
        d.on += timedelta(days=1)
    return {"hardship": register_by_month}
