"""ASGI application of the hardship service."""

from __future__ import annotations

from fastapi import FastAPI

from services.hardship.bootstrap import bootstrap
from services.hardship.entrypoints import api
from services.hardship.entrypoints.access import ACCESS
from services.hardship.settings import HardshipSettings
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import runtime_lifespan


def create_app(settings: HardshipSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        service="hardship",
        title="Jinhui hardship",
        description="The dynamically adjusted register of workers in hardship, for caseworkers.",
        lifespan=runtime_lifespan(lambda: bootstrap(settings, clock)),
        routers=[api.router],
        access=ACCESS,
    )


app = create_app()
