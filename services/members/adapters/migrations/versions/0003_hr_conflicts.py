"""HR conflicts an operator resolves.

Revision ID: 0003
"""

from alembic import op

from services.members.adapters.tables import hr_conflicts

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    hr_conflicts.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("hr_conflicts")
