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
    _execute(RETENTION_INDEXES)


def drop_retention_indexes() -> None:
    _execute(_drop_indexes("ix_outbox_published_at", "ix_processed_messages_at"))


# Re-sent rows wait in their own lane (`shared.eventstore.relay`); the relay reads each lane by
# its own index. A database made from the tables as they are now has all of it already.
RESEND_LANE = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS resend boolean NOT NULL DEFAULT false",
    "CREATE INDEX IF NOT EXISTS ix_outbox_new ON outbox (id) "
    "WHERE published_at IS NULL AND NOT resend",
    "CREATE INDEX IF NOT EXISTS ix_outbox_resend ON outbox (id) "
    "WHERE published_at IS NULL AND resend",
    "CREATE INDEX IF NOT EXISTS ix_outbox_resend_keys ON outbox (topic, key) "
    "WHERE published_at IS NULL AND resend",
    "DROP INDEX IF EXISTS ix_outbox_unpublished",
)


def create_resend_lane() -> None:
    _execute(RESEND_LANE)


def drop_resend_lane() -> None:
    _execute(
        (
            "CREATE INDEX IF NOT EXISTS ix_outbox_unpublished ON outbox (id) "
            "WHERE published_at IS NULL",
            *_drop_indexes("ix_outbox_resend_keys", "ix_outbox_resend", "ix_outbox_new"),
            "ALTER TABLE outbox DROP COLUMN IF EXISTS resend",
        )
    )


def _drop_indexes(*names: str) -> tuple[str, ...]:
    return tuple(f"DROP INDEX IF EXISTS {name}" for name in names)


def _execute(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)
