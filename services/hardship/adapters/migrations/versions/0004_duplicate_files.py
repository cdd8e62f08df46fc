"""Duplicate household files across unions, for a province-level reviewer.

Revision ID: 0004
"""

from alembic import op

from services.hardship.adapters.tables import duplicate_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    duplicate_files.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("duplicate_files")
