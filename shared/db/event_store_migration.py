"""The event store's tables as an Alembic operation, shared by every service's first revision."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from shared.eventstore.tables import event_store_tables


def create_event_store_tables() -> None:
    tables = event_store_tables(MetaData())
    bind = op.get_bind()
    for table in (tables.events, tables.outbox, tables.processed_messages):
        table.create(bind)


def drop_event_store_tables() -> None:
    for name in ("processed_messages", "outbox", "events"):
        op.drop_table(name)


# Retention deletes by these; a replica's pruning never scans a whole table.
RETENTION_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_outbox_published_at ON outbox (published_at) "
    "WHERE published_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ix_processed_messages_at ON processed_messages (processed_at)",
)


def create_retention_indexes() -> None:
    for statement in RETENTION_INDEXES:
        op.execute(statement)


def drop_retention_indexes() -> None:
    op.execute("DROP INDEX IF EXISTS ix_outbox_published_at")
    op.execute("DROP INDEX IF EXISTS ix_processed_messages_at")
