"""Re-sent outbox rows in their own lane, so new work goes out first.

Revision ID: 0007
"""

from shared.db.event_store_migration import create_resend_lane, drop_resend_lane

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_resend_lane()


def downgrade() -> None:
    drop_resend_lane()
