"""Event store and the member registry.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.db.event_store_migration import create_event_store_tables, drop_event_store_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_store_tables()
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(40), primary_key=True),
        sa.Column("base_union", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("join_date", sa.Date, nullable=False),
        sa.Column("employment_form", sa.String(40), nullable=False),
        sa.Column("migrant_worker", sa.Boolean, nullable=False),
        sa.Column("ethnic_minority", sa.Boolean, nullable=False),
        sa.Column("martyr_family", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'active'")),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_index(
        "ix_members_base_union",
        "members",
        ["base_union"],
        postgresql_ops={"base_union": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("members")
    drop_event_store_tables()
