"""Domain errors and how they are told: one hierarchy, mapped to RFC 9457 problem+json in one place.

Messages never echo input values: a rejected request may carry an ID number or an income,
and neither may reach a log line, a trace or an error body.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class DomainError(Exception):
    """A rule said no. `status` is the HTTP status; `code` a stable slug for `type`."""

    status: int = 422
    code: str = "rule-violated"
    title: str = "A business rule was violated"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class ConcurrencyConflict(Conflict):
    """Someone else changed the stream first: reload and try again."""

    code = "concurrency-conflict"
    title = "The record was changed by someone else"


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "The request is not valid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Field and message of each error, without the offending input value."""
    return [
        {
            "field": ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
            or "(root)",
            "message": err["msg"],
        }
        for err in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def describe_validation_error(exc: ValidationError) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in validation_errors(exc))
