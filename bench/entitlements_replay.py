"""Entitlements throughput on the real local stack: live decisions (events appended and
projected per second, several writers) and a rebuild of the read tables from the event store.

    .venv/bin/python bench/entitlements_replay.py [--members 500] [--requests 20] [--writers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from jinhui.inprocess import running_service
from jinhui.localstack import Stack
from services.disbursements.contracts import DisbursementRequested
from services.entitlements.adapters.tables import event_tables
from services.entitlements.service_layer.decisions import Settlement, reserve_now, settle
from services.entitlements.service_layer.handlers import note_member_event
from services.entitlements.service_layer.replay import rebuild
from services.members.contracts import MemberRegistered
from shared.uow import UnitOfWork

UNION = "shanxi/taiyuan/xiaodian/bu-0001"
BENEFITS = [("holiday_gift", 20000), ("culture_tourism_product", 5000), ("voucher", 30000)]


async def main(members: int, requests: int, writers: int) -> None:
    stack = Stack.start(Path(tempfile.mkdtemp(prefix="jinhui-bench-")), database_prefix="jinhui_e")
    try:
        await stack.prepare()
        async with running_service(
            "entitlements", stack, run_background_workers=False, db_pool_size=writers + 4
        ) as svc:
            runtime, ctx = svc.runtime, svc.runtime.context
            ids = [f"m-{uuid.uuid4().hex[:20]}" for _ in range(members)]
            for member_id in ids:
                async with UnitOfWork(runtime) as uow:
                    await note_member_event(
                        ctx,
                        uow,
                        MemberRegistered(
                            member_id=member_id,
                            base_union=UNION,
                            name="职工",
                            birth_date=date(1990, 1, 1),
                            join_date=date(2020, 1, 1),
                        ),
                        f"bench-{member_id}",
                    )

            async def writer(w: int) -> None:
                rng = random.Random(w)
                for member_id in ids[w::writers]:
                    for n in range(requests):
                        benefit, amount = rng.choice(BENEFITS)
                        asked = DisbursementRequested(
                            disbursement_id=f"d-{uuid.uuid4()}",
                            member_id=member_id,
                            benefit=benefit,
                            amount_fen=amount,
                            business_date=date(2026, 1, 1) + timedelta(days=n * 15),
                        )
                        decision = await reserve_now(ctx, runtime, asked)
                        if decision and decision.status == "reserved":
                            async with UnitOfWork(runtime) as uow:
                                issued = Settlement(
                                    member_id, 2026, asked.disbursement_id, "issued"
                                )
                                await settle(ctx, uow.events, issued)

            async def count() -> int:
                async with runtime.sessions() as session:
                    events = event_tables.events
                    return int(await session.scalar(select(func.count()).select_from(events)) or 0)

            before = await count()
            started = time.perf_counter()
            await asyncio.gather(*(writer(w) for w in range(writers)))
            elapsed = time.perf_counter() - started
            appended = await count() - before
            print(
                f"live: {members * requests} requests, {appended} events in {elapsed:.1f} s = "
                f"{appended / elapsed:,.0f} events/s, {members * requests / elapsed:,.0f} "
                f"decisions/s ({writers} writers)"
            )
            report = await rebuild(runtime.engine, runtime.sessions, event_tables)
            print(
                f"rebuild: {report.events} events in {report.seconds:.1f} s = "
                f"{report.events_per_second:,.0f} events/s"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.requests, args.writers))
