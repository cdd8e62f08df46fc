"""Ledger balances in fen are 64-bit.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("used_fen", "reserved_fen"):
        op.alter_column("ledger_balances", column, type_=sa.BigInteger())


def downgrade() -> None:
    for column in ("used_fen", "reserved_fen"):
        op.alter_column("ledger_balances", column, type_=sa.Integer())
