"""ASGI application of the members service: `uvicorn services.members.entrypoints.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.members.bootstrap import bootstrap
from services.members.entrypoints import api, orgs_api
from services.members.settings import MembersSettings
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import runtime_lifespan


def create_app(settings: MembersSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        service="members",
        title="Jinhui members",
        description="The union's member registry: registration, life events and HR integration.",
        lifespan=runtime_lifespan(lambda: bootstrap(settings, clock)),
        routers=[api.router, orgs_api.router],
    )


app = create_app()
