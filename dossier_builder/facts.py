"""The rows a dossier needs, read once and copied into plain frozen values.

Rendering works on these values, never on ORM rows: a pièce can then be built after the session
is closed, in another process, and a template cannot trigger a lazy query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dossier_builder.outcomes import outcome_of
from dossier_builder.pieces import Piece, case_captures, case_letters, plan_pieces
from evidence import journal, server_time
from evidence.anchor_proofs import (
    AnchorSummary,
    anchor_summary,
    capture_entry_seqs,
    first_anchor_covering,
    journal_tree,
    proof_record,
    waiting_since,
)
from evidence.applicant_pieces import case_pieces
from evidence.blobs import BlobStore
from evidence.events import KIND_LABELS
from evidence.letters import receipt_dates
from evidence.localtime import PARIS
from evidence.models import (
    Applicant, ApplicantPiece, Artefact, Capture, Case, CaseEvent, JournalEntry, Letter, PlannedAttempt,
)
from evidence.net_errors import address_beyond
from evidence.observations import PageObservations
from evidence.purge import open_case
from evidence.server_time import ServerTime
from evidence.workspace import Workspace


@dataclass(frozen=True)
class FileFacts:
    """An artefact as the dossier cites it."""

    id: int
    kind: str
    media_type: str
    filename: str | None
    sha256: str
    size: int
    blob_path: str
    created_at: datetime

    @classmethod
    def of(cls, row: Artefact) -> FileFacts:
        return cls(
            row.id,
            row.kind,
            row.media_type,
            row.filename,
            row.sha256,
            row.size,
            row.blob_path,
            row.created_at,
        )


@dataclass(frozen=True)
class AttemptFacts:
    id: int
    attempt_no: int
    started_at: datetime
    state: str
    url_requested: str
    final_url: str | None
    http_status: int | None
    evidence_text: str | None
    error: str | None
    assisted: bool
    files: tuple[FileFacts, ...]
    piece: int
    # How this attempt's journal entry is tied to an RFC 3161 token (manifest.json), if one is yet.
    anchor_proof: dict[str, Any] | None = None
    observations: PageObservations = PageObservations()
    # The journal entry that recorded the attempt: its hash is the attempt's own fingerprint (two attempts
    # on an unchanged page have byte-identical raw screenshots, never the same entry).
    journal_seq: int | None = None
    entry_hash: str | None = None
    server_time: ServerTime | None = None

    def file(self, kind: str) -> FileFacts | None:
        return next((item for item in self.files if item.kind == kind), None)

    @property
    def original(self) -> FileFacts | None:
        """The raw screenshot: the evidence of record, whose hash the exhibit prints."""
        return self.file("screenshot")

    @property
    def reached_url(self) -> str | None:
        """The address the page ended at, when it says more than the one requested (none on the browser's own
        error page: evidence.net_errors.address_beyond)."""
        return address_beyond(self.final_url, self.url_requested)

    @property
    def outcome(self) -> str:
        """The state as the dossier says it (dossier_builder/outcomes.py)."""
        return outcome_of(self.state, self.http_status, self.error)

    @property
    def shown(self) -> FileFacts | None:
        """The image the exhibit shows: the copy with date and time printed in, else the raw one."""
        return self.file("screenshot_annotated") or self.original


@dataclass(frozen=True)
class LetterFacts:
    id: int
    letter_date: date
    direction: str
    channel: str
    subject: str | None
    tracking: str | None
    sender: str | None
    recipient: str | None
    answers_id: int | None
    files: tuple[FileFacts, ...]
    piece: int
    received_on: date | None = None  # the day the prefecture received it (avis de réception), if known


# --- helper D (issue 14): the case's events besides attempts and letters ---------------------
@dataclass(frozen=True)
class EventFacts:
    """A phone call, a visit to the counter, a referral to the Défenseur des droits, or the
    prefecture's receipt of a letter (kind "receipt", with `letter_id`)."""

    id: int
    kind: str
    label: str  # « appel téléphonique à la préfecture »
    event_date: date
    outcome: str | None
    letter_id: int | None
    files: tuple[FileFacts, ...]  # its proofs


