"""ASGI application of the disbursements service."""

from __future__ import annotations

from fastapi import FastAPI

from services.disbursements.bootstrap import bootstrap
from services.disbursements.entrypoints import api, batches, payroll
from services.disbursements.entrypoints.access import ACCESS
from services.disbursements.settings import DisbursementsSettings
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import runtime_lifespan


def create_app(
    settings: DisbursementsSettings | None = None, clock: Clock | None = None
) -> FastAPI:
    return create_service_app(
        service="disbursements",
        title="Jinhui disbursements",
        description=(
            "Issues vouchers, gifts, tickets, outings and subsidies, one by one or in "
            "batches, tells payroll, and reconciles what payroll paid."
        ),
        lifespan=runtime_lifespan(lambda: bootstrap(settings, clock)),
        routers=[api.router, batches.router, payroll.router],
        access=ACCESS,
    )


app = create_app()
