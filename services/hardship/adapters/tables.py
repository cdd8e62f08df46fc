"""The hardship database: its event store, the household files' personal details (encrypted),
an index of cases for caseworkers' lists, and the audit trail."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)

# Names, ID numbers, income per head, causes and documents: Fernet-encrypted JSON. The keyed
# hashes of the household's ID numbers find a second intake for the same household.
households = Table(
    "households",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("city", String(40), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("id_hashes", ARRAY(String(64)), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_households_id_hashes", "id_hashes", postgresql_using="gin"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("union_path", String(200), nullable=False),
    Column("member_ids", ARRAY(String(40)), nullable=False),
    Column("status", String(20), nullable=False),
    Column("level", String(20)),
    Column("emergency", Boolean, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("next_review_on", Date),
    Column("follow_up_on", Date),
    Column("last_changed_on", Date, nullable=False),
    Column("reliefs_granted", Integer, nullable=False, server_default=text("0")),
    # relief requested above the threshold and not yet approved: the reviewers' queue
    Column("reliefs_awaiting", Integer, nullable=False, server_default=text("0")),
    Index("ix_cases_union", "union_path", postgresql_ops={"union_path": "text_pattern_ops"}),
    Index("ix_cases_members", "member_ids", postgresql_using="gin"),
    Index("ix_cases_review", "status", "next_review_on"),
    Index(
        "ix_cases_awaiting",
        "union_path",
        postgresql_ops={"union_path": "text_pattern_ops"},
        postgresql_where=text("reliefs_awaiting > 0"),
    ),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("case_id", String(40)),
    Column("why", String(300)),
    Index("ix_audit_case", "case_id", "at"),
)

# The same household on file in two unions that cannot see each other's files: each union
# keeps its own file, and a province-level reviewer resolves the duplicate.
duplicate_files = Table(
    "duplicate_files",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("other_case_id", String(40), primary_key=True),
    Column("flagged_at", DateTime(timezone=True), nullable=False),
)

# Which base union a member belongs to (from members.events.v1): scopes the watch list.
member_unions = Table(
    "member_unions",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("base_union", String(200), nullable=False),
)

# Members not on the register whose life events suggest risk: for caseworkers to look at.
watch_list = Table(
    "watch_list",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", String(40), nullable=False),
    Column("union_path", String(200)),
    Column("rule", String(60), nullable=False),
    Column("title", String(100), nullable=False),
    Column("why", String(300), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("look_again_on", Date, nullable=False),
    Column("source_event_id", String(200), nullable=False),
    Column("rules_version", String(60), nullable=False),
    Column("cleared_on", Date),
    Column("cleared_by", String(200)),
    Column("clear_reason", String(300)),
    Index("uq_watch_list_source", "source_event_id", "rule", unique=True),
    Index("ix_watch_list_union", "union_path"),
)
