"""Event store.

Revision ID: 0001
"""

from shared.db.event_store_migration import create_event_store_tables, drop_event_store_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_store_tables()


def downgrade() -> None:
    drop_event_store_tables()
