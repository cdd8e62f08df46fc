"""Every entry sent to payroll and payroll's answer: paid or failed, for the month-end
reconciliation. Entries sent before this table existed are filled in from the event store.

Revision ID: 0008
"""

from alembic import op

from services.disbursements.adapters.tables import payroll_entries

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    payroll_entries.create(op.get_bind())
    op.execute(
        """
        INSERT INTO payroll_entries (entry_id, disbursement_id, member_id, base_union, benefit,
            kind, amount_fen, business_date, pay_period, sent_at)
        SELECT e.data->>'entry_id', e.data->>'disbursement_id', e.data->>'member_id',
            e.data->>'base_union', e.data->>'benefit',
            CASE WHEN e.event_type = 'jinhui.payroll.BenefitReversed' THEN 'reversed'
                 ELSE 'issued' END,
            (e.data->>'amount_fen')::bigint, (e.data->>'business_date')::date,
            e.data->>'pay_period', e.recorded_at
        FROM events e
        WHERE e.event_type IN ('jinhui.payroll.BenefitIssued', 'jinhui.payroll.BenefitReversed')
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table("payroll_entries")
