"""The disbursements database: its event store."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)
