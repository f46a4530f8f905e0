"""Drop the table APScheduler kept its jobs in: watchers now keep them in memory.

Several watchers shared that table, which APScheduler 3 does not coordinate; the planned
attempts table is the only shared truth now. The table was created by APScheduler itself, not by
a migration, so it may be absent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    """Nothing to restore: APScheduler would create the table again itself if it were used."""
