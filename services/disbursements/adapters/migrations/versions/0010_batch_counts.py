"""A batch's lines and fen by status, kept by the transactions that change a line, so a batch
report reads a few rows at any size. The trigger is created before the counts of the lines
already there are filled in, in one transaction that holds writers off `disbursements`.

Revision ID: 0010
"""

from alembic import op

from services.disbursements.adapters.tables import batch_counts

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_KEEP = """
CREATE FUNCTION disbursement_batch_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.batch_id, OLD.status, OLD.amount_fen)
            IS NOT DISTINCT FROM (NEW.batch_id, NEW.status, NEW.amount_fen) THEN
        RETURN NULL;
    END IF;
    INSERT INTO disbursement_batch_counts AS c (batch_id, status, shard, lines, amount_fen)
    SELECT d.batch_id, d.status, pg_backend_pid(), d.lines, d.amount_fen
    FROM (VALUES (OLD.batch_id, OLD.status, -1, -OLD.amount_fen),
                 (NEW.batch_id, NEW.status, 1, NEW.amount_fen))
        AS d (batch_id, status, lines, amount_fen)
    WHERE d.batch_id IS NOT NULL
    ON CONFLICT (batch_id, status, shard) DO UPDATE
    SET lines = c.lines + excluded.lines, amount_fen = c.amount_fen + excluded.amount_fen;
    RETURN NULL;
END
$$
"""

_TRIGGER = """
CREATE TRIGGER disbursements_batch_counts
AFTER INSERT OR DELETE OR UPDATE OF batch_id, status, amount_fen ON disbursements
FOR EACH ROW EXECUTE FUNCTION disbursement_batch_counts_keep()
"""

_FILL = """
INSERT INTO disbursement_batch_counts (batch_id, status, shard, lines, amount_fen)
SELECT batch_id, status, 0, count(*), sum(amount_fen)
FROM disbursements WHERE batch_id IS NOT NULL
GROUP BY batch_id, status
"""


def upgrade() -> None:
    batch_counts.create(op.get_bind())
    op.execute(_KEEP)
    op.execute(_TRIGGER)
    op.execute(_FILL)


def downgrade() -> None:
    op.execute("DROP TRIGGER disbursements_batch_counts ON disbursements")
    op.execute("DROP FUNCTION disbursement_batch_counts_keep()")
    op.drop_table("disbursement_batch_counts")
