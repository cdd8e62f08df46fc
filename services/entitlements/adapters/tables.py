"""The entitlements database: its event store (profiles and ledgers live there as streams) and
the requests waiting for a fact about their member."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)

# A request that arrived before a fact it depends on (the member's registration, a birthday,
# a birth): decided when the fact arrives, or rejected at the deadline. Never lost.
pending_requests = Table(
    "pending_requests",
    metadata,
    Column("disbursement_id", String(100), primary_key=True),
    Column("member_id", String(40), nullable=False),
    Column("request", JSONB, nullable=False),
    Column("waiting_for", String(300), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Index("ix_pending_member", "member_id"),
    Index("ix_pending_deadline", "deadline"),
)

# A member fact (a birth, a transfer, an end) that arrived before the member's registration:
# kept, and applied in arrival order once the registration arrives. Never dropped.
pending_member_events = Table(
    "pending_member_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("member_id", String(40), nullable=False),
    Column("source_event_id", String(200), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_pending_member_events_member", "member_id"),
    Index("uq_pending_member_events_source", "source_event_id", unique=True),
)
