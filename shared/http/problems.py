"""Every HTTP error is RFC 9457 problem+json, decided here and only here."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError, validation_errors
from shared.http import language
from shared.outages import is_outage

log = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "https://jinhui.example/problems/"
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_S = 1


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every service is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "invalid-input"])
    title: str = Field(description="Chinese by default; English when Accept-Language prefers it")
    status: int
    detail: str = Field(
        description="Chinese first with the specific English beside it (English only when "
        "Accept-Language prefers it); never repeats the values sent"
    )
    instance: str | None = None
    field: str | None = Field(default=None, description="The field or parameter at fault")
    rule: str | None = Field(default=None, description="The rule that refused, as a stable code")
    clause: str | None = Field(default=None, description="The notice's clause, where one applies")


_WHEN = {
    400: "The request cannot be read",
    401: "No valid bearer token",
    403: "The caller's role may not do this",
    404: "Not found, or outside the caller's part of the org tree (existence is not disclosed)",
    409: "Conflicts with the current state",
    413: "The body is larger than the documented limit",
    415: "The body's media type is not one the operation reads (JSON; a roster: text/csv)",
    422: "Invalid input: the field and rule are named; the value is never echoed",
    500: "An unexpected error (problem+json; the connection stays usable)",
    503: "A dependency is unavailable: retry after `Retry-After` seconds (safe with the same "
    "Idempotency-Key)",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "model": Problem, "content": {MEDIA_TYPE: {}}}
    for status, text in _WHEN.items()
}


def problem(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """In the caller's language (`Accept-Language`; Chinese unless English is preferred)."""
    lang = language.preferred(request.headers.get("accept-language"))
    rule = extensions.get("rule")
    english = extensions.pop("detail_en", None)  # a refusal written in Chinese, in English
    if lang == "en" and isinstance(english, str):
        detail = english
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": language.title(code, title, lang),
        "status": status,
        "detail": language.detail(detail, code, rule if isinstance(rule, str) else None, lang),
        "instance": request.url.path,
        **extensions,
    }
    headers = {**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """An error no handler took: 503 with Retry-After when a dependency is out (the database
    down or its pool exhausted, the broker away), else 500. Either way problem+json, and the
    connection stays usable."""
    if is_outage(exc):
        log.warning("dependency unavailable", extra={"error": type(exc).__name__})
        return problem(
            request,
            503,
            "service-unavailable",
            "Service temporarily unavailable",
            "数据库或消息服务暂时不可用，请稍后重试；带同一 Idempotency-Key 重试是安全的 "
            "(a dependency is unavailable; retrying with the same Idempotency-Key is safe)",
            headers={"Retry-After": str(RETRY_AFTER_S)},
            retry_after_s=RETRY_AFTER_S,
        )
    log.exception("unhandled error", extra={"error": type(exc).__name__})
    return problem(request, 500, "internal", "Internal error", "the request failed; see the trace")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.title, exc.detail, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language.preferred(request.headers.get("accept-language"))
        errors = [
            {
                "field": ".".join(
                    str(p) for p in e["loc"] if p not in ("body", "query", "path", "header")
                )
                or "(root)",
                "message": language.validation_message(e, lang),
            }
            for e in exc.errors()
        ]
        return problem(
            request,
            422,
            "invalid-input",
            "The request is not valid",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            field=errors[0]["field"] if errors else "(root)",
            rule="input.invalid",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            request, exc.status_code, f"http-{exc.status_code}", str(exc.detail), str(exc.detail)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected(request, exc)


__all__ = [
    "PROBLEM_RESPONSES",
    "Problem",
    "install_problem_handlers",
    "problem",
    "unexpected",
    "validation_errors",
]
