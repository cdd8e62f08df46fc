"""Recuperation plans.

Revision ID: 0003
"""

from alembic import op

from services.disbursements.adapters.tables import recuperation_plans

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recuperation_plans.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("recuperation_plans")
