"""ASGI application of the members service: `uvicorn services.members.entrypoints.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.members.bootstrap import bootstrap
from services.members.entrypoints import api, orgs_api
from services.members.entrypoints.access import ACCESS
from services.members.settings import MembersSettings
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import runtime_lifespan

# A roster's CSV export: 20 MiB is some 150,000 rows; larger rosters are sent in chunks
# (`jinhui members import` does).
ROSTER_MAX_BYTES = 20 * 1024 * 1024


def create_app(settings: MembersSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        service="members",
        title="Jinhui members",
        description="The union's member registry: registration, life events and HR integration.",
        lifespan=runtime_lifespan(lambda: bootstrap(settings, clock)),
        routers=[api.router, orgs_api.router],
        access=ACCESS,
        larger_bodies=[("/v1/members/imports", ROSTER_MAX_BYTES)],
    )


app = create_app()
