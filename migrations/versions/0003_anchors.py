"""Timestamp anchors over the journal, and the queue of tokens still to obtain.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime
from evidence.triggers import create_statements, drop_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("anchors",)


def upgrade() -> None:
    op.create_table(
        "anchors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tsa_name", sa.String(100), nullable=False),
        sa.Column("tsa_url", sa.String(2000), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("gen_time", UTCDateTime(), nullable=False),
        sa.Column("serial_number", sa.String(80), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("token_artefact_id", sa.Integer(), sa.ForeignKey("artefacts.id"), nullable=False),
        sa.Column("ca_artefact_id", sa.Integer(), sa.ForeignKey("artefacts.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_anchors_gen_time", "anchors", ["gen_time"])
    op.create_table(
        "anchor_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tsa_name", sa.String(100), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_try_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("anchor_id", sa.Integer(), sa.ForeignKey("anchors.id"), nullable=True),
    )
    op.create_index("ix_anchor_requests_status", "anchor_requests", ["status"])
    for statement in create_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)
    op.drop_table("anchor_requests")
    op.drop_table("anchors")
