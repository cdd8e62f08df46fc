"""The FastAPI application every service builds: problem+json, /healthz, /readyz, /metrics,
route latency and OpenTelemetry instrumentation, around the service's own routers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.http.access import Access, enforce
from shared.http.admission import Admission
from shared.http.guard import RequestGuard
from shared.http.latency import LatencyAndLastResort
from shared.http.problems import (
    MEDIA_TYPE,
    PROBLEM_RESPONSES,
    install_problem_handlers,
)
from shared.telemetry.privacy import drop_query_values

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


# Long on purpose: every service's app is assembled here, middleware in the order it runs.
def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    lifespan: Lifespan,
    routers: list[APIRouter],
    access: Mapping[str, Access],
    larger_bodies: Sequence[tuple[str, int]] = (),
) -> FastAPI:
    """`larger_bodies`: (path pattern, byte limit) for the few routes that take more than
    the 1 MiB every other body may hold."""
    # The API pages (Swagger UI at /docs, ReDoc at /redoc) with their assets served by the
    # service itself (`fastapi-offline`): they open on an office network with no way out.
    app = FastAPIOffline(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        static_url="/docs-assets",
    )
    install_problem_handlers(app)
    guard = [Depends(enforce(access))]
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES, dependencies=guard)
    app.include_router(_operations_router(), responses={503: PROBLEM_RESPONSES[503]})

    app.add_middleware(LatencyAndLastResort, service=service)

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="healthz,readyz,metrics,docs",
        server_request_hook=drop_query_values,
        # A span for the request, not two more for the ASGI messages it sends and receives:
        # they carried nothing an on-call engineer reads, and every read paid for them.
        exclude_spans=["receive", "send"],
    )
    app.add_middleware(RequestGuard, larger_bodies=larger_bodies)
    app.add_middleware(Admission, service=service)  # outermost: a refusal costs nothing more
    _errors_as_problems_in_openapi(app)
    return app


def _errors_as_problems_in_openapi(app: FastAPI) -> None:
    """Every error answer is documented as what it is: application/problem+json only."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and MEDIA_TYPE in content:
                        json_schema = content.pop("application/json", None)
                        if json_schema and not content[MEDIA_TYPE]:
                            content[MEDIA_TYPE] = json_schema
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# The documented shape of a readiness answer that is not ready.
_NOT_READY = {
    "status": "unavailable",
    "checks": {"database": "ok", "broker": "unavailable (TimeoutError)", "consumers": "ok"},
}


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is serving")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and broker reachable, consumers caught up",
        responses={
            503: {
                "description": "Not ready: `checks` names what is not (yet) well",
                "content": {"application/json": {"example": _NOT_READY}},
            }
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ok = all(v == "ok" or v.startswith("ok (") for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
