"""Builds the entitlements service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.entitlements.adapters.tables import event_tables
from services.entitlements.domain.policy import load_bundled_policies
from services.entitlements.entrypoints.consumers import (
    disbursement_events,
    hardship_events,
    member_events,
)
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.decisions import sweep_expired
from services.entitlements.service_layer.policies import PolicyRegistry
from services.entitlements.settings import EntitlementsSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)


def bootstrap(settings: EntitlementsSettings | None = None, clock: Clock | None = None) -> Runtime:
    settings = settings or EntitlementsSettings()
    clock = clock or SystemClock()
    ctx = EntitlementsContext(
        policies=PolicyRegistry(load_bundled_policies()),
        clock=clock,
        pending_wait=timedelta(seconds=settings.pending_wait_s),
    )
    runtime = build_runtime(
        service="entitlements",
        settings=settings,
        clock=clock,
        tables=event_tables,
        subscriptions=[member_events(ctx), disbursement_events(ctx), hardship_events()],
    )
    runtime.context = ctx

    async def sweeper() -> None:
        while True:
            await sweep_expired(ctx, runtime)  # an error: the supervisor says so and restarts it
            await asyncio.sleep(settings.pending_sweep_interval_s)

    runtime.extra_workers.append(sweeper)
    return runtime
