"""The directory keeps each member's name, so a finance officer's batch list says who each line
is for (names stay out of logs, traces and dead letters, as everywhere).

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE member_directory ADD COLUMN IF NOT EXISTS name VARCHAR(100)")


def downgrade() -> None:
    op.drop_column("member_directory", "name")
