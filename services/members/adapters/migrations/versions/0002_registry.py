"""The full registry: identity vault, children, org tree, HR inbound, birthday scheduler.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.members.adapters.tables import (
    hr_employees,
    hr_events_seen,
    hr_parked,
    member_children,
    member_identities,
    org_units,
    scheduler_state,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_TABLES = (
    member_identities,
    member_children,
    org_units,
    hr_employees,
    hr_events_seen,
    hr_parked,
    scheduler_state,
)


def upgrade() -> None:
    for column in (
        sa.Column("sex", sa.String(10)),
        sa.Column("birthday_md", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("spouse_member_id", sa.String(40)),
        sa.Column("employee_number", sa.String(64)),
        sa.Column("ended_reason", sa.String(20)),
        sa.Column("ended_on", sa.Date),
        sa.Column("last_birthday_year", sa.Integer),
        sa.Column("children", sa.Integer, nullable=False, server_default=sa.text("0")),
    ):
        op.add_column("members", column)
    op.execute(
        "UPDATE members SET birthday_md = "
        "EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date)"
    )
    op.create_index("ix_members_birthday", "members", ["status", "birthday_md"])
    bind = op.get_bind()
    for table in NEW_TABLES:
        table.create(bind)


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table.name)
    op.drop_index("ix_members_birthday", "members")
    for name in (
        "sex",
        "birthday_md",
        "spouse_member_id",
        "employee_number",
        "ended_reason",
        "ended_on",
        "last_birthday_year",
        "children",
    ):
        op.drop_column("members", name)
