"""The applicant's own pièces: the documents that show who they are, their right to stay and why it is urgent.

A titre de séjour or récépissé (with its expiry date), an identity document, a proof of address (which also
decides the competent tribunal), a proof of work or family situation. Each is one file, a PDF or a PNG/JPEG
image, checked and stored exactly as letters are (`letters.load_file`); its row and its file are written once.

Withdrawing a pièce rewrites nothing: it is a journal entry ("applicant_piece.withdrawn") that points at the
entry recording the pièce. The file stays in the store, the pièce leaves the bundle.

Personal data: the files are the applicant's documents, erased by a purge of the case. The label and the file
name, which go into the journal, have the applicant's name and numéro d'étranger masked, as a letter's subject.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from evidence import journal
from evidence.applicants import get_applicant, mask_identity
from evidence.database import get_row
from evidence.errors import BadInput, NotFound
from evidence.letters import (
    clean_line,
    load_file,
    max_file_bytes,
    paris_today,
    shown_path,
    stored_name,
)
from evidence.localtime import PARIS
from evidence.models import ApplicantPiece, Artefact, Case, JournalEntry
from evidence.names import PIECE_KINDS
from evidence.purge import open_case
from evidence.records import NewArtefact, artefact_rows, sealer, store_blobs
from evidence.workspace import Workspace

PIECE_FILE_KIND = "applicant_piece"
RECORDED = "applicant_piece.recorded"
WITHDRAWN = "applicant_piece.withdrawn"
MAX_LABEL_LENGTH = 120
MAX_REASON_LENGTH = 500
DEFAULT_REASON = "pièce retirée du dossier"
EMAIL_SUFFIX = ".eml"


@dataclass(frozen=True)
class PieceInput:
    """What the user says about one of the applicant's documents."""

    file: Path
    kind: str
    label: str
    piece_date: date | None = None


@dataclass(frozen=True)
class Withdrawal:
    """A pièce taken out of the bundle, as its journal entry records it."""

    seq: int
    recorded_at: datetime
    piece_id: int
    reason: str

    @property
    def day(self) -> date:
        """The day it was withdrawn in Paris: from midnight to 01:00 (02:00 in summer) UTC is still on the day
        before."""
        return self.recorded_at.astimezone(PARIS).date()


@dataclass(frozen=True)
class PieceSummary:
    """A pièce as `piece list` and the dashboard show it."""

    id: int
    kind: str
    label: str
    piece_date: date | None
    created_at: datetime
    artefact_id: int
    filename: str | None
    media_type: str
    sha256: str
    size: int
    withdrawn: Withdrawal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "date": self.piece_date.isoformat() if self.piece_date else None,
            "recorded_at": self.created_at.isoformat(),
            "file": {
                "artefact_id": self.artefact_id,
                "filename": self.filename,
                "media_type": self.media_type,
                "sha256": self.sha256,
                "size": self.size,
            },
            "withdrawn": None
            if self.withdrawn is None
            else {
                "at": self.withdrawn.recorded_at.isoformat(),
                "journal_seq": self.withdrawn.seq,
                "reason": self.withdrawn.reason,
            },
        }


def kind_label(kind: str) -> str:
    return PIECE_KINDS.get(kind, kind)


def _check_kind(kind: str) -> str:
    if kind not in PIECE_KINDS:
        raise BadInput(f"nature de pièce inconnue : {kind!r} (valeurs possibles : {', '.join(PIECE_KINDS)})")
    return kind


def record_piece(workspace: Workspace, case_reference: str, request: PieceInput) -> ApplicantPiece:
    """Check everything, then store the file, then the row, its artefact and one journal entry."""
    kind = _check_kind(request.kind)
    if request.file.suffix.lower() == EMAIL_SUFFIX:  # letters take e-mails; a pièce is a document
        raise BadInput(f"{shown_path(request.file)} : format non reconnu (PDF ou image PNG ou JPEG attendu)")
    loaded = load_file(request.file, max_file_bytes(workspace))
    today = paris_today(workspace)
    if request.piece_date is not None and request.piece_date > today:
        raise BadInput(
            f"date dans le futur : {request.piece_date.isoformat()} (nous sommes le {today.isoformat()}) — "
            "--date est la date du document, pas celle de son expiration"
        )
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        applicant = get_applicant(session, case)
        label = clean_line(mask_identity(request.label, applicant), "intitulé", MAX_LABEL_LENGTH)
        if label is None:
            raise BadInput("intitulé de la pièce manquant (option --label)")
        files = [
            NewArtefact(
                PIECE_FILE_KIND,
                loaded.media_type,
                data=loaded.data,
                filename=mask_identity(stored_name(loaded.path), applicant),
            )
        ]
        case_id, seal = case.id, sealer(workspace, session, case)

    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        piece = ApplicantPiece(case_id=case_id, kind=kind, label=seal(label), piece_date=request.piece_date, created_at=now)
        piece.artefacts = artefact_rows(files, stored, now, seal)
        session.add(piece)
        session.flush()
        journal.append(
            session,
            RECORDED,
            {"applicant_piece": piece.to_record(), "artefacts": [row.to_record() for row in piece.artefacts]},
            now,
        )
    return piece


