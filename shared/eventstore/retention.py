"""Retention: published outbox rows and processed-message records are deleted after a window.

The window (`RETENTION_DAYS`, 45 by default) is longer than any topic keeps a message (14 days,
dead letters 30): a message can only be redelivered, or replayed from its dead-letter topic,
while a topic still holds it, so its processed-message record outlives every chance of seeing it
again and de-duplication still holds. Published outbox rows stay as long, so a consumer that was
away can be given them again. Unpublished rows are never deleted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.sql import rows_affected
from shared.eventstore.tables import EventStoreTables

log = logging.getLogger(__name__)


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    older_than: timedelta,
    batch: int = 10_000,
) -> dict[str, int]:
    """Delete what is past the window, a batch per transaction; returns how many rows."""
    statements = {
        tables.outbox.name: (
            f'DELETE FROM "{tables.outbox.name}" WHERE id IN (SELECT id FROM '
            f'"{tables.outbox.name}" WHERE published_at < now() - CAST(:age AS interval) '
            "LIMIT :batch)"
        ),
        tables.processed_messages.name: (
            f'DELETE FROM "{tables.processed_messages.name}" WHERE (consumer, message_id) IN '
            f'(SELECT consumer, message_id FROM "{tables.processed_messages.name}" '
            "WHERE processed_at < now() - CAST(:age AS interval) LIMIT :batch)"
        ),
    }
    deleted = dict.fromkeys(statements, 0)
    for table, statement in statements.items():
        while True:
            async with sessions() as session, session.begin():
                result = await session.execute(text(statement), {"age": older_than, "batch": batch})
            count = rows_affected(result)
            deleted[table] += count
            if count < batch:
                break
    return deleted


async def keep_pruning(
    sessions: async_sessionmaker[AsyncSession],
    tables: EventStoreTables,
    older_than: timedelta,
    interval_s: float,
) -> None:
    while True:
        deleted = await prune(sessions, tables, older_than)
        if any(deleted.values()):
            log.info("retention pruned old rows", extra={"deleted": deleted})
        await asyncio.sleep(interval_s)
