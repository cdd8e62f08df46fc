"""Emergency files not converted into full files within the set time are closed."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from services.hardship.adapters import repository as repo
from services.hardship.adapters.tables import cases
from services.hardship.service_layer.handlers import HardshipContext
from shared.auth import Principal
from shared.runtime import Runtime
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
SWEEPER = Principal(subject="emergency-sweeper", roles=frozenset(), org="shanxi")


async def close_unconverted(ctx: HardshipContext, runtime: Runtime) -> int:
    today = ctx.today()
    criteria = ctx.criteria.in_force(today)
    async with runtime.sessions() as session:
        candidates = list(
            await session.scalars(
                select(cases.c.case_id).where(cases.c.emergency, cases.c.status != "closed")
            )
        )
    closed = 0
    for case_id in candidates:
        async with UnitOfWork(runtime) as uow:
            case = await repo.CaseRepository(uow.events).get(case_id, for_update=True)
            if case is None or not case.emergency_overdue(criteria, today):
                continue
            case.close("emergency_not_converted", today, SWEEPER.subject)
            await repo.CaseRepository(uow.events).save(case, metadata={"actor": SWEEPER.subject})
            await repo.audit(
                uow.session,
                ctx.clock.now(),
                SWEEPER.subject,
                "close",
                case_id,
                "emergency not converted in time",
            )
            closed += 1
    return closed


async def run(ctx: HardshipContext, runtime: Runtime, interval_s: float) -> None:
    while True:
        await close_unconverted(ctx, runtime)  # an error: the supervisor says so and restarts it
        await asyncio.sleep(interval_s)
