"""The disbursements database: its event store, the disbursements read model, idempotency keys,
what it knows of members and union voucher settings, and batches."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.eventstore.tables import event_store_tables

metadata = MetaData()
event_tables = event_store_tables(metadata)

disbursements = Table(
    "disbursements",
    metadata,
    Column("disbursement_id", String(120), primary_key=True),
    Column("member_id", String(40), nullable=False),
    Column("base_union", String(200), nullable=False),
    Column("benefit", String(40), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("year", Integer),
    Column("reason", String(500)),
    Column("reason_en", String(500)),
    Column("rule", String(60)),
    Column("clause", String(60)),
    Column("policy_version", String(60)),
    Column("remaining_fen", BigInteger),
    Column("remaining_count", Integer),
    Column("details", JSONB, nullable=False),
    Column("batch_id", String(80)),
    Column("requested_by", String(200), nullable=False),
    Column("expires_on", Date),
    Column("redeemed_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_disbursements_batch", "batch_id", "status"),
    Index("ix_disbursements_union", "base_union", "business_date"),
    Index("ix_disbursements_voucher_expiry", "status", "expires_on"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("disbursement_id", String(120), nullable=False),
)

# What disbursements knows of members, from members.events.v1.
member_directory = Table(
    "member_directory",
    metadata,
    Column("member_id", String(40), primary_key=True),
    Column("base_union", String(200), nullable=False),
    Column("birth_month", SmallInteger, nullable=False),
    Column("employee_number", String(64)),
    Column("employee_number_source", String(200)),
    Column("name", String(100)),
    Column("status", String(20), nullable=False),
    Index(
        "ix_member_directory_union", "base_union", postgresql_ops={"base_union": "text_pattern_ops"}
    ),
)

# Voucher expiry set by unions (from entitlements' UnionStandardSet).
voucher_settings = Table(
    "voucher_settings",
    metadata,
    Column("union_path", String(200), primary_key=True),
    Column("effective_from", Date, primary_key=True),
    Column("expiry_days", Integer, nullable=False),
)

batches = Table(
    "disbursement_batches",
    metadata,
    Column("batch_id", String(80), primary_key=True),
    Column("caller", String(200), nullable=False),
    Column("batch_key", String(200), nullable=False),
    Column("union_path", String(200), nullable=False),
    Column("benefit", String(40), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("selection", JSONB, nullable=False),
    Column("status", String(20), nullable=False),  # creating | submitted
    Column("lines", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("uq_batches_key", "caller", "batch_key", unique=True),
)

# A batch's lines and fen by status, kept by a trigger on `disbursements` in the transaction
# that changes a line (migration 0010): the report sums a few rows instead of counting a
# million. Each database connection keeps rows of its own (`shard` is its backend pid), so
# concurrent transactions never wait on one another's counts.
batch_counts = Table(
    "disbursement_batch_counts",
    metadata,
    Column("batch_id", String(80), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("lines", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
)

# A base union's annual recuperation plan (clause 2): who goes, when, paid from the employer's
# welfare fund with an optional union subsidy per person.
recuperation_plans = Table(
    "recuperation_plans",
    metadata,
    Column("union_path", String(200), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("window_from", Date, nullable=False),
    Column("window_to", Date, nullable=False),
    Column("participants", ARRAY(String(40)), nullable=False),
    Column("union_subsidy_per_person_fen", BigInteger, nullable=False),
    Column("employer_fund_per_person_fen", BigInteger, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Unions' dues income and budget share (from entitlements' UnionFinancesRecorded), for the
# finance view's union-level rules.
union_finances = Table(
    "union_finances",
    metadata,
    Column("union_path", String(200), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("dues_income_fen", BigInteger, nullable=False),
    Column("culture_sports_limit_fen", BigInteger),
    Column("consumption_share_fen", BigInteger, nullable=False),
)

# Every entry sent to payroll (an issue, a re-issue, a reversal) and payroll's answer to it:
# the month-end reconciliation and the list of entries payroll has not answered.
payroll_entries = Table(
    "payroll_entries",
    metadata,
    Column("entry_id", String(200), primary_key=True),
    Column("disbursement_id", String(120), nullable=False),
    Column("member_id", String(40), nullable=False),
    Column("base_union", String(200), nullable=False),
    Column("benefit", String(40), nullable=False),
    Column("kind", String(10), nullable=False),  # issued | reissued | reversed
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("pay_period", String(7), nullable=False),
    Column("answer", String(10)),  # paid | failed; none while payroll has not answered
    Column("paid_pay_period", String(7)),
    Column("paid_on", Date),
    Column("payroll_reference", String(100)),
    Column("failure_code", String(40)),
    Column("failure_text", String(300)),
    Column("failed_on", Date),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("answered_at", DateTime(timezone=True)),
    Index("ix_payroll_entries_period", "pay_period", "base_union"),
    Index("ix_payroll_entries_disbursement", "disbursement_id"),
    Index(
        "ix_payroll_entries_unanswered",
        "sent_at",
        postgresql_where=text("answer IS NULL AND kind <> 'reversed'"),
    ),
)
