"""The services running inside this process on a stack: for tests, benchmarks and the demo,
which talk to them over ASGI exactly as clients would over HTTP."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from jinhui.localstack import Stack
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import ServiceSettings


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime


def service_settings(name: str, stack: Stack, **overrides: Any) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    cls = next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )
    values: dict[str, Any] = {
        "database_url": stack.database_urls[name],
        "kafka_bootstrap_servers": stack.bootstrap_servers,
        "environment": "test",
        "outbox_poll_interval_s": 0.02,
        "kafka_session_timeout_ms": 6000,
        # one look at start: dozens of services start and stop on one broker here, and what
        # a look concludes is asked for by the tests that need it (`ReadThrough.look`)
        "kafka_read_through_interval_s": 3600.0,
        "log_json": False,
        **overrides,
    }
    return cls(**values)


@asynccontextmanager
async def running_service(
    name: str, stack: Stack, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[RunningService]:
    module = importlib.import_module(f"services.{name}.entrypoints.app")
    app: FastAPI = module.create_app(service_settings(name, stack, **overrides), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield RunningService(app, client, app.state.runtime)
