"""Initial evidence schema: targets, cases, captures, letters, artefacts, journal.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime
from evidence.triggers import create_statements, drop_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
# The tables this revision protects, fixed here: later revisions protect the tables they add themselves
# (evidence.models.APPEND_ONLY_TABLES grew later).
APPEND_ONLY = ("journal_entries", "captures", "artefacts", "letters")


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("counter", sa.String(200), nullable=True),
        sa.Column("prefecture", sa.String(200), nullable=True),
        sa.Column("procedure", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("url", "counter", name="uq_targets_url_counter"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("label", name="uq_cases_label"),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("url_requested", sa.String(2000), nullable=False),
        sa.Column("final_url", sa.String(2000), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("evidence_text", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("assisted", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("target_id", "attempt_no", name="uq_captures_attempt"),
    )
    op.create_index("ix_captures_target_id", "captures", ["target_id"])
    op.create_index("ix_captures_started_at", "captures", ["started_at"])
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("letter_date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(500), nullable=True),
        sa.Column("tracking", sa.String(100), nullable=True),
        sa.Column("sender", sa.String(500), nullable=True),
        sa.Column("recipient", sa.String(500), nullable=True),
        sa.Column("answers_id", sa.Integer(), sa.ForeignKey("letters.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_letters_case_id", "letters", ["case_id"])
    op.create_table(
        "artefacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("capture_id", sa.Integer(), sa.ForeignKey("captures.id"), nullable=True),
        sa.Column("letter_id", sa.Integer(), sa.ForeignKey("letters.id"), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_path", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_artefacts_capture_id", "artefacts", ["capture_id"])
    op.create_index("ix_artefacts_letter_id", "artefacts", ["letter_id"])
    op.create_index("ix_artefacts_sha256", "artefacts", ["sha256"])
    op.create_table(
        "journal_entries",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("entry_hash", name="uq_journal_entries_entry_hash"),
    )
    op.create_index("ix_journal_entries_kind", "journal_entries", ["kind"])
    for statement in create_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect, APPEND_ONLY):
        op.execute(statement)
    for table in ("journal_entries", "artefacts", "letters", "captures", "cases", "targets"):
        op.drop_table(table)
