"""Read tables: member profiles, their children, ledger balances.

Filled as events are saved; for events saved before this revision run
`jinhui replay entitlements` once.

Revision ID: 0003
"""

from alembic import op
from sqlalchemy import MetaData

from services.entitlements.adapters.projections import projection_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in projection_tables(MetaData()).all:
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(projection_tables(MetaData()).all):
        op.drop_table(table.name)
