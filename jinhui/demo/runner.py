"""A year of one base union, on the real local stack, with a fast clock.

Everything goes through the services' own APIs and topics, as users would: HR's roster import,
births, new-employment-form registrations, the birthday scheduler day by day, holiday and
voucher batches, outings, hardship intake → review → exit and emergency relief.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from jinhui.demo.report import Measure, Refusal, UnionRule, Year
from jinhui.inprocess import RunningService, running_service
from jinhui.localstack import Stack
from services.disbursements.adapters.tables import disbursements, member_directory
from services.disbursements.service_layer.vouchers import expire_vouchers
from services.entitlements.adapters.projections import LIVE
from services.hardship.adapters.tables import cases
from services.members.domain.identity import synthetic_id_number
from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.db.engine import drop_database
from shared.money import yuan_text
from shared.settings import ServiceSettings

UNION = "shanxi/taiyuan/xiaodian/bu-0001"
COUNTY = "shanxi/taiyuan/xiaodian"  # grants summer camps and NEF insurance (county and above)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
FORMS = ["", "", "", "", "", "", "", "", "快递员", "外卖骑手"]
Progress = Callable[[str, int, int], None]


@dataclass
class Services:
    members: RunningService
    entitlements: RunningService
    disbursements: RunningService
    hardship: RunningService
    clock: FixedClock
    member_ids: list[str] = field(default_factory=list)
    children: list[tuple[str, str]] = field(default_factory=list)  # (parent, child id)
    riders: list[str] = field(default_factory=list)  # members in a new form of employment


def headers(role: Role, subject: str = "demo", org: str = UNION) -> dict[str, str]:
    token = issue_token(ServiceSettings(environment="test"), subject=subject, roles=[role], org=org)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def demo_stack(year: int, server_url: str | None = None) -> AsyncIterator[Services]:
    """The four services in this process on a fast clock. With `server_url` (the PostgreSQL
    server `jinhui up` started) the demo's databases live there and are dropped at the end;
    otherwise it starts its own server in a temporary folder and removes the folder. Its broker
    is always its own (memory only), so the running services never see the demo's messages."""
    folder = Path(tempfile.mkdtemp(prefix="jinhui-demo-"))
    stack = Stack.start(
        folder, database_prefix=f"jinhui_demo_{uuid.uuid4().hex[:6]}", server_url=server_url
    )
    clock = FixedClock()
    clock.set_business_date(date(year, 1, 2))
    try:
        await stack.prepare()
        async with AsyncExitStack() as running:
            services = [
                await running.enter_async_context(
                    running_service(
                        name,
                        stack,
                        clock,
                        log_json=True,
                        log_level="WARNING",
                        birthday_scan_interval_s=3600,
                        pending_wait_s=3600,
                    )
                )
                for name in ("members", "entitlements", "disbursements", "hardship")
            ]
            members, entitlements, disbursements_, hardship = services
            yield Services(members, entitlements, disbursements_, hardship, clock=clock)
    finally:
        stack.stop()
        if server_url:
            for url in stack.database_urls.values():
                await drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)


async def import_roster(s: Services, members: int, rng: random.Random) -> None:
    header = "姓名,身份证号,手机号,入会日期,就业形态,农民工,少数民族,烈属,工号"
    lines = [header]
    for i in range(members):
        lines.append(
            ",".join(
                [
                    f"{SURNAMES[i % len(SURNAMES)]}{'明华英军芳强'[i % 6]}{i}",
                    # birthdays spread over the year, so each month has its birthday gifts
                    synthetic_id_number(
                        i, born_from=date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 35))
                    ),
                    f"139{i:08d}",
                    "2018-05-01",
                    FORMS[rng.randrange(len(FORMS))],
                    "是" if rng.random() < 0.2 else "否",
                    "是" if rng.random() < 0.05 else "否",
                    "是" if rng.random() < 0.01 else "否",
                    f"A{i:06d}",
                ]
            )
        )
    response = await s.members.client.post(
        "/v1/members/imports",
        params={"union": UNION},
        content="\n".join(lines).encode(),
        headers={**headers(Role.HR_INTEGRATION), "Content-Type": "text/csv"},
        timeout=600,
    )
    response.raise_for_status()
    s.member_ids = [r["member_id"] for r in response.json()["rows"] if r["member_id"]]


