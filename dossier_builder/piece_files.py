"""One pièce → one PDF file. Each is its own WeasyPrint document, written then freed.

A capture pièce converts its screenshots to JPEG files in a scratch folder that WeasyPrint reads
from disk, so only one pièce's images are ever handled at a time.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pypdf import PdfWriter, Transformation

from dossier_builder import chronology, stats
from dossier_builder.facts import AttemptFacts, DossierFacts, LetterFacts
from dossier_builder.french import date_range
from dossier_builder.images import JPEG_QUALITY, MAX_WIDTH, jpeg_copy
from dossier_builder.letter_parts import Part, prepare
from dossier_builder.pieces import Piece
from dossier_builder.render import (
    PDF_VARIANT,
    PageFrame,
    render_document,
    render_html,
    write_pdf,
)
from evidence.errors import PreuvesError
from evidence.localtime import PARIS

if TYPE_CHECKING:
    from weasyprint.document import Page

MM = 72 / 25.4
# The content box of templates/dossier/dossier.css (@page margins), less a caption line on top.
IMPORT_BOX = (25 * MM, 22 * MM, (210 - 20) * MM, (297 - 22 - 7) * MM)  # left, bottom, right, top


# Images of one capture pièce stay under this, leaving room for text and fonts under Télérecours'
# 32 Mo; the (JPEG quality, maximum width) steps tried in turn to get there.
IMAGE_BUDGET = 28_000_000
JPEG_STEPS = ((JPEG_QUALITY, MAX_WIDTH), (60, 1100), (45, 900))


@dataclass(frozen=True)
class Shot:
    attempt: AttemptFacts
    image: str | None  # file name of the JPEG copy in the scratch folder


def frame_for(facts: DossierFacts, piece: Piece) -> PageFrame:
    return PageFrame(
        footer=f"Pièce n° {piece.number}", reference=facts.reference, demo=facts.demo, title=piece.label
    )


def period_text(facts: DossierFacts) -> str:
    first = facts.date_from or facts.attempts[0].started_at.astimezone(PARIS).date()
    last = facts.date_to or facts.attempts[-1].started_at.astimezone(PARIS).date()
    return date_range(first, last)


def statistics(facts: DossierFacts) -> stats.Statistics:
    return stats.compute(
        [attempt.started_at for attempt in facts.attempts], [attempt.state for attempt in facts.attempts]
    )


def synthese_html(facts: DossierFacts, piece: Piece) -> str:
    chronology_piece = next(p.number for p in facts.pieces if p.kind == "chronologie")
    return render_html(
        "synthese.html",
        frame_for(facts, piece),
        facts=facts,
        piece=piece,
        stats=statistics(facts),
        period=period_text(facts),
        letters_sent=sum(1 for letter in facts.letters if letter.direction == "sent"),
        letters_received=sum(1 for letter in facts.letters if letter.direction == "received"),
        unanswered=chronology.pending_letters(facts),
        chronology_piece=chronology_piece,
    )


def chronologie_html(facts: DossierFacts, piece: Piece) -> str:
    return render_html(
        "chronologie.html",
        frame_for(facts, piece),
        facts=facts,
        piece=piece,
        weeks=chronology.weeks(facts),
        pending=chronology.pending_letters(facts),
        until=chronology.reference_day(facts),
    )


def build_synthese(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    return write_pdf(synthese_html(facts, piece), dest, base_dir=scratch)


def build_chronologie(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    return write_pdf(chronologie_html(facts, piece), dest, base_dir=scratch)


def _jpeg_copies(attempts: list[AttemptFacts], home: Path, scratch: Path) -> dict[int, str]:
    """JPEG copies of the screenshots shown, at the first (quality, width) step whose total fits.

    The pièce plan is fixed before any image is read (the requête cites it), so a pièce whose
    screenshots would be too heavy at the usual quality gets lighter copies instead of a new split.
    """
    names: dict[int, str] = {}
    for quality, max_width in JPEG_STEPS:
        total = 0
        for attempt in attempts:
            shown = attempt.shown
            if shown is None:
                continue
            names[attempt.id] = f"capture-{attempt.id}.jpg"
            try:
                jpeg_copy(
                    home / shown.blob_path, scratch / names[attempt.id], quality=quality, max_width=max_width
                )
            except (OSError, ValueError) as exc:  # missing or damaged file in the store
                raise PreuvesError(
                    f"tentative n° {attempt.attempt_no} : capture d'écran illisible [{shown.blob_path}] "
                    f"({exc.__class__.__name__}) ; lancez « preuves verify »"
                ) from exc
            total += (scratch / names[attempt.id]).stat().st_size
        if total <= IMAGE_BUDGET:
            break
    return names


def build_captures(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    wanted = set(piece.capture_ids)
    attempts = [attempt for attempt in facts.attempts if attempt.id in wanted]
    images = _jpeg_copies(attempts, home, scratch)
    shots = [Shot(attempt, images.get(attempt.id)) for attempt in attempts]
    html = render_html("captures.html", frame_for(facts, piece), facts=facts, piece=piece, shots=shots)
    return write_pdf(html, dest, base_dir=scratch)


def _fit(page_width: float, page_height: float) -> tuple[float, float, float]:
    left, bottom, right, top = IMPORT_BOX
    scale = min((right - left) / page_width, (top - bottom) / page_height, 1.0)
    x = left + ((right - left) - page_width * scale) / 2
    y = top - page_height * scale
    return scale, x, y


def _merge_imported(rendered: Path, dest: Path, placements: list[tuple[int, Path, int]]) -> None:
    """Lay each imported PDF page, scaled to the content box, under the numbered page made for it."""
    writer = PdfWriter(clone_from=rendered)
    sources: dict[Path, PdfWriter] = {}  # a writer's pages can be turned upright; a reader's cannot
    for page_index, source, source_page in placements:
        page = sources.setdefault(source, PdfWriter(clone_from=source)).pages[source_page]
        page.transfer_rotation_to_content()
        box = page.mediabox
        scale, x, y = _fit(float(box.width), float(box.height))
        transform = (
            Transformation().translate(-float(box.left), -float(box.bottom)).scale(scale).translate(x, y)
        )
        writer.pages[page_index].merge_transformed_page(page, transform, over=False)
    writer.write(dest)


def build_letter(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    letter = next(item for item in facts.letters if item.id == piece.letter_id)
    parts = [prepare(item, home / item.blob_path, scratch) for item in letter.files]
    by_id: dict[int, LetterFacts] = {item.id: item for item in facts.letters}
    answered_by = next(
        (item for item in facts.letters if item.direction == "received" and item.answers_id == letter.id),
        None,
    )
    pending = {item.letter.id: item.days for item in chronology.pending_letters(facts)}
    html = render_html(
        "courrier.html",
        frame_for(facts, piece),
        facts=facts,
        piece=piece,
        letter=letter,
        parts=parts,
        answer_of=by_id.get(letter.answers_id) if letter.answers_id else None,
        answered_by=answered_by,
        pending_days=pending.get(letter.id),
    )
    document = render_document(html, scratch)
    placements = _placements(document.pages, parts)
    if not placements:
        document.write_pdf(dest, pdf_variant=PDF_VARIANT)
        return len(document.pages)
    rendered = scratch / "rendered.pdf"
    document.write_pdf(rendered, pdf_variant=PDF_VARIANT)
    _merge_imported(rendered, dest, placements)
    return len(document.pages)


def _placements(pages: list[Page], parts: list[Part]) -> list[tuple[int, Path, int]]:
    """(page index in the rendered document, source PDF, page in the source) for each imported page."""
    where = {anchor: index for index, page in enumerate(pages) for anchor in page.anchors}
    return [
        (where[f"imported-{part.file.id}-{n}"], part.source, n)
        for part in parts
        if part.mode == "pdf" and part.source is not None
        for n in range(part.pages)
    ]


PieceBuilder = Callable[[DossierFacts, Piece, Path, Path, Path], int]  # (facts, pièce, home, dest, scratch)
BUILDERS: dict[str, PieceBuilder] = {
    "synthese": build_synthese,
    "chronologie": build_chronologie,
    "captures": build_captures,
    "courrier": build_letter,
}


def build_piece(facts: DossierFacts, piece: Piece, home: Path, out_dir: Path) -> int:
    """Write `piece` into `out_dir` under its file name; returns its number of pages."""
    scratch = Path(tempfile.mkdtemp(prefix=f"preuves-piece-{piece.number}-"))
    try:
        return BUILDERS[piece.kind](facts, piece, home, out_dir / piece.filename, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
