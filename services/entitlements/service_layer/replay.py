"""Rebuild entitlements' read tables from its event store, then swap them in.

The rebuild fills fresh tables (`<name>_r<build>`) from every stored event in position order
while the service keeps running, a page at a time: the page's writes folded in memory, copied
into staging tables and merged in one statement a table (`adapters/bulk.py`). Then, in one
transaction holding a SHARE lock on `events` (writers wait, readers do not), it applies whatever
was committed meanwhile — including events with a lower position that committed late, found by
comparing positions, not by a high-water mark — drops the live tables and renames the fresh
ones. Readers see the old tables or the new, never a mix.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.entitlements.adapters.bulk import Staging, staging_tables
from services.entitlements.adapters.projections import (
    LIVE,
    FoldedPage,
    ProjectionTables,
    fold,
    projection_tables,
    writes,
)
from shared.db.errors import is_transient
from shared.db.sql import driver, run_writes
from shared.events import load_event
from shared.eventstore.store import StoredEvent, stored_event
from shared.eventstore.tables import EventStoreTables

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RebuildReport:
    events: int
    caught_up: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    *,
    batch: int = 5000,
    progress: Progress | None = None,
) -> RebuildReport:
    """The staging tables go whatever happens; the fresh tables become the live ones, or stay
    beside them (named by the build) for an operator to look into when a rebuild fails."""
    started = time.perf_counter()
    suffix = f"_r{uuid.uuid4().hex[:8]}"
    metadata = MetaData()
    fresh = projection_tables(metadata, suffix)
    staging = staging_tables(metadata, fresh, suffix)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        applied = await _fill(sessions, tables, staging, batch, progress)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: metadata.drop_all(sync, tables=list(staging.all)))
    caught_up = await _swap_with_retries(sessions, tables, fresh, applied, suffix)
    if progress:
        progress(applied.count + caught_up, applied.count + caught_up)
    return RebuildReport(applied.count + caught_up, caught_up, time.perf_counter() - started)


async def _fill(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    staging: Staging,
    batch: int,
    progress: Progress | None,
) -> Applied:
    async with sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(tables.events)) or 0)
    applied = Applied()
    pages: asyncio.Queue[Page | Exception | None] = asyncio.Queue(maxsize=2)
    reader = asyncio.create_task(_read(sessions, tables, staging.fresh, batch, pages))
    try:
        while (page := await pages.get()) is not None:
            if isinstance(page, Exception):
                raise page
            async with sessions() as session:
                await staging.write(await driver(session), page.folded)
            applied.add(page.positions)
            if progress:
                progress(applied.count, total)
    finally:
        reader.cancel()
    return applied


@dataclass
class Applied:
    """The positions a rebuild has applied, as the highest one and the gaps below it: a
    position skipped when read may belong to a transaction that committed late (or to one
    rolled back, which never shows). A few ranges, where a set of every position read held
    millions and the swap read every position again to compare."""

    last: int = 0
    count: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def add(self, positions: list[int]) -> None:
        for position in positions:
            if position > self.last + 1:
                self.gaps.append((self.last + 1, position - 1))
            self.last = max(self.last, position)
        self.count += len(positions)

    def missing(self, position: Any, per_query: int = 500) -> list[Any]:
        """Where what was not applied lies, a condition per query: above the last, and in the
        gaps below it, `per_query` gaps at a time."""
        gaps = [self.gaps[i : i + per_query] for i in range(0, len(self.gaps), per_query)]
        return [
            position > self.last,
            *(or_(*(position.between(a, b) for a, b in chunk)) for chunk in gaps),
        ]


@dataclass(frozen=True)
class Page:
    positions: list[int]
    folded: FoldedPage


async def _read(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    fresh: ProjectionTables,
    batch: int,
    pages: asyncio.Queue[Page | Exception | None],
) -> None:
    """Reads and plans the next pages while the last one is written: PostgreSQL works on one
    core while Python parses on the other, instead of each waiting for the other. A failure
    is handed to the writer, which raises it."""
    query = (
        f'SELECT position, event_type, data::text FROM "{tables.events.name}" '
        "WHERE position > $1 ORDER BY position LIMIT $2"
    )
    after = 0
    try:
        while True:
            async with sessions() as session:
                rows = await (await driver(session)).fetch(query, after, batch)
            if not rows:
                await pages.put(None)
                return
            planned = [w for _, t, data in rows for w in writes(load_event(t, data), fresh)]
            await pages.put(Page([row[0] for row in rows], fold(planned, fresh)))
            after = rows[-1][0]
    except Exception as exc:
        await pages.put(exc)


async def _swap_with_retries(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    fresh: ProjectionTables,
    applied: Applied,
    suffix: str,
    attempts: int = 5,
) -> int:
    """A writer that touched a live table and then waits on `events` deadlocks with the swap;
    PostgreSQL aborts one of the two. Whichever it was, it tries again."""
    for attempt in range(1, attempts + 1):
        try:
            return await _catch_up_and_swap(sessions, tables, fresh, applied, suffix)
        except DBAPIError as exc:
            if not is_transient(exc) or attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def _catch_up_and_swap(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    fresh: ProjectionTables,
    applied: Applied,
    suffix: str,
) -> int:
    events = tables.events
    async with sessions() as session, session.begin():
        await session.execute(text(f"LOCK TABLE {events.name} IN SHARE MODE"))
        late: list[StoredEvent] = []
        for where in applied.missing(events.c.position):
            rows = await session.execute(select(events).where(where))
            late.extend(stored_event(r) for r in rows.mappings())
        late.sort(key=lambda s: s.position)
        await run_writes(session, [w for s in late for w in writes(s.event, fresh)])
        for live, new in zip(LIVE.all, fresh.all, strict=True):
            await session.execute(text(f"DROP TABLE IF EXISTS {live.name}"))
            await session.execute(text(f"ALTER TABLE {new.name} RENAME TO {live.name}"))
            await session.execute(
                text(
                    f"ALTER TABLE {live.name} RENAME CONSTRAINT {new.name}_pkey TO {live.name}_pkey"
                )
            )
            for index in new.indexes:
                assert index.name is not None  # every index of the read tables is named
                await session.execute(
                    text(f"ALTER INDEX {index.name} RENAME TO {index.name.removesuffix(suffix)}")
                )
    return len(late)
