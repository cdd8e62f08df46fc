"""Recuperation plans, and the unions' finances for the finance view.

Revision ID: 0003
"""

from alembic import op

from services.disbursements.adapters.tables import recuperation_plans, union_finances

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recuperation_plans.create(op.get_bind())
    union_finances.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("union_finances")
    op.drop_table("recuperation_plans")
