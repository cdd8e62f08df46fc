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