async def until(probe: Callable[[], Any], timeout_s: float = 600) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the demo waited too long for the services")
        await asyncio.sleep(0.25)


async def known_downstream(s: Services) -> None:
    async def ready() -> bool:
        async with s.disbursements.runtime.sessions() as session:
            seen = await session.scalar(select(func.count()).select_from(member_directory))
        async with s.entitlements.runtime.sessions() as session:
            profiles = await session.scalar(select(func.count()).select_from(LIVE.profiles))
        return (seen or 0) >= len(s.member_ids) and (profiles or 0) >= len(s.member_ids)

    await until(ready)


async def setup_union(s: Services, year: int) -> None:
    finance = headers(Role.FINANCE_OFFICER)
    members = len(s.member_ids)
    await s.entitlements.client.put(
        f"/v1/unions/{UNION}/finances/{year}",
        json={
            "dues_income_fen": members * 12 * 1000,
            "budget_fen": members * 150_000,
            "consumption_share_fen": members * 10_000,
        },
        headers=finance,
    )
    await s.entitlements.client.put(
        f"/v1/unions/{UNION}/standards/voucher",
        json={"effective_from": f"{year}-01-01", "amount_fen": 30000, "expiry_days": 60},
        headers=finance,
    )


async def batch(
    s: Services,
    key: str,
    benefit: str,
    amount: int,
    day: date,
    selection: dict[str, Any] | None = None,
) -> None:
    finance = headers(Role.FINANCE_OFFICER)
    created = await s.disbursements.client.post(
        "/v1/disbursement-batches",
        json={
            "batch_key": key,
            "union": UNION,
            "benefit": benefit,
            "amount_fen": amount,
            "business_date": day.isoformat(),
            "selection": selection or {"kind": "all_active"},
        },
        headers=finance,
    )
    created.raise_for_status()
    url = f"/v1/disbursement-batches/{created.json()['batch_id']}"

    async def done() -> bool:
        report = (await s.disbursements.client.get(url, headers=finance)).json()
        settled = sum(n for st, n in report["by_status"].items() if st not in ("pending",))
        return bool(report["status"] == "submitted" and settled >= report["lines"])

    await until(done)


async def single(
    s: Services,
    member_id: str,
    benefit: str,
    amount: int,
    day: date,
    details: dict[str, Any] | None = None,
    org: str = UNION,
) -> None:
    await s.disbursements.client.post(
        "/v1/disbursements",
        json={
            "member_id": member_id,
            "benefit": benefit,
            "amount_fen": amount,
            "business_date": day.isoformat(),
            "details": details or {},
        },
        headers={
            **headers(Role.FINANCE_OFFICER, org=org),
            "Idempotency-Key": f"demo-{uuid.uuid4()}",
        },
    )


async def redeem_vouchers(s: Services, rng: random.Random, share: float) -> None:
    async with s.disbursements.runtime.sessions() as session:
        issued = list(
            await session.scalars(
                select(disbursements.c.disbursement_id).where(
                    disbursements.c.benefit == "voucher", disbursements.c.status == "issued"
                )
            )
        )
    for disbursement_id in issued:
        if rng.random() < share:
            await s.disbursements.client.post(
                f"/v1/disbursements/{disbursement_id}/redeem",
                headers=headers(Role.FINANCE_OFFICER),
            )


def outing(day: date) -> dict[str, Any]:
    return {
        "start_date": day.isoformat(),
        "end_date": (day + timedelta(days=1)).isoformat(),
        "destination_city": "xinzhou",
        "scenic_area": "芦芽山",
        "cost_lines": [
            {"category": "transport", "amount_fen": 8000},
            {"category": "accommodation", "amount_fen": 30000},
            {"category": "meals", "amount_fen": 15000},
        ],
    }


