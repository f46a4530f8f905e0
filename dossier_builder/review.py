"""dossier-complet.pdf: the lawyer's review copy.

A cover page made by WeasyPrint as PDF/A-3b carries the attachments (manifest, journal extract);
the pièces already written are appended with pypdf, so no image is laid out twice. Bookmarks: one
level per pièce, and beneath each the pièce's own headings (the weeks of the chronology, the attempts of
a week of captures, the sections of the note).

The copy is for reading and for sending by email (most mail and court portals stop at 20 to 32 Mo): it takes
each large JPEG image (the screenshots) at half its width (see images.reading_jpeg), a copy made by the
worker that wrote the pièce. The filed pièces and the store keep the full resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    Destination,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from dossier_builder.facts import DossierFacts
from dossier_builder.images import reading_jpeg, reading_name
from dossier_builder.pieces import Piece
from dossier_builder.render import PageFrame, render_html, write_pdf

REVIEW_NAME = "dossier-complet.pdf"
# Most mail services and court portals refuse an attachment above 20 to 32 Mo; the copy aims at the larger.
MAIL_LIMIT_BYTES = 32 * 1000 * 1000


def too_heavy_to_mail(size: int) -> str | None:
    """What the user is told when the review copy, `size` bytes, is too heavy to be sent by email; None if it
    is not. The filed pièces are each checked against Télérecours' own limit when they are built."""
    if size <= MAIL_LIMIT_BYTES:
        return None
    weight = f"{math.ceil(size / 100_000) / 10:.1f}".replace(".", ",")  # rounded up: never « 32,0 » when above
    return (
        f"La copie de travail pèse {weight} Mo : au-delà de 32 Mo, la plupart des messageries la refusent ; "
        "transmettez-la par un service de transfert de fichiers (les pièces restent chacune sous la limite "
        "de Télérecours)."
    )


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


def _jpeg_images(pages: Sequence[PageObject]) -> Iterator[StreamObject]:
    """Each plain JPEG image drawn on `pages` (in Form XObjects too), once."""
    seen: set[int] = set()

    def walk(resources: DictionaryObject | None) -> Iterator[StreamObject]:
        xobjects = resources.get("/XObject") if resources is not None else None
        for ref in xobjects.get_object().values() if xobjects is not None else ():
            if isinstance(ref, IndirectObject):
                if ref.idnum in seen:
                    continue
                seen.add(ref.idnum)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                yield from walk(xobject.get("/Resources"))
            elif (
                xobject.get("/Subtype") == "/Image"
                and xobject.get("/Filter") == "/DCTDecode"
                and not any(key in xobject for key in ("/SMask", "/Mask", "/Decode"))
            ):
                yield xobject

    for page in pages:
        resources = page.get("/Resources")
        yield from walk(resources.get_object() if resources is not None else None)


def write_reading_images(piece_pdf: Path, reading_dir: Path, made: Path) -> None:
    """Put into `reading_dir` a lighter copy of each large JPEG image of the pièce `piece_pdf` (see
    images.reading_jpeg), named by the SHA-256 of the image it stands for (images.reading_name). The worker that
    wrote the pièce makes them, so that the review copy's assembly only swaps bytes; a copy its builder already
    made from the pixels it had decoded (images.jpeg_copy) is taken from `made` rather than made again."""
    for image in _jpeg_images(PdfReader(piece_pdf).pages):
        data = image.get_data()  # a JPEG's stream is the JPEG file itself
        name = reading_name(data)
        if (reading_dir / name).exists():  # the same image, shown again
            continue
        if (made / name).exists():
            (made / name).replace(reading_dir / name)
            continue
        lighter = reading_jpeg(data)
        if lighter is not None:
            (reading_dir / name).write_bytes(lighter)


def _use_reading_images(writer: PdfWriter, reading_dir: Path) -> None:
    """Swap each image of the review copy that has a lighter copy in `reading_dir` for that copy."""
    for image in _jpeg_images(writer.pages):
        lighter = reading_dir / reading_name(image.get_data())
        if not lighter.exists():
            continue
        data = lighter.read_bytes()
        with Image.open(BytesIO(data)) as header:
            width, height = header.size
        StreamObject.set_data(image, data)  # pypdf's encoded streams refuse new data unless Flate-encoded
        image[NameObject("/Width")] = NumberObject(width)
        image[NameObject("/Height")] = NumberObject(height)


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
    reading_dir: Path,
) -> int:
    """Write the review copy to `dest`, with the lighter images found in `reading_dir`; returns its number of
    pages."""
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
    _use_reading_images(writer, reading_dir)
    writer.write(dest)
    return len(writer.pages)
