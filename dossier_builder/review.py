"""dossier-complet.pdf: the lawyer's review copy.

A cover page made by WeasyPrint as PDF/A-3b carries the attachments (manifest, journal extract);
the pièces already written are appended with pypdf, so no image is laid out twice. Bookmarks: one
per pièce, the capture pièces grouped under one per week, and one per attempt inside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, Destination, IndirectObject, NameObject

from dossier_builder.facts import DossierFacts
from dossier_builder.pieces import Piece, week_title
from dossier_builder.render import PageFrame, render_html, write_pdf

REVIEW_NAME = "dossier-complet.pdf"


@dataclass(frozen=True)
class Embedded:
    """A file attached to the review copy."""

    path: Path
    description: str
    relationship: str  # PDF/A-3 AFRelationship: "Data", "Source", "Supplement" …


@dataclass(frozen=True)
class PieceFile:
    piece: Piece
    path: Path
    pages: int


def dedupe_associated_files(writer: PdfWriter) -> None:
    """Keep each file specification once in the catalog's /AF array.

    WeasyPrint 70 lists every attachment twice there; PDF/A validators and some readers then show
    each attachment twice.
    """
    root = writer._root_object
    if "/AF" not in root:
        return
    seen: set[tuple[int, int]] = set()
    unique = ArrayObject()
    for item in root["/AF"]:
        key = (item.idnum, item.generation) if isinstance(item, IndirectObject) else (id(item), -1)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    root[NameObject("/AF")] = unique


def _attempt_bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    """(title, page) of the second-level headings of a pièce: one per attempt in a capture pièce."""
    found: list[tuple[str, int]] = []

    def walk(items: Sequence[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif depth == 1 and isinstance(item, Destination):
                found.append((str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def build_review_copy(
    facts: DossierFacts,
    pieces: Sequence[PieceFile],
    embedded: Sequence[Embedded],
    dest: Path,
    scratch: Path,
) -> int:
    """Write the review copy to `dest`; returns its number of pages."""
    # WeasyPrint is imported where a PDF is drawn (see dossier_builder/render.py).
    from weasyprint import Attachment

    frame = PageFrame(
        footer="Dossier complet",
        reference=facts.reference,
        demo=facts.demo,
        title=f"Dossier complet — {facts.case.label}",
    )
    cover = scratch / "cover.pdf"
    html = render_html(
        "complet.html",
        frame,
        facts=facts,
        entries=pieces,
        journal_name=next((item.path.name for item in embedded if item.relationship == "Source"), ""),
    )
    write_pdf(
        html,
        cover,
        base_dir=scratch,
        attachments=[
            Attachment(
                filename=str(item.path),
                name=item.path.name,
                description=item.description,
                relationship=item.relationship,
            )
            for item in embedded
        ],
    )
    writer = PdfWriter(clone_from=cover)
    dedupe_associated_files(writer)
    weeks: dict[str, IndirectObject] = {}
    for entry in pieces:
        start = len(writer.pages)
        reader = PdfReader(entry.path)
        writer.append(reader, import_outline=False)
        parent = None
        if entry.piece.kind == "captures" and entry.piece.week:
            if entry.piece.week not in weeks:
                weeks[entry.piece.week] = writer.add_outline_item(
                    title=week_title(entry.piece.week), page_number=start
                )
            parent = weeks[entry.piece.week]
        item = writer.add_outline_item(
            title=f"Pièce n° {entry.piece.number} — {entry.piece.label}",
            page_number=start,
            parent=parent,
            is_open=False,
        )
        for title, page in _attempt_bookmarks(reader):
            writer.add_outline_item(title=title, page_number=start + page, parent=item)
    writer.write(dest)
    return len(writer.pages)
