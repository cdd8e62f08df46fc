"""The members database: the event store, the registry read model kept in step with it, the
identity vault, the org tree, and the HR inbound bookkeeping."""

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
    SmallInteger,
    String,
    Table,
    text,
)

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)

members = Table(
    "members",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("base_union", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("sex", String(10)),
    Column("birth_date", Date, nullable=False),
    # MMDD of the birth date: the birthday scheduler's index.
    Column("birthday_md", SmallInteger, nullable=False, server_default=text("0")),
    Column("join_date", Date, nullable=False),
    Column("employment_form", String(40), nullable=False),
    Column("migrant_worker", Boolean, nullable=False),
    Column("ethnic_minority", Boolean, nullable=False),
    Column("martyr_family", Boolean, nullable=False),
    Column("spouse_member_id", String(40)),
    Column("employee_number", String(64)),
    Column("status", String(20), nullable=False, server_default=text("'active'")),
    Column("ended_reason", String(20)),
    Column("ended_on", Date),
    Column("last_birthday_year", Integer),
    Column("children", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_members_base_union", "base_union", postgresql_ops={"base_union": "text_pattern_ops"}),
    Index("ix_members_birthday", "status", "birthday_md"),
)

# ID numbers and phones: a keyed hash finds duplicates, an encrypted copy serves the roles that
# need the clear value, the masked form serves everyone else. Never in events or logs.
member_identities = Table(
    "member_identities",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("id_encrypted", LargeBinary, nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("phone_encrypted", LargeBinary),
    Column("phone_masked", String(20)),
)

member_children = Table(
    "member_children",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("child_id", String(40), primary_key=True),
    Column("birth_date", Date, nullable=False),
    Column("birth_order", SmallInteger, nullable=False),
    Column("within_policy", Boolean, nullable=False),
    Column("other_parent_member_id", String(40)),
)

org_units = Table(
    "org_units",
    metadata,
    Column("path", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Which member an HR system's employee number stands for (`source` is the CloudEvent source).
hr_employees = Table(
    "hr_employees",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("employee_number", String(64), primary_key=True),
    Column("member_id", String(40), nullable=False),
)

# HR event ids already applied: an HR system that re-sends with a new CloudEvent id is still
# applied once.
hr_events_seen = Table(
    "hr_events_seen",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("hr_event_id", String(100), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# HR events about an employee not known yet (HR sends out of order). Applied when the hire
# arrives; the payload is encrypted because it may carry an ID number.
hr_parked = Table(
    "hr_parked",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("employee_number", String(64), nullable=False),
    Column("hr_event_id", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("payload_encrypted", LargeBinary, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    # Why it could not be applied when the hire arrived (a readable rule, never a value).
    Column("last_error", String(500)),
    Index("ix_hr_parked_employee", "source", "employee_number"),
)

# HR events an operator must look at: the same ID number under a second employee number of the
# same HR source while the first is active (never linked silently), and parked events whose hire
# never came. No payload: it may hold ID numbers; the HR system can re-send once resolved.
hr_conflicts = Table(
    "hr_conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("employee_number", String(64), nullable=False),
    Column("hr_event_id", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("kind", String(40), nullable=False),  # id-number-in-use | never-hired
    Column("reason", String(500), nullable=False),
    Column("base_union", String(200)),
    Column("existing_member_id", String(40)),
    Column("existing_employee_number", String(64)),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(200)),
    Column("resolution", String(500)),
    Index("uq_hr_conflicts_event", "source", "hr_event_id", unique=True),
)

scheduler_state = Table(
    "scheduler_state",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("last_run_on", Date, nullable=False),
)
