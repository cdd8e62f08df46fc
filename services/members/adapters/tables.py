"""The members database: the event store, and the registry read model kept in step with it."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, MetaData, String, Table, text

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)

members = Table(
    "members",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("base_union", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("join_date", Date, nullable=False),
    Column("employment_form", String(40), nullable=False),
    Column("migrant_worker", Boolean, nullable=False),
    Column("ethnic_minority", Boolean, nullable=False),
    Column("martyr_family", Boolean, nullable=False),
    Column("status", String(20), nullable=False, server_default=text("'active'")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_members_base_union", "base_union", postgresql_ops={"base_union": "text_pattern_ops"}),
)
