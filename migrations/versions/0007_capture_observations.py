"""What an attempt read on the page besides its state (evidence/observations.py), as JSON on the capture row.

A plain ADD COLUMN: on SQLite as on PostgreSQL the table is not rebuilt, so its append-only triggers stay.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("captures", sa.Column("observations", sa.Text(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN too (SQLite ≥ 3.35): a batch rebuild of this table would break the foreign keys
    # pointing at it and drop its triggers.
    op.drop_column("captures", "observations")
