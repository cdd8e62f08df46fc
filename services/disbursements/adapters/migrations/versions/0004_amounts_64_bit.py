"""Every amount in fen is 64-bit; a rejection keeps the code of the rule that refused it; the
directory knows which HR system issued a member's employee number.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WIDENED = {
    "disbursements": ("amount_fen", "remaining_fen"),
    "disbursement_batches": ("amount_fen",),
    "recuperation_plans": ("union_subsidy_per_person_fen", "employer_fund_per_person_fen"),
    "union_finances": ("dues_income_fen", "culture_sports_limit_fen", "consumption_share_fen"),
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger())
    op.execute("ALTER TABLE disbursements ADD COLUMN IF NOT EXISTS rule VARCHAR(60)")
    op.execute(
        "ALTER TABLE member_directory ADD COLUMN IF NOT EXISTS employee_number_source VARCHAR(200)"
    )


def downgrade() -> None:
    op.drop_column("member_directory", "employee_number_source")
    op.drop_column("disbursements", "rule")
    for table, columns in WIDENED.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Integer())
