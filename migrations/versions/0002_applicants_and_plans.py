"""Applicants (identity for letters) and planned attempts (the watch plan).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applicants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_place", sa.String(200), nullable=True),
        sa.Column("nationality", sa.String(100), nullable=True),
        sa.Column("postal_address", sa.Text(), nullable=True),
        sa.Column("foreigner_number", sa.String(20), nullable=True),
        sa.Column("permit_expiry", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("case_id", name="uq_applicants_case_id"),
    )
    op.create_table(
        "planned_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("window", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("capture_id", sa.Integer(), sa.ForeignKey("captures.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("target_id", "planned_at", name="uq_planned_attempts_time"),
    )
    op.create_index("ix_planned_attempts_target_id", "planned_attempts", ["target_id"])
    op.create_index("ix_planned_attempts_planned_at", "planned_attempts", ["planned_at"])


def downgrade() -> None:
    op.drop_table("planned_attempts")
    op.drop_table("applicants")
