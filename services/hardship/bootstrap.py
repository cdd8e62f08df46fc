"""Builds the hardship service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.hardship.adapters.tables import event_tables
from services.hardship.domain.criteria import CriteriaBook
from services.hardship.entrypoints.consumers import member_events
from services.hardship.service_layer import emergencies
from services.hardship.service_layer.handlers import HardshipContext
from services.hardship.settings import HardshipSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime
from shared.vault import IdentityVault


def bootstrap(settings: HardshipSettings | None = None, clock: Clock | None = None) -> Runtime:
    settings = settings or HardshipSettings()
    clock = clock or SystemClock()
    ctx = HardshipContext(
        vault=IdentityVault.from_secrets(
            settings.hardship_hash_key, settings.hardship_encryption_keys
        ),
        clock=clock,
        criteria=CriteriaBook.bundled(),
    )
    runtime = build_runtime(
        service="hardship",
        settings=settings,
        clock=clock,
        tables=event_tables,
        subscriptions=[member_events(ctx)],
    )
    runtime.context = ctx
    runtime.extra_workers.append(
        lambda: emergencies.run(ctx, runtime, settings.emergency_sweep_interval_s)
    )
    return runtime
