"""The birthday scheduler: `BirthdayReached` once per member per year, on the birthday.

It runs every few minutes on the injectable clock. Each run scans the years since the last run
(so after downtime over New Year it still records December's birthdays under the old year) for
active members whose birthday has come and is not yet recorded. The member aggregate refuses a
second birthday in a year, under the stream lock, so two replicas or a rerun cannot double it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.members.adapters.repository import birthday_candidates
from services.members.adapters.tables import scheduler_state
from services.members.service_layer.handlers import reach_birthdays
from shared.clock import business_date
from shared.runtime import Runtime
from shared.telemetry.metrics import BIRTHDAYS_RECORDED
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
NAME = "birthdays"


class BirthdayScheduler:
    def __init__(self, runtime: Runtime, interval_s: float, chunk: int = 200) -> None:
        self._runtime = runtime
        self._interval_s = interval_s
        self._chunk = chunk

    async def run(self) -> None:
        while True:
            await self.run_once()  # an error: the supervisor says so and restarts it
            await asyncio.sleep(self._interval_s)

    async def run_once(self) -> int:
        today = business_date(self._runtime.clock)
        async with self._runtime.sessions() as session:
            last = await session.scalar(
                select(scheduler_state.c.last_run_on).where(scheduler_state.c.name == NAME)
            )
        first_year = min(last.year, today.year) if last else today.year
        recorded = 0
        for year in range(first_year, today.year + 1):
            through = today if year == today.year else date(year, 12, 31)
            recorded += await self._scan(year, through, today)
        async with UnitOfWork(self._runtime) as uow:
            await uow.session.execute(
                pg_insert(scheduler_state)
                .values(name=NAME, last_run_on=today)
                .on_conflict_do_update(
                    index_elements=[scheduler_state.c.name], set_={"last_run_on": today}
                )
            )
        BIRTHDAYS_RECORDED.inc(recorded)
        if recorded:
            log.info("birthdays recorded", extra={"count": recorded, "business_date": str(today)})
        return recorded

    async def _scan(self, year: int, through: date, today: date) -> int:
        recorded, after = 0, ""
        while True:
            async with self._runtime.sessions() as session:
                batch = await birthday_candidates(session, year, through, self._chunk, after)
            if not batch:
                return recorded
            async with UnitOfWork(self._runtime) as uow:
                recorded += await reach_birthdays(uow, batch, year, today)
            after = batch[-1]
