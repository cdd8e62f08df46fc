"""Tables every service's database has: its events, its outbox, and the messages it has consumed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class EventStoreTables:
    events: Table
    outbox: Table
    processed_messages: Table


def event_store_tables(metadata: MetaData) -> EventStoreTables:
    events = Table(
        "events",
        metadata,
        Column("position", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("stream_id", String(200), nullable=False),
        Column("version", Integer, nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("data", JSONB, nullable=False),
        Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=True),
        Column("headers", JSONB, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("trace_context", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # Sent before and waiting to be sent again (`shared.eventstore.relay`): new work goes
        # ahead of it, except behind a re-send of its own key.
        Column("resend", Boolean, nullable=False, server_default=text("false")),
        Index(
            "ix_outbox_new",
            "id",
            postgresql_where=text("published_at IS NULL AND NOT resend"),
        ),
        Index("ix_outbox_resend", "id", postgresql_where=text("published_at IS NULL AND resend")),
        Index(
            "ix_outbox_resend_keys",
            "topic",
            "key",
            postgresql_where=text("published_at IS NULL AND resend"),
        ),
    )
    processed = Table(
        "processed_messages",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("message_id", String(200), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column(
            "processed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
        ),
    )
    return EventStoreTables(events=events, outbox=outbox, processed_messages=processed)
