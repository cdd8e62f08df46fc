"""Builds the members service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.members.adapters.orgs import read_tree_file, save_units, stored_kinds
from services.members.adapters.tables import event_tables
from services.members.adapters.vault import vault_from_settings
from services.members.entrypoints.consumers import hr_events
from services.members.service_layer.birthdays import BirthdayScheduler
from services.members.service_layer.handlers import MembersContext
from services.members.service_layer.hr_conflicts import expire_parked
from services.members.settings import MembersSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


def bootstrap(settings: MembersSettings | None = None, clock: Clock | None = None) -> Runtime:
    settings = settings or MembersSettings()
    clock = clock or SystemClock()
    ctx = MembersContext(vault=vault_from_settings(settings), clock=clock)
    runtime = build_runtime(
        service="members",
        settings=settings,
        clock=clock,
        tables=event_tables,
        subscriptions=[hr_events(ctx)],
    )
    runtime.context = ctx
    runtime.on_start.append(lambda: seed_org_tree(runtime, settings))
    scheduler = BirthdayScheduler(runtime, settings.birthday_scan_interval_s)
    runtime.extra_workers.append(scheduler.run)
    runtime.services["birthdays"] = scheduler
    runtime.extra_workers.append(lambda: expire_parked_for_ever(runtime, settings))
    return runtime


async def expire_parked_for_ever(runtime: Runtime, settings: MembersSettings) -> None:
    """Parked HR events whose hire never came move to the conflict list, once an interval."""
    while True:
        async with UnitOfWork(runtime) as uow:
            moved = await expire_parked(
                runtime.context, uow, timedelta(seconds=settings.hr_parked_expire_after_s)
            )
        if moved:
            log.warning("parked HR events expired to the conflict list", extra={"count": moved})
        await asyncio.sleep(settings.hr_parked_check_interval_s)


async def seed_org_tree(runtime: Runtime, settings: MembersSettings) -> None:
    """Units of the bundled tree that are not stored yet; stored ones are never overwritten."""
    async with runtime.sessions() as session, session.begin():
        stored = await stored_kinds(session)
        units = [u for u in read_tree_file(settings.org_tree_file) if u.path not in stored]
        written = await save_units(session, units, overwrite=False)
    if written:
        log.info("org tree seeded", extra={"units": written})
