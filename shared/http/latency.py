"""Route latency, and the last word on errors no handler took, as a plain ASGI middleware
(Starlette's `BaseHTTPMiddleware` runs each request through extra tasks and streams, which
costs more than a ledger read)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.problems import unexpected
from shared.telemetry.metrics import HTTP_LATENCY


class LatencyAndLastResort:
    """An error that reaches here unanswered is answered as problem+json (503 for an outage),
    so it never reaches the server, which would drop the keep-alive connection."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered = False

        async def sending(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if answered:
                raise
            response = unexpected(Request(scope), exc)
            status = response.status_code
            await response(scope, receive, send)
        route = getattr(scope.get("route"), "path", "unmatched")
        HTTP_LATENCY.labels(self.service, scope["method"], route, str(status)).observe(
            time.perf_counter() - started
        )
