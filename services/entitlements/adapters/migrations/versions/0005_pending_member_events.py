"""Member facts that arrive before the member's registration are kept.

Revision ID: 0005
"""

from alembic import op

from services.entitlements.adapters.tables import pending_member_events

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pending_member_events.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("pending_member_events")
