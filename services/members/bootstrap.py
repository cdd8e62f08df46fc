"""Builds the members service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.members.adapters.tables import event_tables
from services.members.settings import MembersSettings
from shared.clock import Clock, SystemClock
from shared.runtime import Runtime, build_runtime


def bootstrap(settings: MembersSettings | None = None, clock: Clock | None = None) -> Runtime:
    return build_runtime(
        service="members",
        settings=settings or MembersSettings(),
        clock=clock or SystemClock(),
        tables=event_tables,
    )
