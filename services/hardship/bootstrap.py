"""Builds the hardship service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.hardship.adapters.tables import event_tables
from services.hardship.settings import HardshipSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime


def bootstrap(settings: HardshipSettings | None = None, clock: Clock | None = None) -> Runtime:
    return build_runtime(
        service="hardship",
        settings=settings or HardshipSettings(),
        clock=clock or SystemClock(),
        tables=event_tables,
    )
