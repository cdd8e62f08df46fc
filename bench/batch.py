"""A Mid-Autumn batch for a whole union on the real local stack: N members imported through the
roster API (and known to entitlements and disbursements), then one batch of 300-yuan holiday
gifts; prints how long until every line is decided by entitlements and issued, and the lines
per second. Figures from this machine: `bench/RESULTS.md`.

    .venv/bin/python -m bench.batch [--members 2000]                  # services in one process
    .venv/bin/python -m bench.batch --members 100000 --processes      # each in its own, as deployed
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.roster_import import UNION, chunk_bodies, roster
from jinhui.inprocess import running_service
from jinhui.localstack import Stack, free_port, start_service
from services.disbursements.adapters.tables import member_directory
from services.entitlements.adapters.projections import LIVE
from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.db.engine import create_engine
from shared.settings import ServiceSettings


async def _known(disbursements: AsyncEngine, entitlements: AsyncEngine) -> int:
    """Members known to both services that decide a batch (a roster is imported before the
    batches that pay it)."""
    async with disbursements.connect() as conn:
        directory = await conn.scalar(select(func.count()).select_from(member_directory))
    async with entitlements.connect() as conn:
        profiles = await conn.scalar(select(func.count()).select_from(LIVE.profiles))
    return min(directory or 0, profiles or 0)


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
                if await _known(d.runtime.engine, e.runtime.engine) >= members:
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
    finally:
        stack.stop()


async def main_processes(members: int) -> None:
    """The same, with each service in its own process as deployed (uvicorn, system clock)."""
    folder = Path(tempfile.mkdtemp(prefix="jinhui-bench-"))
    stack = Stack.start(folder, database_prefix="jinhui_bp")
    processes = []
    try:
        await stack.prepare()
        ports = {s: free_port() for s in ("members", "entitlements", "disbursements", "hardship")}
        processes = [start_service(stack, s, p, folder / f"{s}.log") for s, p in ports.items()]
        clients = {
            s: httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=600)
            for s, p in ports.items()
        }
        for client in clients.values():
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        started = time.perf_counter()
        for n, body in enumerate(chunk_bodies(roster(members, 300_000), 500)):
            response = await clients["members"].post(
                "/v1/members/imports",
                params={"union": UNION, "first_row": n * 500 + 1},
                content=body.encode(),
                headers={**token(Role.HR_INTEGRATION), "Content-Type": "text/csv"},
            )
            response.raise_for_status()
        engines = [create_engine(stack.database_urls[s]) for s in ("disbursements", "entitlements")]
        while True:
            if await _known(*engines) >= members:
                break
            await asyncio.sleep(1)
        for engine in engines:
            await engine.dispose()
        print(
            f"roster of {members} imported and known downstream in "
            f"{time.perf_counter() - started:.1f} s"
        )
        finance = token(Role.FINANCE_OFFICER)
        started = time.perf_counter()
        created = await clients["disbursements"].post(
            "/v1/disbursement-batches",
            json={
                "batch_key": "bench",
                "union": UNION,
                "benefit": "holiday_gift",
                "amount_fen": 30000,
                "business_date": date.today().isoformat(),
            },
            headers=finance,
        )
        created.raise_for_status()
        url = f"/v1/disbursement-batches/{created.json()['batch_id']}"
        last = 0
        while True:
            report = (await clients["disbursements"].get(url, headers=finance)).json()
            done = report["by_status"].get("issued", 0) + report["by_status"].get("rejected", 0)
            if done >= last + members // 10:
                last = done
                print(
                    f"  {done} lines done after {time.perf_counter() - started:.0f} s", flush=True
                )
            if report["status"] == "submitted" and done >= members:
                break
            await asyncio.sleep(2)
        elapsed = time.perf_counter() - started
        print(
            f"batch of {members} (services in their own processes): every line decided and "
            f"issued in {elapsed:.1f} s = {members / elapsed:,.0f} lines/s  "
            f"{report['by_status']}"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--processes", action="store_true", help="each service in its own process")
    args = parser.parse_args()
    asyncio.run(main_processes(args.members) if args.processes else main(args.members))