def withdrawals(session: Session) -> dict[int, Withdrawal]:
    """Every withdrawal recorded in the journal, by pièce id."""
    found = {}
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.kind == WITHDRAWN).order_by(JournalEntry.seq)):
        data = json.loads(entry.payload)["data"]
        found[data["applicant_piece_id"]] = Withdrawal(
            entry.seq, entry.recorded_at, data["applicant_piece_id"], data["reason"]
        )
    return found


def _recording_entry(session: Session, piece_id: int) -> JournalEntry:
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.kind == RECORDED)):
        if json.loads(entry.payload)["data"]["applicant_piece"]["id"] == piece_id:
            return entry
    raise NotFound(f"pièce n° {piece_id} : son entrée du journal est introuvable (lancez « preuves verify »)")


def _find_piece(session: Session, case: Case, piece_id: int) -> ApplicantPiece:
    piece = get_row(session, ApplicantPiece, piece_id)
    if piece is None or piece.case_id != case.id:
        raise NotFound(f"pièce n° {piece_id} inconnue dans le dossier « {case.label} » (voir « preuves piece list »)")
    return piece


def withdraw_piece(
    workspace: Workspace, case_reference: str, piece_id: int, reason: str | None = None
) -> Withdrawal:
    """Take a pièce out of the bundle: a new journal entry, the row and the file untouched."""
    note = clean_line(reason, "motif", MAX_REASON_LENGTH) or DEFAULT_REASON
    now = workspace.clock.now()
    with workspace.writing() as session:
        case = open_case(session, case_reference)
        piece = _find_piece(session, case, piece_id)
        earlier = withdrawals(session).get(piece.id)
        if earlier is not None:
            raise BadInput(f"la pièce n° {piece.id} a déjà été retirée (entrée n° {earlier.seq} du journal)")
        entry = journal.append(
            session,
            WITHDRAWN,
            {
                "applicant_piece_id": piece.id,
                "case_id": case.id,
                "refers_to_seq": _recording_entry(session, piece.id).seq,
                "reason": note,
            },
            now,
        )
    return Withdrawal(entry.seq, entry.recorded_at, piece_id, note)


def _all_pieces(session: Session, case: Case) -> list[ApplicantPiece]:
    """Every pièce of a case, withdrawn ones included, with their files, in the order recorded."""
    return list(
        session.scalars(
            select(ApplicantPiece)
            .where(ApplicantPiece.case_id == case.id)
            .options(selectinload(ApplicantPiece.artefacts))
            .order_by(ApplicantPiece.id)
        )
    )


def case_pieces(session: Session, case: Case) -> list[ApplicantPiece]:
    """The pièces of a case still in its bundle (not withdrawn)."""
    gone = withdrawals(session)
    return [row for row in _all_pieces(session, case) if row.id not in gone]


def piece_summaries(session: Session, case: Case) -> list[PieceSummary]:
    """Every pièce of a case, withdrawn ones marked."""
    gone = withdrawals(session)
    return [_summary(row, row.artefacts[0], gone.get(row.id)) for row in _all_pieces(session, case)]


def _summary(row: ApplicantPiece, file: Artefact, withdrawn: Withdrawal | None) -> PieceSummary:
    return PieceSummary(
        id=row.id,
        kind=row.kind,
        label=row.label,
        piece_date=row.piece_date,
        created_at=row.created_at,
        artefact_id=file.id,
        filename=file.filename,
        media_type=file.media_type,
        sha256=file.sha256,
        size=file.size,
        withdrawn=withdrawn,
    )
