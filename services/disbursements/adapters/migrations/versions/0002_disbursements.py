"""Disbursements, idempotency keys, member directory, voucher settings, batches.

Revision ID: 0002
"""

from alembic import op

from services.disbursements.adapters.tables import (
    batches,
    disbursements,
    idempotency_keys,
    member_directory,
    voucher_settings,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
TABLES = (disbursements, idempotency_keys, member_directory, voucher_settings, batches)


def upgrade() -> None:
    for table in TABLES:
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table.name)
