"""Builds the entitlements service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.entitlements.adapters.tables import event_tables
from services.entitlements.domain.policy import load_bundled_policies
from services.entitlements.entrypoints.consumers import disbursement_events, member_events
from services.entitlements.service_layer.handlers import EntitlementsContext
from services.entitlements.settings import EntitlementsSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime


def bootstrap(settings: EntitlementsSettings | None = None, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    ctx = EntitlementsContext(policies=load_bundled_policies(), clock=clock)
    runtime = build_runtime(
        service="entitlements",
        settings=settings or EntitlementsSettings(),
        clock=clock,
        tables=event_tables,
        subscriptions=[member_events(ctx), disbursement_events(ctx)],
    )
    runtime.context = ctx
    return runtime
