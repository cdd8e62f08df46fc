"""Event store and the member registry.

Revision ID: 0001
"""

from alembic import op

from services.members.adapters.tables import members
from shared.db.event_store_migration import create_event_store_tables, drop_event_store_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_store_tables()
    members.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("members")
    drop_event_store_tables()
