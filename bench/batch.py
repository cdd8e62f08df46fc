"""A Mid-Autumn batch for a whole union on the real local stack: N members imported through the
roster API, then one batch of 300-yuan holiday gifts; prints how long until every line is
decided by entitlements and issued, and the lines per second.

    .venv/bin/python bench/batch.py [--members 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bench.roster_import import UNION, chunk_bodies, roster
from services.disbursements.adapters.tables import member_directory
from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.inprocess import running_service
from shared.localstack import Stack
from shared.settings import ServiceSettings


def token(role: Role) -> dict[str, str]:
    value = issue_token(
        ServiceSettings(environment="test"), subject="bench", roles=[role], org=UNION
    )
    return {"Authorization": f"Bearer {value}"}


async def main(members: int) -> None:
    stack = Stack.start(Path(tempfile.mkdtemp(prefix="jinhui-bench-")), database_prefix="jinhui_bt")
    clock = FixedClock()
    clock.set_business_date(date(2026, 9, 20))
    try:
        await stack.prepare()
        async with (
            running_service("members", stack, clock, birthday_scan_interval_s=3600) as m,
            running_service("entitlements", stack, clock) as e,
            running_service("disbursements", stack, clock) as d,
        ):
            started = time.perf_counter()
            for n, body in enumerate(chunk_bodies(roster(members, 200_000), 500)):
                response = await m.client.post(
                    "/v1/members/imports",
                    params={"union": UNION, "first_row": n * 500 + 1},
                    content=body.encode(),
                    headers={**token(Role.HR_INTEGRATION), "Content-Type": "text/csv"},
                    timeout=600,
                )
                response.raise_for_status()
            while True:
                async with d.runtime.sessions() as session:
                    known = await session.scalar(select(func.count()).select_from(member_directory))
                if known >= members:
                    break
                await asyncio.sleep(0.5)
            print(
                f"roster of {members} imported and known downstream in "
                f"{time.perf_counter() - started:.1f} s"
            )

            finance = token(Role.FINANCE_OFFICER)
            started = time.perf_counter()
            created = await d.client.post(
                "/v1/disbursement-batches",
                json={
                    "batch_key": "mid-autumn-2026",
                    "union": UNION,
                    "benefit": "holiday_gift",
                    "amount_fen": 30000,
                    "business_date": "2026-09-20",
                },
                headers=finance,
            )
            created.raise_for_status()
            batch_url = f"/v1/disbursement-batches/{created.json()['batch_id']}"
            while True:
                report = (await d.client.get(batch_url, headers=finance)).json()
                if report["status"] == "submitted" and "lines_created" not in report:
                    report["lines_created"] = time.perf_counter() - started
                done = sum(
                    n for s, n in report["by_status"].items() if s != "pending" and s != "approved"
                )
                if report["status"] == "submitted" and done >= members:
                    break
                await asyncio.sleep(1)
            elapsed = time.perf_counter() - started
            print(
                f"batch of {members}: every line decided and issued in {elapsed:.1f} s = "
                f"{members / elapsed:,.0f} lines/s  {report['by_status']}"
            )
            del e
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.members))
