"""Indexes for pruning published outbox rows and old processed-message records.

Revision ID: 0003
"""

from shared.db.event_store_migration import create_retention_indexes, drop_retention_indexes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_retention_indexes()


def downgrade() -> None:
    drop_retention_indexes()
