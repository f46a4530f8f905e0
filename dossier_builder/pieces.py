"""The numbered list of pièces of a case: the one truth shared by the dossier and the draft requête.

Télérecours wants one file per pièce, numbered continuously, its title identical to the inventory's
label, at most 80 characters, no accents nor `% / & .`, at most 32 Mo (REFERENCE §2). The list is
computed from the rows alone (never from rendered files), so the same data always gives the same
numbers, and the requête written before the PDFs exist cites the same pièces.

Order: BUNDLE_ORDER, one piece of data — the order a lawyer files them in: first the applicant's own
pièces (who they are, their right to stay and its expiry, their address, their situation; within them the
order of `applicant_pieces.PIECE_KINDS`), then the note de synthèse and the chronologie, then the captures
one ISO week (Europe/Paris) per pièce — a busy week split in parts so no file nears the size limit —, then one
pièce per letter, and last the short technical annex (how the attempts were recorded and can be checked).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dossier_builder.french import ascii_title, channel_label, date_range, long_date
from evidence.applicant_pieces import PIECE_KINDS, case_pieces
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import ApplicantPiece, Capture, Case, Letter

MAX_FILENAME_LENGTH = 80
# A pièce of captures holds at most this many attempts, and at most this many bytes of annotated
# screenshots (PNG, as stored). Their JPEG copies are of the same order for flat pages (about 1.2
# times the PNG, docs/performance.md) and smaller for photographic ones; a pièce whose copies would
# still be too heavy gets lighter ones (piece_files.JPEG_STEPS), never a new numbering.
MAX_CAPTURES_PER_PIECE = 100
MAX_IMAGE_BYTES_PER_PIECE = 20_000_000
IMAGE_KINDS = ("screenshot_annotated", "screenshot")

# The kinds of pièce in the order of the bundle (see the module's docstring).
BUNDLE_ORDER = ("demandeur", "synthese", "chronologie", "captures", "courrier", "methode")
METHOD_LABEL = "Annexe technique, méthode d'enregistrement et de vérification"


@dataclass(frozen=True)
class Piece:
    """One exhibit file of the bundle."""

    number: int
    label: str  # French, as the inventory and the requête write it
    filename: str  # PJ<n>_<ascii label>.pdf
    kind: str  # one of BUNDLE_ORDER
    capture_ids: tuple[int, ...] = ()
    week: str | None = None  # ISO week of the captures, e.g. "2026-W45"
    part: int | None = None  # 1-based, when a week is split
    parts: int | None = None
    letter_id: int | None = None
    applicant_piece_id: int | None = None

    @property
    def title(self) -> str:
        """The file's title: its name without `.pdf` (what Télérecours compares to the inventory)."""
        return self.filename.removesuffix(".pdf")


def piece_filename(number: int, label: str) -> str:
    prefix = f"PJ{number}_"
    room = MAX_FILENAME_LENGTH - len(prefix) - len(".pdf")
    title = ascii_title(label)
    if len(title) > room:  # cut at a word boundary
        title = title[: room + 1].rsplit("_", 1)[0]
    return f"{prefix}{title.rstrip('_-')}.pdf"


def _utc_bound(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS).astimezone(UTC)


def case_captures(
    session: Session, case: Case, date_from: date | None = None, date_to: date | None = None
) -> list[Capture]:
    """The attempts on the case's page within the period (Paris dates, both ends included)."""
    query = (
        select(Capture)
        .where(Capture.target_id == case.target_id)
        .options(selectinload(Capture.artefacts))
        .order_by(Capture.started_at, Capture.id)
    )
    if date_from is not None:
        query = query.where(Capture.started_at >= _utc_bound(date_from))
    if date_to is not None:
        query = query.where(Capture.started_at < _utc_bound(date_to + timedelta(days=1)))
    return list(session.scalars(query))


def case_letters(
    session: Session, case: Case, date_from: date | None = None, date_to: date | None = None
) -> list[Letter]:
    query = (
        select(Letter)
        .where(Letter.case_id == case.id)
        .options(selectinload(Letter.artefacts))
        .order_by(Letter.letter_date, Letter.id)
    )
    if date_from is not None:
        query = query.where(Letter.letter_date >= date_from)
    if date_to is not None:
        query = query.where(Letter.letter_date <= date_to)
    return list(session.scalars(query))


