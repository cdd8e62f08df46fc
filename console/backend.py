"""The four services' APIs, called with the signed-in person's own token.

The console adds no authority of its own: a page shows what the service answered to this
person, and a refusal is the service's refusal, shown in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from console.settings import ConsoleSettings


class SignInNeeded(Exception):
    """The token is missing, expired or refused: the person signs in again."""


@dataclass
class ServiceProblem(Exception):
    """A 4xx a service answered (problem+json, RFC 9457), to be shown on the page."""

    status: int
    title: str
    detail: str
    rule: str | None = None
    field: str | None = None


class ServiceUnavailable(Exception):
    """A service did not answer, or answered 503: the page says so and asks to retry."""

    def __init__(self, service: str, retry_after: str | None = None) -> None:
        super().__init__(service)
        self.service = service
        self.retry_after = retry_after or "5"


@dataclass
class Backend:
    settings: ConsoleSettings
    client: httpx.AsyncClient

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        lang: str = "zh",
        params: dict[str, Any] | None = None,
        json: Any = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {
            "Authorization": f"Bearer {token}",
            "Accept-Language": lang,
            **(headers or {}),
        }
        if reason is not None:  # hardship reads are audited with the reason the person gave
            sent["X-Access-Reason"] = quote(reason)
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            answer = await self.client.request(
                method,
                f"{self.settings.service_url(service)}{path}",
                params=query,
                json=json,
                headers=sent,
                timeout=self.settings.api_timeout_s,
            )
        except httpx.TransportError:
            raise ServiceUnavailable(service) from None
        if answer.status_code == 401:
            raise SignInNeeded()
        if answer.status_code in (502, 503, 504):
            raise ServiceUnavailable(service, answer.headers.get("Retry-After"))
        if answer.status_code >= 400:
            raise _problem(answer)
        return answer

    async def get(self, service: str, path: str, token: str, **kw: Any) -> Any:
        return (await self.call(service, "GET", path, token, **kw)).json()

    async def post(self, service: str, path: str, token: str, body: Any, **kw: Any) -> Any:
        return (await self.call(service, "POST", path, token, json=body, **kw)).json()


def _problem(answer: httpx.Response) -> ServiceProblem:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail")
    if isinstance(detail, list):  # a validation error: each field and what is wrong with it
        detail = "；".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg', '')}"
            for e in detail
            if isinstance(e, dict)
        )
    errors = body.get("errors")
    if isinstance(errors, list) and not detail:
        detail = "；".join(str(e.get("detail", "")) for e in errors if isinstance(e, dict))
    return ServiceProblem(
        status=answer.status_code,
        title=str(body.get("title") or answer.reason_phrase),
        detail=str(detail or ""),
        rule=body.get("rule"),
        field=body.get("field"),
    )
