"""Building blocks for evidence tests: a case with recorded captures, raw SQL access."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from sqlalchemy import create_engine, text

from evidence import triggers
from evidence.models import APPEND_ONLY_TABLES, Capture
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from evidence.workspace import Workspace
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
    workspace: Workspace, target_id: int, count: int, screenshot: bytes | None = None
) -> list[Capture]:
    start = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
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
