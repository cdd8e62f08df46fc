"""ASGI application of the entitlements service."""

from __future__ import annotations

from fastapi import FastAPI

from services.entitlements.bootstrap import bootstrap
from services.entitlements.entrypoints import api, eligibility_api, foresight_api, policy_api
from services.entitlements.entrypoints.access import ACCESS
from services.entitlements.settings import EntitlementsSettings
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import runtime_lifespan


def create_app(settings: EntitlementsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        service="entitlements",
        title="Jinhui entitlements",
        description="The ten measures as versioned policy, and per-member, per-year ledgers.",
        lifespan=runtime_lifespan(lambda: bootstrap(settings, clock)),
        routers=[api.router, policy_api.router, eligibility_api.router, foresight_api.router],
        access=ACCESS,
    )


app = create_app()
