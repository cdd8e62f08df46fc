"""Overload is refused within a second, not served late: at most `http_max_in_flight` API
requests are under way in one process; the next is answered at once, 503 with Retry-After.

Without it, a thousand requests at once were all taken in and all answered, the last after
5.5 s: each waited behind its neighbours' work on one event loop, and a caller could not tell
a slow service from a dead one. The probes (`/healthz`, `/readyz`, `/metrics`) are never
refused: an orchestrator must hear the truth most of all when the service is busy.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http.problems import RETRY_AFTER_S, problem
from shared.telemetry.metrics import HTTP_REFUSED

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
DEFAULT_MAX_IN_FLIGHT = 128


class Admission:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.in_flight = 0
        self._limit: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit(scope):
            HTTP_REFUSED.labels(self.service).inc()
            await _overloaded(scope)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def limit(self, scope: Scope) -> int:
        """The running service's setting, once its lifespan has started it."""
        if self._limit is None:
            runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
            if runtime is None:
                return DEFAULT_MAX_IN_FLIGHT
            self._limit = int(runtime.settings.http_max_in_flight)
        return self._limit


def _overloaded(scope: Scope) -> ASGIApp:
    return problem(
        Request(scope),
        503,
        "service-unavailable",
        "Service temporarily unavailable",
        "服务繁忙，请稍后重试；带同一 Idempotency-Key 重试是安全的 "
        "(too many requests under way; retrying with the same Idempotency-Key is safe)",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        retry_after_s=RETRY_AFTER_S,
        rule="overloaded",
    )
