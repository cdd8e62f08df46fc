"""The console's one bootstrap: settings, the HTTP client to the services, sign-in, pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from console import local_issuer, signin
from console.backend import Backend, ServiceProblem, ServiceUnavailable, SignInNeeded
from console.pages import casework, finance, home, province, standards
from console.roles import ROLE_TITLES
from console.settings import ConsoleSettings
from shared.money import yuan_text

HERE = Path(__file__).parent
SERVICE_TITLES = {
    "members": "会员服务",
    "entitlements": "权益服务",
    "disbursements": "发放服务",
    "hardship": "困难职工服务",
}


def templates() -> Jinja2Templates:
    pages = Jinja2Templates(directory=HERE / "templates")
    pages.env.filters["yuan"] = lambda fen: "—" if fen is None else yuan_text(int(fen))
    pages.env.globals["role_titles"] = ROLE_TITLES
    return pages


def create_app(
    settings: ConsoleSettings | None = None,
    mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`mounts` lets tests reach services running inside the same process."""
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = signin.token_verifier(settings)
        async with httpx.AsyncClient(mounts=mounts) as client:
            app.state.backend = Backend(settings, client)
            yield

    app = FastAPI(
        title="Jinhui console 晋惠工作台",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.templates = templates()
    app.state.oidc = signin.oidc_client(settings)
    app.state.local_grants = {}
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.console_session_secret,
        session_cookie="jinhui_console",
        max_age=8 * 3600,
        same_site="lax",
        https_only=settings.console_url.startswith("https://"),
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if settings.local_issuer:
        app.include_router(local_issuer.router)
    for module in (signin, home, finance, standards, casework, province):
        app.include_router(module.router)
    _errors(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _errors(app: FastAPI) -> None:
    """A refusal is the service's, shown in words; an outage is 503 with Retry-After."""

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, exc: SignInNeeded) -> Response:
        request.session.pop("person", None)
        return RedirectResponse("/signin", 303)

    @app.exception_handler(ServiceProblem)
    async def refused(request: Request, exc: ServiceProblem) -> HTMLResponse:
        return request.app.state.templates.TemplateResponse(
            request, "problem.html", {"problem": exc, "person": _maybe(request)}, exc.status
        )

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> HTMLResponse:
        return request.app.state.templates.TemplateResponse(
            request,
            "unavailable.html",
            {"service": SERVICE_TITLES.get(exc.service, exc.service), "person": _maybe(request)},
            503,
            headers={"Retry-After": exc.retry_after},
        )


def _maybe(request: Request) -> signin.Person | None:
    try:
        return signin.person(request)
    except SignInNeeded:
        return None


app = create_app()