def household(member_id: str | None, income: int, cause: str = "illness") -> dict[str, Any]:
    return {
        "city": "taiyuan",
        "people": [{"name": "职工", "relation": "self", "member_id": member_id}],
        "monthly_income_per_head_fen": income,
        "causes": [cause],
    }


async def case_step(s: Services, case_id: str, action: str, **body: Any) -> None:
    await s.hardship.client.post(
        f"/v1/hardship/cases/{case_id}/{action}",
        json=body,
        headers=headers(Role.CASEWORKER, "caseworker-demo"),
    )


async def _known_as_riders(s: Services) -> bool:
    p = LIVE.profiles.c
    async with s.entitlements.runtime.sessions() as session:
        known = await session.scalar(
            select(func.count()).where(p.member_id.in_(s.riders), p.employment_form != "standard")
        )
    return (known or 0) >= len(s.riders)


async def other_measures(s: Services, year: int, day: date, rng: random.Random) -> None:
    """The measures the rest of the year does not reach: training (the union's own standard),
    recuperation (the union's plan), NEF injury insurance and summer camps (granted by the
    county union), culture-tourism products and consumption assistance (union spending)."""
    finance, ids = headers(Role.FINANCE_OFFICER), s.member_ids
    if day == date(year, 1, 5):
        await s.entitlements.client.put(
            f"/v1/unions/{UNION}/standards/training_subsidy",
            json={"effective_from": f"{year}-01-01", "standard_fen": 100000},
            headers=finance,
        )
        await s.disbursements.client.put(
            f"/v1/recuperation-plans/{UNION}/{year}",
            json={
                "window_from": f"{year}-04-01",
                "window_to": f"{year}-10-31",
                "participants": ids[: max(1, len(ids) // 20)],
                "union_subsidy_per_person_fen": 80000,
                "employer_fund_per_person_fen": 300000,
            },
            headers=finance,
        )
    if day == date(year, 5, 25):
        for member_id in ids[: max(1, len(ids) // 20)]:
            trip = {
                "plan_year": year,
                "start_date": (day - timedelta(days=5)).isoformat(),
                "end_date": (day - timedelta(days=1)).isoformat(),
                "employer_welfare_fund_fen": 300000,
            }
            await single(s, member_id, "recuperation", 80000, day, trip)
    if day == date(year, 6, 15):
        await until(lambda: _known_as_riders(s))  # the county grants on what entitlements knows
        for member_id in s.riders:
            await single(s, member_id, "nef_injury_insurance", 15000, day, org=COUNTY)
    if day == date(year, 7, 15):
        for parent, child in s.children:
            camp = {"child_id": child, "camp": "晋祠少年营"}
            await single(s, parent, "summer_camp", 60000, day, camp, org=COUNTY)
    if day == date(year, 9, 10):
        for member_id in rng.sample(ids, max(1, len(ids) // 30)):
            await single(s, member_id, "training_subsidy", 100000, day)
    if day == date(year, 9, 28):
        await batch(s, f"culture-tourism-{year}", "culture_tourism_product", 20000, day)
    if day == date(year, 11, 15):
        await s.entitlements.client.post(
            f"/v1/unions/{UNION}/consumption-assistance",
            json={
                "purchase_id": f"assistance-{year}",
                "amount_fen": len(ids) * 8000,
                "business_date": day.isoformat(),
                "purpose": "采购脱贫地区农产品用于职工食堂",
            },
            headers=finance,
        )


async def a_year(s: Services, year: int, rng: random.Random, progress: Progress) -> dict[str, Any]:
    ids = s.member_ids
    caseworker = headers(Role.CASEWORKER, "caseworker-demo")
    reviewer = headers(Role.REVIEWER, "reviewer-demo")
    hr = headers(Role.HR_INTEGRATION)
    cases_open: list[str] = []
    register_by_month: dict[str, list[int]] = {"deep": [], "relative": [], "accident": []}
    day, end = date(year, 1, 2), date(year, 12, 31)
    total = (end - day).days + 1
    while day <= end:
        s.clock.set_business_date(day)
        await s.members.runtime.services["birthdays"].run_once()
        await other_measures(s, year, day, rng)
        if day == date(year, 1, 20):
            await batch(s, f"spring-{year}", "holiday_gift", 50000, day)
        if day == date(year, 2, 15):
            for member_id in rng.sample(ids, max(2, len(ids) // 100)):
                income = rng.choice((50000, 90000, 120000))
                created = await s.hardship.client.post(
                    "/v1/hardship/cases",
                    json={
                        "union": UNION,
                        "source": "survey",
                        "household": household(member_id, income),
                    },
                    headers=caseworker,
                )
                case_id = created.json()["case_id"]
                await case_step(s, case_id, "assess")
                await case_step(s, case_id, "register")
                cases_open.append(case_id)
        if day == date(year, 3, 1):
            await batch(s, f"vouchers-{year}", "voucher", 30000, day)
        if day == date(year, 3, 20):  # most members spend their voucher; the rest expire
            await redeem_vouchers(s, rng, share=0.8)
        if day == date(year, 6, 1):
            await batch(s, f"films-{year}", "culture_sports", 20000, day)
        if day == date(year, 4, 8):
            for a, b in zip(ids[0:20:2], ids[1:20:2], strict=False):
                await s.members.client.put(
                    f"/v1/members/{a}/spouse", json={"spouse_member_id": b}, headers=hr
                )
                born = await s.members.client.post(
                    f"/v1/members/{a}/births",
                    json={
                        "birth_date": day.isoformat(),
                        "birth_order": rng.choice((1, 2)),
                        "within_policy": True,
                        "other_parent_member_id": b,
                    },
                    headers=hr,
                )
                child = born.json()["child_id"]
                s.children.append((a, child))
                order_amount = 150000
                for parent in (a, b):
                    await single(
                        s, parent, "childbirth_gift", order_amount, day, {"child_id": child}
                    )
        if day == date(year, 5, 16):
            for member_id in rng.sample(ids, max(1, len(ids) // 5)):
                await single(s, member_id, "outing", 53000, day, outing(day))
        if day == date(year, 6, 10):
            for member_id in rng.sample(ids, max(1, len(ids) // 50)):
                s.riders.append(member_id)
                await s.members.client.put(
                    f"/v1/members/{member_id}/new-employment-form",
                    json={
                        "employment_form": "food_delivery_rider",
                        "registered_on": day.isoformat(),
                        "platform": "美团",
                    },
                    headers=hr,
                )
        if day == date(year, 7, 12) and ids:
            emergency = await s.hardship.client.post(
                "/v1/hardship/emergencies",
                json={
                    "union": UNION,
                    "member_id": ids[-1],
                    "amount_fen": 300000,
                    "purpose": "flood_damage",
                    "household": household(ids[-1], 60000, "natural_disaster"),
                },
                headers=caseworker,
            )
            body = emergency.json()
            await s.hardship.client.post(
                f"/v1/hardship/cases/{body['case_id']}/reliefs/{body['relief_id']}/approve",
                headers=reviewer,
            )
        if day == date(year, 8, 20):
            for case_id in cases_open[: len(cases_open) // 2]:
                await case_step(s, case_id, "start-review", reason="mid-year review")
                await case_step(
                    s,
                    case_id,
                    "complete-review",
                    household=household(None, 200000),
                )
        if day == date(year, 9, 15):
            await batch(s, f"mid-autumn-{year}", "holiday_gift", 30000, day)
        if day == date(year, 10, 1):  # a National Day plan too generous for the yearly cap
            await batch(s, f"national-day-{year}", "holiday_gift", 180000, day)
        if day == date(year, 11, 5) and cases_open:
            await case_step(s, cases_open[0], "re-enter", household=household(None, 40000))
        if day.day == 1:
            await expire_vouchers(s.disbursements.runtime.context, s.disbursements.runtime)
        next_day = day + timedelta(days=1)
        if next_day.month != day.month:  # month end: birthday gifts of the month, register
            await batch(
                s,
                f"birthdays-{year}-{day.month}",
                "birthday_gift",
                30000,
                day,
                {"kind": "birthday_month", "month": day.month},
            )
            async with s.hardship.runtime.sessions() as session:
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
        progress("a year of the union", (day - date(year, 1, 2)).days + 1, total)
        day = next_day
    return {"hardship": register_by_month}


async def collect(s: Services, year: int, hardship: dict[str, list[int]]) -> Year:
    """The year as the report shows it, read through the services' own APIs and tables."""

    async def nothing_pending() -> bool:
        async with s.disbursements.runtime.sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(disbursements.c.status == "pending")
            )
        return not pending

    await until(nothing_pending)
    d = disbursements.c
    async with s.disbursements.runtime.sessions() as session:
        issued = {
            b: (int(n), int(f or 0))
            for b, n, f in (
                await session.execute(
                    select(d.benefit, func.count(), func.sum(d.amount_fen))
                    .where(d.status == "issued")
                    .group_by(d.benefit)
                )
            ).tuples()
        }
        refused = (
            (
                await session.execute(
                    select(d.clause, d.rule, func.count(), func.min(d.reason))
                    .where(d.status == "rejected")
                    .group_by(d.clause, d.rule)
                    .order_by(func.count().desc())
                )
            )
            .tuples()
            .all()
        )
        statuses: dict[str, int] = dict(
            (await session.execute(select(d.status, func.count()).group_by(d.status)))
            .tuples()
            .all()
        )
    auditor = headers(Role.AUDITOR)
    spending = await s.disbursements.client.get(
        "/v1/finance/spending", params={"year": year, "union": UNION}, headers=auditor
    )
    monthly = [0] * 12
    for row in spending.json():
        monthly[int(row["month"]) - 1] += int(row["issued_fen"])
    ledger = await s.entitlements.client.get(f"/v1/unions/{UNION}/ledgers/{year}", headers=auditor)
    policy = s.entitlements.runtime.context.policies.in_force(date(year, 12, 31))
    titles = {rule.clause: rule.title for rule in policy.member_benefits.values()}
    titles |= {rule.clause: rule.title for rule in policy.union_rules.values()}
    total = sum(f for _, f in issued.values())
    return Year(
        union=UNION,
        year=year,
        members=len(s.member_ids),
        summary=[
            ("会员人数 members", f"{len(s.member_ids):,}"),
            ("已发放 issued", f"{statuses.get('issued', 0):,} 笔"),
            ("未通过 refused", f"{statuses.get('rejected', 0):,} 笔"),
            ("已冲回 reversed（过期未用的消费券、更正）", f"{statuses.get('reversed', 0):,} 笔"),
            ("全年发放总额 paid in total", yuan_text(total)),
        ],
        measures=[
            Measure(
                clause=rule.clause,
                title=rule.title,
                benefit=benefit,
                cap_fen=rule.cap_fen if rule.yearly_cap else None,
                max_count=rule.max_count,
                used_fen=issued.get(benefit, (0, 0))[1],
                issued=issued.get(benefit, (0, 0))[0],
            )
            for benefit, rule in policy.member_benefits.items()
        ],
        union_rules=[
            UnionRule(
                title=line["title"],
                clause=line["clause"],
                kind=line["kind"],
                limit_fen=line["limit_fen"],
                used_fen=line["used_fen"],
                left_fen=line["remaining_fen"]
                if line["kind"] == "ceiling"
                else line["still_to_spend_fen"],
            )
            for line in ledger.json().get("lines", [])
        ],
        monthly_fen=monthly,
        hardship=hardship,
        refusals=[
            Refusal(
                clause=clause or "-",
                title=titles.get(clause or "", clause or "-"),
                rule=rule or "-",
                count=int(n),
                reason=reason or "",
            )
            for clause, rule, n, reason in refused
        ],
    )