def _events(session: Session, case: Case, date_from: date | None, date_to: date | None) -> tuple[EventFacts, ...]:
    query = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(selectinload(CaseEvent.artefacts))
        .order_by(CaseEvent.event_date, CaseEvent.id)
    )
    if date_from is not None:
        query = query.where(CaseEvent.event_date >= date_from)
    if date_to is not None:
        query = query.where(CaseEvent.event_date <= date_to)
    return tuple(
        EventFacts(
            e.id, e.kind, KIND_LABELS.get(e.kind, e.kind), e.event_date, e.outcome, e.letter_id,
            tuple(FileFacts.of(item) for item in e.artefacts),
        )
        for e in session.scalars(query)
    )


# --- end of helper D's addition ------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantPieceFacts:
    """One of the applicant's own documents, as its pièce shows it."""

    id: int
    kind: str
    label: str
    piece_date: date | None
    files: tuple[FileFacts, ...]
    piece: int


@dataclass(frozen=True)
class CaseFacts:
    id: int
    label: str
    target_id: int
    notes: str | None
    url: str
    platform: str
    counter: str | None
    prefecture: str | None
    procedure: str | None
    applicant_name: str | None
    permit_expiry: date | None = None


@dataclass(frozen=True)
class DossierFacts:
    """Everything the dossier shows, with the pièce each item belongs to."""

    case: CaseFacts
    pieces: tuple[Piece, ...]
    attempts: tuple[AttemptFacts, ...]
    letters: tuple[LetterFacts, ...]
    date_from: date | None
    date_to: date | None
    journal_head: journal.JournalHead
    generated_at: datetime
    demo: bool
    anchors: tuple[AnchorSummary, ...] = ()
    anchor_waiting_since: datetime | None = None  # a token asked for, not obtained yet
    events: tuple[EventFacts, ...] = ()
    # Accompanied attempts (helper B): the planned times of those nobody started within their window,
    # counted apart from the attempts made (see capture/accompanied.py).
    missed_accompanied: tuple[datetime, ...] = ()
    applicant_pieces: tuple[ApplicantPieceFacts, ...] = ()

    @property
    def reference(self) -> str:
        """The case reference printed in every footer."""
        return f"Dossier « {self.case.label} »"


def _case_facts(session: Session, case: Case) -> CaseFacts:
    target = case.target
    applicant = session.scalars(select(Applicant).where(Applicant.case_id == case.id)).first()
    return CaseFacts(
        id=case.id,
        label=case.label,
        target_id=case.target_id,
        notes=case.notes,
        url=target.url,
        platform=target.platform,
        counter=target.counter,
        prefecture=target.prefecture,
        procedure=target.procedure,
        applicant_name=applicant.full_name if applicant else None,
        permit_expiry=applicant.permit_expiry if applicant else None,
    )


def _attempt(
    row: Capture,
    piece: int,
    anchor_proof: dict[str, Any] | None,
    entry: tuple[int, str] | None,
    blobs: BlobStore | None,
) -> AttemptFacts:
    observations = PageObservations.from_json(row.observations)
    return AttemptFacts(
        id=row.id,
        attempt_no=row.attempt_no,
        started_at=row.started_at,
        state=row.state,
        url_requested=row.url_requested,
        final_url=row.final_url,
        http_status=row.http_status,
        evidence_text=row.evidence_text,
        error=row.error,
        assisted=row.assisted,
        files=tuple(FileFacts.of(item) for item in row.artefacts),
        piece=piece,
        anchor_proof=anchor_proof,
        observations=observations,
        journal_seq=entry[0] if entry else None,
        entry_hash=entry[1] if entry else None,
        server_time=server_time.from_observations(observations) or _environment_time(row, blobs),
    )


def _environment_time(row: Capture, blobs: BlobStore | None) -> ServerTime | None:
    """The server time kept in the attempt's environment file, for attempts recorded before observations."""
    environment = next((item for item in row.artefacts if item.kind == server_time.ENVIRONMENT_KIND), None)
    if blobs is None or environment is None:
        return None
    try:
        return server_time.from_environment(blobs.read(environment.sha256))
    except OSError:  # a file missing from the store: `verify` says so, the dossier shows no server time
        return None


def _applicant_piece(row: ApplicantPiece, piece: int) -> ApplicantPieceFacts:
    return ApplicantPieceFacts(
        id=row.id,
        kind=row.kind,
        label=row.label,
        piece_date=row.piece_date,
        files=tuple(FileFacts.of(item) for item in row.artefacts),
        piece=piece,
    )


