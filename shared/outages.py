"""What counts as an outage, in one place: a dependency that is down, starting, stopping or
full, which a wait and a retry will cure — as opposed to a bug or a bad message, which it won't.

Consumers retry an outage without counting it against a message's attempts; HTTP answers it
with 503 and Retry-After; background tasks wait it out and say so in readiness.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, UnknownError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Connection exceptions (class 08), the server shutting down or starting (57P01-57P03), too
# many connections (53300), insufficient resources (53xxx).
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53")
_OUTAGE_TYPES = (
    PoolTimeout,
    OperationalError,
    InterfaceError,
    KafkaConnectionError,
    # A produce that timed out, and the broker's "unknown server error" (seen while a broker
    # that came back empty recreates its topics): the broker's trouble, cured by waiting.
    KafkaTimeoutError,
    UnknownError,
    ConnectionError,
    TimeoutError,
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


def is_outage(exc: BaseException, _depth: int = 0) -> bool:
    if _direct(exc):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and _depth < 4 and is_outage(cause, _depth + 1)


def _direct(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGE_TYPES):
        return True
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False))
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or _outage_state(exc.orig)
    return _outage_state(exc)


def _outage_state(exc: object) -> bool:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return isinstance(state, str) and state.startswith(_OUTAGE_SQLSTATES)
