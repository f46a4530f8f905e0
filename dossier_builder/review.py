"""dossier-complet.pdf: the lawyer's review copy.

A cover page made by WeasyPrint as PDF/A-3b carries the attachments (manifest, journal extract);
the pièces already written are appended with pypdf, so no image is laid out twice. Bookmarks: one
level per pièce, and beneath each the pièce's own headings (the weeks of the chronology, the attempts of
a week of captures, the sections of the note).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, Destination, IndirectObject, NameObject

from dossier_builder.facts import DossierFacts
from dossier_builder.pieces import Piece
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


@dataclass(frozen=True)
class Mark:
    """A bookmark of a pièce, with those beneath it."""

    title: str
    page: int  # in the pièce
    children: tuple[Mark, ...] = ()


def _inner_marks(reader: PdfReader) -> list[Mark]:
    """The bookmarks beneath a pièce's title: its own headings below the first level, as a tree."""

    def tree(items: Sequence[Any]) -> list[Mark]:
        marks: list[Mark] = []
        for item in items:
            if isinstance(item, list):
                if marks:
                    last = marks[-1]
                    marks[-1] = Mark(last.title, last.page, last.children + tuple(tree(item)))
            elif isinstance(item, Destination):
                marks.append(Mark(str(item.title), reader.get_destination_page_number(item)))
        return marks

    return [child for top in tree(reader.outline) for child in top.children]


def _add_marks(writer: PdfWriter, marks: Sequence[Mark], start: int, parent: IndirectObject) -> None:
    for mark in marks:
        item = writer.add_outline_item(title=mark.title, page_number=start + mark.page, parent=parent)
        _add_marks(writer, mark.children, start, item)


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
    for entry in pieces:
        start = len(writer.pages)
        reader = PdfReader(entry.path)
        writer.append(reader, import_outline=False)
        item = writer.add_outline_item(
            title=f"Pièce n° {entry.piece.number} — {entry.piece.label}", page_number=start, is_open=False
        )
        _add_marks(writer, _inner_marks(reader), start, item)
    writer.write(dest)
    return len(writer.pages)
