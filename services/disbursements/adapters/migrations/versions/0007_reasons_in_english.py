"""A refusal's reason in English beside the Chinese one.

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE disbursements ADD COLUMN IF NOT EXISTS reason_en VARCHAR(500)")


def downgrade() -> None:
    op.drop_column("disbursements", "reason_en")
