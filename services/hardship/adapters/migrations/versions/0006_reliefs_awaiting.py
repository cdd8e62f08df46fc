"""Reliefs waiting for a reviewer, counted on each file's index row: the reviewers' queue.

Files indexed before this revision are counted from their events once.

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0002 creates `cases` from its current definition: on a fresh database the column is there
    op.execute(
        "ALTER TABLE cases ADD COLUMN IF NOT EXISTS reliefs_awaiting integer NOT NULL DEFAULT 0"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cases_awaiting ON cases "
        "(union_path text_pattern_ops) WHERE reliefs_awaiting > 0"
    )
    op.execute(
        """
        UPDATE cases SET reliefs_awaiting = waiting.n
        FROM (
            SELECT asked.stream_id, count(*) AS n
            FROM events AS asked
            WHERE asked.event_type = 'jinhui.hardship.ReliefRequested'
              AND NOT EXISTS (
                SELECT 1 FROM events AS approved
                WHERE approved.stream_id = asked.stream_id
                  AND approved.event_type = 'jinhui.hardship.ReliefApproved'
                  AND approved.data ->> 'relief_id' = asked.data ->> 'relief_id'
              )
            GROUP BY asked.stream_id
        ) AS waiting
        WHERE waiting.stream_id = 'case-' || cases.case_id
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_cases_awaiting")
    op.execute("ALTER TABLE cases DROP COLUMN IF EXISTS reliefs_awaiting")
