"""Letters' receipts and the case's other events (phone call, visit, Défenseur des droits), and the
applicant's answers the requête needs (civility, kind of application, ANEF, OQTF, refusal).

`case_events` is append-only like the other evidence tables. Columns are added with plain
ADD COLUMN (no batch rebuild), so the triggers of `artefacts` stay.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from evidence.models import UTCDateTime
from evidence.triggers import create_statements, drop_statements

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = ("case_events",)
APPLICANT_COLUMNS = (
    ("civility", sa.String(10)),
    ("application", sa.String(20)),
    ("on_anef", sa.Boolean()),
    ("oqtf", sa.Boolean()),
    ("refusal", sa.Boolean()),
    ("service_address", sa.Text()),
    ("departement", sa.String(3)),
)


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("letter_id", sa.Integer(), sa.ForeignKey("letters.id"), nullable=True),
        sa.Column("outcome", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    for statement in create_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ALTER a constraint in, but takes the reference within ADD COLUMN.
        op.execute("ALTER TABLE artefacts ADD COLUMN event_id INTEGER REFERENCES case_events (id)")
    else:
        op.add_column(
            "artefacts",
            sa.Column(
                "event_id",
                sa.Integer(),
                sa.ForeignKey("case_events.id", name="fk_artefacts_event_id_case_events"),
                nullable=True,
            ),
        )
    op.create_index("ix_artefacts_event_id", "artefacts", ["event_id"])
    for name, kind in APPLICANT_COLUMNS:
        op.add_column("applicants", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of artefacts would drop its triggers.
    for name, _ in reversed(APPLICANT_COLUMNS):
        op.drop_column("applicants", name)
    op.drop_index("ix_artefacts_event_id", "artefacts")
    op.drop_column("artefacts", "event_id")
    for statement in drop_statements(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)
    op.drop_table("case_events")
