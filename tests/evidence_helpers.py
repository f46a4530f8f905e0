"""Building blocks for evidence tests: a case with recorded captures, raw SQL access."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from sqlalchemy import create_engine, select, text

from evidence import journal, triggers
from evidence.account_models import CaseOrganisation, Organisation
from evidence.anchor_models import Anchor
from evidence.models import APPEND_ONLY_TABLES, ApplicantPiece, Artefact, Capture, Case, CaseEvent, JournalEntry, Letter, Target
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from evidence.workspace import Workspace, open_workspace
from tests.capture_samples import URL, sample_facts


def add_sample_case(workspace: Workspace, label: str = "Dupont") -> int:
    case, _ = add_case(workspace, label, TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise"))
    return case.target_id


def sample_png(text: str = "Il n'existe plus de plage horaire libre") -> bytes:
    """A real (small) PNG, for the tests that render screenshots."""
    image = Image.new("RGB", (640, 360), "white")
    ImageDraw.Draw(image).text((20, 160), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def record_sample_captures(
    workspace: Workspace, target_id: int, count: int, screenshot: bytes | None = None, recent: bool = False
) -> list[Capture]:
    """`count` attempts 7 hours apart from Monday 2 November 2026, or ending an hour ago when `recent`
    (for commands that warn about old evidence, run on the real clock)."""
    start = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    if recent:
        start = datetime.now(UTC) - timedelta(hours=7 * count + 1)
    captures = []
    for n in range(1, count + 1):
        facts = sample_facts(target_id, n, start + timedelta(hours=7 * n))
        files = [
            NewArtefact("screenshot", "image/png", data=screenshot or f"png {n}".encode()),
            NewArtefact("html", "text/html", data=f"<html>{n}</html>".encode()),
        ]
        captures.append(record_capture(workspace, facts, files))
    return captures


def pdf_bytes() -> bytes:
    """A real one-page (blank) PDF, for the tests that import letters."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def raw_sql(workspace: Workspace, *statements: str) -> None:
    """Change the database behind the tool's back, as an attacker with write access could: one
    transaction on a connection of its own, whatever the database."""
    engine = create_engine(workspace.database_url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def drop_triggers(workspace: Workspace, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """The statements removing the append-only protections of `tables`, in the workspace's SQL."""
    return triggers.drop_statements(workspace.engine.dialect.name, tables)


def evidence_rows(home: Path) -> dict[str, list[Any]]:
    """Every row a journal describes and every journal entry, as plain data: what a rebuilt
    database must hold again, exactly."""
    workspace = open_workspace(home)
    try:
        with workspace.reading() as session:
            rows: dict[str, list[Any]] = {
                model.__tablename__: [row.to_record() for row in session.scalars(select(model).order_by(model.id))]
                for model in (Target, Case, Capture, Letter, CaseEvent, ApplicantPiece, Artefact, Anchor)
            }
            rows["organisations"] = [(o.id, o.name) for o in session.scalars(select(Organisation))]
            rows["case_organisations"] = [
                (c.case_id, c.organisation_id) for c in session.scalars(select(CaseOrganisation))
            ]
            rows["journal"] = [
                (e.seq, e.kind, e.entry_hash) for e in session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
            ]
        return rows
    finally:
        workspace.close()


def rewrite_journal_from(workspace: Workspace, seq: int, change: Callable[[str], str]) -> None:
    """A careful forger's rewrite: entry `seq`'s payload changed, and every hash from it on made
    again, so that the chain in the database is whole (triggers dropped, then put back)."""
    with workspace.reading() as session:
        entries = list(session.scalars(select(JournalEntry).where(JournalEntry.seq >= seq).order_by(JournalEntry.seq)))
        previous = session.get_one(JournalEntry, seq - 1).entry_hash if seq > 1 else journal.GENESIS_HASH
    raw_sql(workspace, *drop_triggers(workspace))
    engine = create_engine(workspace.database_url)
    try:
        with engine.begin() as connection:
            for entry in entries:
                payload = change(entry.payload) if entry.seq == seq else entry.payload
                digest = journal.entry_hash(previous, payload)
                connection.execute(
                    text("UPDATE journal_entries SET payload = :payload, prev_hash = :prev, entry_hash = :digest "
                         "WHERE seq = :seq"),
                    {"payload": payload, "prev": previous, "digest": digest, "seq": entry.seq},
                )
                previous = digest
    finally:
        engine.dispose()
    raw_sql(workspace, *triggers.create_statements(workspace.engine.dialect.name))
