"""Re-sent outbox rows in their own lane, so new work goes out first.

Revision ID: 0009
"""

from shared.db.event_store_migration import create_resend_lane, drop_resend_lane

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_resend_lane()


def downgrade() -> None:
    drop_resend_lane()
