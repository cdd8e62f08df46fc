"""The early-warning watch list, and each member's base union to scope it.

Revision ID: 0005
"""

from alembic import op

from services.hardship.adapters.tables import member_unions, watch_list

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    member_unions.create(op.get_bind())
    watch_list.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("watch_list")
    op.drop_table("member_unions")
