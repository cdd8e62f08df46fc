"""The demo's stack and its moves: one base union on the real local services with a fast clock.

Everything goes through the services' own APIs and topics, as users would: HR's roster import,
single requests and batches, case steps. `calendar` runs the year with these moves; `collect`
reads what it came to.
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

from jinhui.inprocess import RunningService, running_service
from jinhui.localstack import Stack
from jinhui.payroll import PayrollSimulator
from services.disbursements.adapters.tables import disbursements, member_directory
from services.disbursements.domain.model import HELD
from services.entitlements.adapters.projections import LIVE
from services.members.domain.identity import synthetic_id_number
from shared.auth import Role, issue_token
from shared.clock import FixedClock, business_date
from shared.db.engine import drop_database
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
        folder,
        database_prefix=f"jinhui_demo_{uuid.uuid4().hex[:6]}",
        server_url=server_url,
        isolated=True,  # whatever KAFKA_BOOTSTRAP_SERVERS or <SERVICE>_DATABASE_URL say
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
            # The employer's pay run answers every entry: most paid, a few failed.
            pay_run = asyncio.create_task(PayrollSimulator(stack.bootstrap_servers).run())
            try:
                yield Services(members, entitlements, disbursements_, hardship, clock=clock)
            finally:
                pay_run.cancel()
                await asyncio.gather(pay_run, return_exceptions=True)
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
        # from the day it is set: a standard is never back-dated
        json={
            "effective_from": business_date(s.clock).isoformat(),
            "amount_fen": 30000,
            "expiry_days": 60,
        },
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
                    disbursements.c.benefit == "voucher", disbursements.c.status.in_(HELD)
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


async def known_as_riders(s: Services) -> bool:
    p = LIVE.profiles.c
    async with s.entitlements.runtime.sessions() as session:
        known = await session.scalar(
            select(func.count()).where(p.member_id.in_(s.riders), p.employment_form != "standard")
        )
    return (known or 0) >= len(s.riders)
