"""One pièce → one PDF file. Each is its own WeasyPrint document, written then freed.

A capture pièce converts its screenshots to JPEG files in a scratch folder that WeasyPrint reads
from disk, so only one pièce's images are ever handled at a time.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from pypdf import PdfWriter, Transformation

from dossier_builder import chronology, sentences, stats
from dossier_builder.facts import AttemptFacts, DossierFacts, FileFacts, LetterFacts
from dossier_builder.freshness import staleness
from dossier_builder.french import date_range
from dossier_builder.images import JPEG_QUALITY, MAX_WIDTH, crop_copy, jpeg_copy
from dossier_builder.letter_parts import Part, prepare
from dossier_builder.pieces import Piece
from dossier_builder.render import (
    PDF_VARIANT,
    PageFrame,
    render_document,
    render_html,
    write_pdf,
)
from dossier_builder.review import write_reading_images
from dossier_builder.urgency import RECEIPT, Urgency, document_of, urgency
from evidence import server_time
from evidence.errors import PreuvesError
from evidence.letters import quiet_pypdf
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


# Where a capture page shows its screenshot (templates/dossier/dossier.css: .capture img.shot), in mm.
SHOT_WIDTH_MM = 165
SHOT_HEIGHT_WITH_INSET_MM = 105
# The inset of the decisive text: at most this many times the screenshot's own scale, and this high.
INSET_ZOOM = 3
INSET_HEIGHT_MM = 30


@dataclass(frozen=True)
class Inset:
    """The decisive text cut from the raw screenshot, shown enlarged under it."""

    image: str  # file name of the PNG crop in the scratch folder
    box: tuple[int, int, int, int]  # x, y, width, height of the crop, in pixels of the raw screenshot
    source_size: tuple[int, int]  # width, height of the raw screenshot
    width_mm: float


@dataclass(frozen=True)
class Shot:
    attempt: AttemptFacts
    image: str | None  # file name of the JPEG copy in the scratch folder
    inset: Inset | None = None


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
        [attempt.started_at for attempt in facts.attempts], [attempt.outcome for attempt in facts.attempts]
    )


def number_of(facts: DossierFacts, kind: str) -> int:
    """The number of the (first) pièce of a kind."""
    return next(p.number for p in facts.pieces if p.kind == kind)


def case_urgency(facts: DossierFacts) -> Urgency | None:
    return urgency(
        facts.case.permit_expiry,
        facts.case.procedure,
        facts.generated_at.astimezone(PARIS).date(),
        facts.attempts[0].started_at.astimezone(PARIS).date(),
        document_of({own.kind for own in facts.applicant_pieces}),
    )


def shown_label(values: list[str | None]) -> str | None:
    """What the site displayed most often (a label read at each attempt), or None if never read."""
    counted = Counter(value for value in values if value)
    return counted.most_common(1)[0][0] if counted else None


def largest_gap(facts: DossierFacts) -> server_time.LargestGap | None:
    return server_time.largest_gap((attempt.attempt_no, attempt.server_time) for attempt in facts.attempts)


def synthese_html(facts: DossierFacts, piece: Piece) -> str:
    figures = statistics(facts)
    period = period_text(facts)
    pending = chronology.pending_letters(facts)
    sent = sum(1 for letter in facts.letters if letter.direction == "sent")
    received = sum(1 for letter in facts.letters if letter.direction == "received")
    gap = largest_gap(facts)
    return render_html(
        "synthese.html",
        frame_for(facts, piece),
        facts=facts,
        piece=piece,
        stats=figures,
        period=period,
        conclusion=sentences.conclusion(figures, period),
        spread=sentences.spread(figures),
        letters_sentence=sentences.letters(sent, received, len(pending)),
        urgency=case_urgency(facts),
        stale=staleness(figures.last, facts.generated_at),
        clock_gap=sentences.clock_gap(gap, figures.attempts),
        gap_warning=server_time.warning(gap),
        counter_label=shown_label([a.observations.counter_label for a in facts.attempts]),
        procedure_label=shown_label([a.observations.procedure_label for a in facts.attempts]),
        chronology_piece=number_of(facts, "chronologie"),
        method_piece=number_of(facts, "methode"),
        own_pieces={own.kind: own.piece for own in reversed(facts.applicant_pieces)},
    )


def methode_html(facts: DossierFacts, piece: Piece) -> str:
    return render_html("methode.html", frame_for(facts, piece), facts=facts, piece=piece)


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


def build_methode(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    return write_pdf(methode_html(facts, piece), dest, base_dir=scratch)


def unreadable(attempt: AttemptFacts, item: FileFacts, exc: Exception) -> PreuvesError:
    """A screenshot the store cannot give back: the build stops, and says where to look."""
    return PreuvesError(
        f"tentative n° {attempt.attempt_no} : capture d'écran illisible [{item.blob_path}] "
        f"({exc.__class__.__name__}) ; lancez « preuves verify »"
    )


def _jpeg_copies(attempts: list[AttemptFacts], home: Path, scratch: Path) -> dict[int, str]:
    """JPEG copies of the screenshots shown, at the first (quality, width) step whose total fits, and beside
    them the review copy's lighter ones (see build_piece).

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
                    home / shown.blob_path,
                    scratch / names[attempt.id],
                    quality=quality,
                    max_width=max_width,
                    reading_dir=scratch,
                )
            except (OSError, ValueError) as exc:  # missing or damaged file in the store
                raise unreadable(attempt, shown, exc) from exc
            total += (scratch / names[attempt.id]).stat().st_size
        if total <= IMAGE_BUDGET:
            break
    return names


