"""The FastAPI application every service builds: problem+json, /healthz, /readyz, /metrics,
route latency and OpenTelemetry instrumentation, around the service's own routers."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.http.problems import install_problem_handlers, unexpected
from shared.telemetry.metrics import HTTP_LATENCY

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    *, service: str, title: str, description: str, lifespan: Lifespan, routers: list[APIRouter]
) -> FastAPI:
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    app.include_router(_operations_router())

    @app.middleware("http")
    async def _latency(request: Request, call_next: Callable[[Request], Any]) -> Response:
        """Also the last word on errors no handler took: answered here as problem+json (503
        for an outage), so the exception never reaches the server, which would drop the
        keep-alive connection."""
        started = time.perf_counter()
        try:
            response: Response = await call_next(request)
        except Exception as exc:
            response = unexpected(request, exc)
        route = request.scope.get("route")
        HTTP_LATENCY.labels(
            service, request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    return app


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is serving")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and broker reachable")
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
