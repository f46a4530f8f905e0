"""Accompanied attempts: a planned attempt is either unattended or accompanied by a person who solves the
captcha, and an accompanied one records when its reminder was sent.

Plain ADD COLUMNs (planned_attempts is not an append-only table, but a batch rebuild is not needed either).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "planned_attempts",
        sa.Column("mode", sa.String(20), nullable=False, server_default=sa.text("'unattended'")),
    )
    op.add_column("planned_attempts", sa.Column("reminded_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("planned_attempts", "reminded_at")
    op.drop_column("planned_attempts", "mode")
