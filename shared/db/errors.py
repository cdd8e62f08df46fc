"""Database errors that a retry cures."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# deadlock detected, serialization failure, lock not available
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}


def sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and sqlstate(exc) in TRANSIENT_SQLSTATES