def _letter(row: Letter, piece: int, received_on: date | None) -> LetterFacts:
    return LetterFacts(
        id=row.id,
        letter_date=row.letter_date,
        direction=row.direction,
        channel=row.channel,
        subject=row.subject,
        tracking=row.tracking,
        sender=row.sender,
        recipient=row.recipient,
        answers_id=row.answers_id,
        files=tuple(FileFacts.of(item) for item in row.artefacts),
        piece=piece,
        received_on=received_on,
    )


def gather(
    session: Session,
    case: Case,
    *,
    date_from: date | None,
    date_to: date | None,
    now: datetime,
    demo: bool,
    blobs: BlobStore | None = None,
) -> DossierFacts:
    """`blobs` lets attempts recorded before their observations show the server time of their environment file."""
    pieces = plan_pieces(session, case, date_from, date_to)
    capture_piece = {cid: piece.number for piece in pieces for cid in piece.capture_ids}
    letter_piece = {piece.letter_id: piece.number for piece in pieces if piece.letter_id is not None}
    own_piece = {piece.applicant_piece_id: piece.number for piece in pieces if piece.applicant_piece_id is not None}
    captures = case_captures(session, case, date_from, date_to)
    anchors = tuple(anchor_summary(session))
    proofs = _anchor_proofs(session, [row.id for row in captures], bool(anchors))
    received = receipt_dates(session, case.id)
    entries = _capture_entries(session)
    return DossierFacts(
        case=_case_facts(session, case),
        pieces=tuple(pieces),
        attempts=tuple(
            _attempt(row, capture_piece[row.id], proofs.get(row.id), entries.get(row.id), blobs)
            for row in captures
        ),
        letters=tuple(
            _letter(row, letter_piece[row.id], received.get(row.id))
            for row in case_letters(session, case, date_from, date_to)
        ),
        date_from=date_from,
        date_to=date_to,
        journal_head=journal.head(session),
        generated_at=now,
        demo=demo,
        anchors=anchors,
        anchor_waiting_since=waiting_since(session),
        events=_events(session, case, date_from, date_to),
        missed_accompanied=missed_accompanied(session, case, date_from, date_to),
        applicant_pieces=tuple(
            sorted((_applicant_piece(row, own_piece[row.id]) for row in case_pieces(session, case)), key=lambda own: own.piece)
        ),
    )


def missed_accompanied(session: Session, case: Case, date_from: date | None, date_to: date | None) -> tuple[datetime, ...]:
    """When the accompanied attempts nobody started were planned (Europe/Paris days within the period)."""
    rows = session.scalars(
        select(PlannedAttempt.planned_at).where(
            PlannedAttempt.target_id == case.target_id, PlannedAttempt.mode == "accompanied",
            PlannedAttempt.status == "missed",
        ).order_by(PlannedAttempt.planned_at)
    )
    return tuple(
        moment for moment in rows
        if (date_from is None or moment.astimezone(PARIS).date() >= date_from)
        and (date_to is None or moment.astimezone(PARIS).date() <= date_to)
    )


def _capture_entries(session: Session) -> dict[int, tuple[int, str]]:
    """For each capture id, the number and hash of the journal entry that recorded it."""
    seqs = capture_entry_seqs(session)
    wanted = sorted(seqs.values())
    hashes: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(JournalEntry.seq, JournalEntry.entry_hash).where(JournalEntry.seq.in_(wanted[start : start + 500]))
        )
        hashes.update((seq, digest) for seq, digest in rows)
    return {capture_id: (seq, hashes[seq]) for capture_id, seq in seqs.items() if seq in hashes}


def _anchor_proofs(session: Session, capture_ids: list[int], any_anchor: bool) -> dict[int, dict[str, Any]]:
    """For each capture already covered by a timestamp, the proof that ties it to the token."""
    if not any_anchor:
        return {}
    tree = journal_tree(session)
    seqs = capture_entry_seqs(session)
    proofs = {}
    for capture_id in capture_ids:
        seq = seqs.get(capture_id)
        anchor = first_anchor_covering(session, seq) if seq is not None else None
        if seq is not None and anchor is not None:
            proofs[capture_id] = proof_record(session, seq, anchor, tree)
    return proofs


def facts_of(
    workspace: Workspace, case_reference: str, date_from: date | None = None, date_to: date | None = None
) -> DossierFacts:
    """The facts of one case of a workspace, read in one session (at the workspace's clock)."""
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        return gather(
            session,
            case,
            date_from=date_from,
            date_to=date_to,
            now=workspace.clock.now(),
            demo=workspace.demo,
            blobs=workspace.blobs,
        )
