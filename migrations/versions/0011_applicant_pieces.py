"""The applicant's own pièces (titre de séjour, récépissé, identity, address, situation) and their files.

A new append-only table, and on `artefacts` a plain ADD COLUMN naming the pièce a file belongs to: on SQLite as
on PostgreSQL the table is not rebuilt, so its append-only triggers stay.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime
from evidence.triggers import create_statements, drop_statements

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
APPEND_ONLY = ("applicant_pieces",)
FOREIGN_KEY = "fk_artefacts_applicant_piece_id_applicant_pieces"


def upgrade() -> None:
    op.create_table(
        "applicant_pieces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("piece_date", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_applicant_pieces_case_id", "applicant_pieces", ["case_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; Alembic would ask for a batch rebuild instead.
        op.execute(f"ALTER TABLE artefacts ADD COLUMN applicant_piece_id INTEGER CONSTRAINT {FOREIGN_KEY} "
                   "REFERENCES applicant_pieces (id)")
    else:
        op.add_column(
            "artefacts",
            sa.Column("applicant_piece_id", sa.Integer(), sa.ForeignKey("applicant_pieces.id", name=FOREIGN_KEY)),
        )
    op.create_index("ix_artefacts_applicant_piece_id", "artefacts", ["applicant_piece_id"])
    for statement in create_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)
    op.drop_index("ix_artefacts_applicant_piece_id", "artefacts")
    # A plain DROP COLUMN (SQLite ≥ 3.35), never a batch rebuild: see 0007.
    op.drop_column("artefacts", "applicant_piece_id")
    op.drop_index("ix_applicant_pieces_case_id", "applicant_pieces")
    op.drop_table("applicant_pieces")
