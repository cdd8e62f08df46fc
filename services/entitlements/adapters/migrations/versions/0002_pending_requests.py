"""Requests waiting for a member fact.

Revision ID: 0002
"""

from alembic import op

from services.entitlements.adapters.tables import pending_requests

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pending_requests.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("pending_requests")
