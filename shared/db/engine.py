"""Async engines over asyncpg. Nothing here connects until first used."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import to_async_url


def create_engine(
    url: str, *, pool_size: int = 10, overflow: int | None = None, pool_timeout_s: float = 1.0
) -> AsyncEngine:
    """No pre-ping: it doubles the round trips of every short transaction (measured in
    `make bench`). A connection lost to a database restart fails one unit of work; the
    pool then discards it, consumers retry, and HTTP callers get a 503 they may retry. A caller
    waits at most `pool_timeout_s` for a connection: past it, 503 with Retry-After, not a
    thirty-second hang."""
    return create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if overflow is None else overflow,
        pool_recycle=1800,
        pool_timeout=pool_timeout_s,
        connect_args={"timeout": 5},
        hide_parameters=True,  # statement parameters may be ID numbers, names, incomes
        # JSONB in and out through orjson: every event, outbox row and read passes here.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def create_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def with_database(url: str, database: str) -> str:
    """The same server, another database: how one server hosts every service's database."""
    return make_url(to_async_url(url)).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://…`) as asyncpg takes it."""
    return (
        make_url(to_async_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


async def ensure_database(url: str) -> bool:
    """Create the database a URL names if it is missing; True when it was created."""
    import asyncpg

    target = make_url(to_async_url(url))
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", target.database
        )
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{target.database}"')
        except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            return False  # another replica created it this instant
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Drop the database a URL names, its connections closed first (a demo's, a test's)."""
    import asyncpg

    target = make_url(to_async_url(url))
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await conn.close()


def transaction_memo(session: AsyncSession) -> dict[str, Any]:
    """A dict that lives as long as the session's current transaction.

    For reference data a transaction needs again and again (policy versions, a union's
    standards) when a consumer runs many messages in one transaction: read once, it is what
    that transaction decides under, as REPEATABLE READ would give.
    """
    current = session.sync_session.get_transaction()
    held = session.info.get("transaction_memo")
    if held is None or held[0] is not current:
        held = (current, {})
        session.info["transaction_memo"] = held
    return held[1]