def paris_day(capture: Capture) -> date:
    return capture.started_at.astimezone(PARIS).date()


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_title(week: str) -> str:
    """'2026-W45' → 'Semaine du 2 au 8 novembre 2026'."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return f"Semaine {date_range(monday, monday + timedelta(days=6))}"


def image_size(capture: Capture) -> int:
    """Bytes of the screenshot the exhibit shows (the annotated copy, else the raw one)."""
    by_kind = {artefact.kind: artefact.size for artefact in capture.artefacts}
    return next((by_kind[kind] for kind in IMAGE_KINDS if kind in by_kind), 0)


def _split(captures: Sequence[Capture]) -> list[list[Capture]]:
    """The fewest even chunks that keep each under both the count and the image-bytes budget."""
    weight = sum(image_size(capture) for capture in captures)
    parts = max(
        math.ceil(len(captures) / MAX_CAPTURES_PER_PIECE), math.ceil(weight / MAX_IMAGE_BYTES_PER_PIECE), 1
    )
    while True:
        bounds = [round(len(captures) * n / parts) for n in range(parts + 1)]
        chunks = [list(captures[a:b]) for a, b in itertools.pairwise(bounds)]
        if parts >= len(captures) or all(
            sum(image_size(capture) for capture in chunk) <= MAX_IMAGE_BYTES_PER_PIECE for chunk in chunks
        ):
            return chunks
        parts += 1


def _week_groups(captures: Sequence[Capture]) -> list[tuple[str, list[Capture]]]:
    groups: dict[str, list[Capture]] = {}
    for capture in captures:
        groups.setdefault(iso_week(paris_day(capture)), []).append(capture)
    return list(groups.items())  # captures are in time order, so weeks are too


def _captures_label(chunk: Sequence[Capture], part: int, parts: int) -> str:
    days = [paris_day(capture) for capture in chunk]
    if parts == 1:
        monday = days[0] - timedelta(days=days[0].weekday())
        return f"Captures d'écran, semaine {date_range(monday, monday + timedelta(days=6))}"
    when = f"du {long_date(days[0])}" if days[0] == days[-1] else date_range(days[0], days[-1])
    return f"Captures d'écran {when}, partie {part} sur {parts}"


# Short names of the channels, so that a letter's file title fits in 80 characters.
CHANNEL_SHORT = {
    "lrar": "LRAR",
    "courrier": "courrier simple",
    "depot": "dépôt au guichet",
    "telephone": "appel",
}


def letter_label(letter: Letter) -> str:
    when = long_date(letter.letter_date)
    how = CHANNEL_SHORT.get(letter.channel) or channel_label(letter.channel)
    if letter.direction == "received":
        return f"Réponse reçue le {when}, {how}"
    return f"Courrier envoyé le {when}, {how}"


def _own_order(piece: ApplicantPiece) -> tuple[int, date, int]:
    kinds = list(PIECE_KINDS)
    return (kinds.index(piece.kind) if piece.kind in kinds else len(kinds), piece.piece_date or date.min, piece.id)


def plan_pieces(
    session: Session, case: Case, date_from: date | None = None, date_to: date | None = None
) -> list[Piece]:
    """Every pièce of the case's dossier, numbered from 1, in filing order.

    Raises BadInput when the period holds no capture: a dossier without attempts proves nothing. The
    applicant's own pièces are filed whatever the period: they describe the applicant, not the attempts.
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadInput("période invalide : la date de début est après la date de fin")
    captures = case_captures(session, case, date_from, date_to)
    if not captures:
        raise BadInput(f"aucune capture pour le dossier « {case.label} » sur la période choisie")
    planned: dict[str, list[tuple[str, dict[str, object]]]] = {kind: [] for kind in BUNDLE_ORDER}
    for own in sorted(case_pieces(session, case), key=_own_order):
        planned["demandeur"].append((own.label, {"applicant_piece_id": own.id}))
    planned["synthese"].append(("Note de synthèse", {}))
    planned["chronologie"].append(("Chronologie des tentatives et des courriers", {}))
    for week, week_captures in _week_groups(captures):
        chunks = _split(week_captures)
        split = len(chunks) > 1
        for part, chunk in enumerate(chunks, start=1):
            planned["captures"].append(
                (
                    _captures_label(chunk, part, len(chunks)),
                    {
                        "capture_ids": tuple(capture.id for capture in chunk),
                        "week": week,
                        "part": part if split else None,
                        "parts": len(chunks) if split else None,
                    },
                )
            )
    for letter in case_letters(session, case, date_from, date_to):
        planned["courrier"].append((letter_label(letter), {"letter_id": letter.id}))
    planned["methode"].append((METHOD_LABEL, {}))
    pieces: list[Piece] = []
    for kind in BUNDLE_ORDER:
        for label, details in planned[kind]:
            number = len(pieces) + 1
            pieces.append(Piece(number, label, piece_filename(number, label), kind, **details))  # type: ignore[arg-type]
    return pieces
