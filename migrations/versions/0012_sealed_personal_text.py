"""Sealed personal text (crypto-shredding, see evidence/sealing.py).

On PostgreSQL, the columns that may hold sealed text become TEXT: a sealed value is longer than the text it
seals. A type change in place, not a rebuild, so the append-only triggers stay. SQLite does not enforce VARCHAR
lengths: nothing changes there. Rows written before stay as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
# (table, column, its type before)
SEALED_COLUMNS = (
    ("cases", "label", sa.String(80)),
    ("letters", "subject", sa.String(500)),
    ("letters", "sender", sa.String(500)),
    ("letters", "recipient", sa.String(500)),
    ("artefacts", "filename", sa.String(255)),
    ("case_events", "outcome", sa.String(500)),
    ("applicant_pieces", "label", sa.String(200)),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, before in SEALED_COLUMNS:
            op.alter_column(table, column, type_=sa.Text(), existing_type=before)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, before in SEALED_COLUMNS:
            op.alter_column(table, column, type_=before, existing_type=sa.Text())
