"""What the applicant did besides attempts and letters: a phone call to the prefecture, a visit to
its counter, a referral to the Défenseur des droits — each with its day, what came of it and, if
any, a proof (a call log, a ticket, the referral's acknowledgement).

An event is written once (`case_events` is append-only) with one journal entry. Its outcome goes
into the journal, so the applicant's name and numéro d'étranger are masked in it, as in a
letter's subject. The prefecture's receipt of a letter is a `CaseEvent` too, recorded by
`letters.record_receipt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from evidence import journal
from evidence.applicants import get_applicant, mask_identity
from evidence.errors import BadInput
from evidence.letters import (
    RECEIPT_EVENT,
    check_choice,
    clean_line,
    load_file,
    max_file_bytes,
    paris_today,
    stored_name,
)
from evidence.models import Case, CaseEvent
from evidence.names import EVENT_KINDS
from evidence.purge import open_case
from evidence.records import NewArtefact, artefact_rows, sealer, store_blobs
from evidence.workspace import Workspace

KIND_LABELS = EVENT_KINDS | {RECEIPT_EVENT: "réception d'un courrier par la préfecture"}
PROOF_KIND = "event_proof"
MAX_OUTCOME_LENGTH = 500


@dataclass(frozen=True)
class EventInput:
    kind: str
    event_date: date
    outcome: str
    proofs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class EventSummary:
    id: int
    kind: str
    event_date: date
    outcome: str | None
    letter_id: int | None
    files: tuple[tuple[str | None, str], ...]  # (file name, SHA-256)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "date": self.event_date.isoformat(),
            "outcome": self.outcome,
            "letter": self.letter_id,
            "files": [{"filename": name, "sha256": digest} for name, digest in self.files],
        }


def record_event(workspace: Workspace, case_reference: str, request: EventInput) -> CaseEvent:
    """Check everything, then store the proofs, then the row and one journal entry."""
    kind = check_choice(request.kind, EVENT_KINDS, "type d'événement")
    outcome = clean_line(request.outcome, "résultat", MAX_OUTCOME_LENGTH)
    if outcome is None:
        raise BadInput("résultat de la démarche manquant (option --outcome : ce qui a été répondu ou constaté)")
    today = paris_today(workspace)
    if request.event_date > today:
        raise BadInput(f"date dans le futur : {request.event_date.isoformat()} (nous sommes le {today.isoformat()})")
    limit = max_file_bytes(workspace)
    proofs = [load_file(path, limit) for path in request.proofs]
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        applicant = get_applicant(session, case)
        case_id, seal = case.id, sealer(workspace, session, case)
        outcome = mask_identity(outcome, applicant)
        files = [
            NewArtefact(
                PROOF_KIND, proof.media_type, data=proof.data, filename=mask_identity(stored_name(proof.path), applicant)
            )
            for proof in proofs
        ]
    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        event = CaseEvent(case_id=case_id, kind=kind, event_date=request.event_date, outcome=seal(outcome), created_at=now)
        event.artefacts = artefact_rows(files, stored, now, seal)
        session.add(event)
        session.flush()
        journal.append(
            session,
            "event.recorded",
            {"event": event.to_record(), "artefacts": [row.to_record() for row in event.artefacts]},
            now,
        )
    return event


def event_summaries(session: Session, case: Case, *, receipts: bool = True) -> list[EventSummary]:
    """The case's events in date order (receipts of letters included unless asked otherwise)."""
    query = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(selectinload(CaseEvent.artefacts))
        .order_by(CaseEvent.event_date, CaseEvent.id)
    )
    if not receipts:
        query = query.where(CaseEvent.kind != RECEIPT_EVENT)
    return [
        EventSummary(
            id=event.id,
            kind=event.kind,
            event_date=event.event_date,
            outcome=event.outcome,
            letter_id=event.letter_id,
            files=tuple((artefact.filename, artefact.sha256) for artefact in event.artefacts),
        )
        for event in session.scalars(query)
    ]
