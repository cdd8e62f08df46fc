"""Household files, the case index and the audit trail.

Revision ID: 0002
"""

from alembic import op

from services.hardship.adapters.tables import audit_log, cases, households

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in (households, cases, audit_log):
        table.create(op.get_bind())


def downgrade() -> None:
    for table in (audit_log, cases, households):
        op.drop_table(table.name)