def _inset(attempt: AttemptFacts, home: Path, scratch: Path) -> Inset | None:
    """The decisive text cut from the raw screenshot where the attempt recorded its box, else None."""
    box, original, shown = attempt.observations.decisive_box, attempt.original, attempt.shown
    if box is None or original is None or shown is None:
        return None
    name = f"inset-{attempt.id}.png"
    try:
        cut = crop_copy(home / original.blob_path, scratch / name, box)
        with Image.open(scratch / f"capture-{attempt.id}.jpg") as copy:
            shown_width, shown_height = copy.size
    except (OSError, ValueError) as exc:  # missing or damaged file in the store
        raise unreadable(attempt, original, exc) from exc
    if cut is None:
        return None
    crop, size = cut
    # mm per pixel of the raw screenshot as the page shows it (the copy may be narrower than the original)
    scale = min(SHOT_WIDTH_MM / shown_width, SHOT_HEIGHT_WITH_INSET_MM / shown_height) * shown_width / size[0]
    width = min(SHOT_WIDTH_MM, crop[2] * scale * INSET_ZOOM, INSET_HEIGHT_MM * crop[2] / crop[3])
    if width <= crop[2] * scale:  # a block too large to be shown bigger than in the screenshot itself
        return None
    return Inset(name, crop, size, round(width, 1))


def build_captures(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    wanted = set(piece.capture_ids)
    attempts = [attempt for attempt in facts.attempts if attempt.id in wanted]
    images = _jpeg_copies(attempts, home, scratch)
    shots = [
        Shot(attempt, images.get(attempt.id), _inset(attempt, home, scratch) if attempt.id in images else None)
        for attempt in attempts
    ]
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
    return _write_with_imports(html, parts, dest, scratch)


def build_own_piece(facts: DossierFacts, piece: Piece, home: Path, dest: Path, scratch: Path) -> int:
    """One of the applicant's documents: a short heading, then the document itself (an image on the same
    page, a PDF's own pages after it)."""
    own = next(item for item in facts.applicant_pieces if item.id == piece.applicant_piece_id)
    parts = [prepare(item, home / item.blob_path, scratch) for item in own.files]
    # The expiry the applicant gave belongs to this pièce when it is the document it was given for.
    document = document_of({item.kind for item in facts.applicant_pieces})
    expires = own.kind == ("recepisse" if document == RECEIPT else "titre-de-sejour")
    html = render_html(
        "demandeur.html", frame_for(facts, piece), facts=facts, piece=piece, own=own, parts=parts, expires=expires
    )
    return _write_with_imports(html, parts, dest, scratch)


def _write_with_imports(html: str, parts: list[Part], dest: Path, scratch: Path) -> int:
    """Lay out `html`, then lay the pages of the PDF parts under the pages made for them; returns the count."""
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
    "demandeur": build_own_piece,
    "methode": build_methode,
}


def build_piece(facts: DossierFacts, piece: Piece, home: Path, out_dir: Path, reading_dir: Path) -> int:
    """Write `piece` into `out_dir` under its file name, and the lighter copies of its large images the review
    copy shows into `reading_dir`; returns its number of pages."""
    scratch = Path(tempfile.mkdtemp(prefix=f"preuves-piece-{piece.number}-"))
    try:
        with quiet_pypdf():  # a sloppy PDF, accepted (and repaired) when recorded, is read again here
            pages = BUILDERS[piece.kind](facts, piece, home, out_dir / piece.filename, scratch)
        write_reading_images(out_dir / piece.filename, reading_dir, made=scratch)
        return pages
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
