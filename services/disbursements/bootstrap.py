"""Builds the disbursements service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.disbursements.adapters.tables import event_tables
from services.disbursements.settings import DisbursementsSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime


def bootstrap(settings: DisbursementsSettings | None = None, clock: Clock | None = None) -> Runtime:
    return build_runtime(
        service="disbursements",
        settings=settings or DisbursementsSettings(),
        clock=clock or SystemClock(),
        tables=event_tables,
    )
