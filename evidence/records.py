"""Writing evidence: cases, targets, captures and corrections.

Write order for one record: blobs first (durable on disk), then ONE transaction holding the rows
and the journal entry. A crash at any point leaves either nothing or a complete record; at worst
an unreferenced blob, which `verify` reports as an orphan.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from evidence import journal
from evidence.account_models import CaseOrganisation, Organisation
from evidence.blobs import StoredBlob
from evidence.database import get_row
from evidence.errors import BadInput, NotFound, StoreError
from evidence.localtime import PARIS
from evidence.models import Artefact, Capture, Case, JournalEntry, PlannedAttempt, Target
from evidence.observations import PageObservations
from evidence.sealing import key_id_of, stored
from evidence.workspace import Workspace

MAX_LABEL_LENGTH = 80
KEY_GIVEN = "case.key_given"  # a key for the new text of a case created before sealing existed
# Turns a personal text into what a row and the journal hold (see sealing.py).
Seal = Callable[[str | None], str | None]
# SQLite result codes a full or failing disk gives, said in French.
_DATABASE_REASONS = {
    sqlite3.SQLITE_FULL: "disque plein",
    sqlite3.SQLITE_IOERR: "erreur d'entrée-sortie du disque",
    sqlite3.SQLITE_READONLY: "base de données en lecture seule",
}


@dataclass(frozen=True)
class TargetSpec:
    """The booking page a case waits on (platform already detected by the caller)."""

    url: str
    platform: str
    counter: str | None = None
    prefecture: str | None = None
    procedure: str | None = None


@dataclass(frozen=True)
class NewArtefact:
    """A file to keep: either bytes in memory or a file on disk."""

    kind: str
    media_type: str
    data: bytes | None = None
    path: Path | None = None
    filename: str | None = None


@dataclass(frozen=True)
class CaptureFacts:
    """What one attempt observed, before it is recorded."""

    target_id: int
    attempt_no: int
    started_at: datetime
    finished_at: datetime
    url_requested: str
    final_url: str | None
    http_status: int | None
    state: str
    platform: str
    evidence_text: str | None
    error: str | None = None
    assisted: bool = False
    observations: PageObservations = PageObservations()


def normal_label(text: str) -> str:
    """A case name as it is stored and looked up: composed Unicode (NFC: « é » typed as e + accent is
    « é »), every kind of space (no-break, thin …) a plain one, runs of spaces one, none at the ends.
    Two names that look the same are then the same case."""
    text = unicodedata.normalize("NFC", text)
    spaced = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
    return " ".join(word for word in spaced.split(" ") if word)


def validate_label(label: str) -> str:
    label = normal_label(label)
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise BadInput(f"nom de dossier invalide : 1 à {MAX_LABEL_LENGTH} caractères attendus")
    if label.isdigit():
        raise BadInput("nom de dossier invalide : il ne peut pas être composé que de chiffres")
    if any(unicodedata.category(c).startswith("C") or c in "/\\" for c in label):
        raise BadInput(f"nom de dossier invalide : {label!r} contient un caractère interdit")
    return label


def find_case(session: Session, reference: str) -> Case:
    """A case by its number or its label (typed in any Unicode form, with any kind of space)."""
    reference = reference.strip()
    case = (
        get_row(session, Case, int(reference))
        if reference.isascii() and reference.isdigit()
        else _case_named(session, reference)
    )
    if case is None:
        raise NotFound(f"dossier inconnu : {reference!r} (voir « preuves case list »)")
    return case


def _case_named(session: Session, label: str) -> Case | None:
    """The case of that label. Labels are sealed, each with its own nonce, so no index can find one: the
    cases are read (a workspace holds a few hundred at most) and an erased label names no case. The name is
    compared as typed and normalised (a label stored before normalisation keeps its own form)."""
    wanted = (normal_label(label), label)
    for case in session.scalars(select(Case).order_by(Case.id)):
        if case.label in wanted and not getattr(case.label, "erased", False):
            return case
    return None


def case_keys(session: Session, case: Case) -> list[str]:
    """The keys a case's personal text is sealed with, the one in use last: the key its label is sealed
    with; for a case created before sealing existed (label in clear), those journaled for it since."""
    label_key = key_id_of(stored(case.label))
    if label_key is not None:
        return [label_key]
    given = select(JournalEntry.payload).where(JournalEntry.kind == KEY_GIVEN).order_by(JournalEntry.seq)
    entries = (json.loads(payload)["data"] for payload in session.scalars(given))
    return [data["key_id"] for data in entries if data["case_id"] == case.id]


def in_clear(text: str | None) -> str | None:
    return text


def sealer(workspace: Workspace, session: Session, case: Case) -> Seal:
    """What seals a case's new personal text with its key. A case from before sealing gets a key here, in a
    transaction of its own (its earlier text stays as it was written: evidence is never rewritten)."""
    keys = case_keys(session, case)
    key_id = keys[-1] if keys else _give_key(workspace, case.id)
    return lambda text: workspace.keys.seal(key_id, text)


def _give_key(workspace: Workspace, case_id: int) -> str:
    key_id = workspace.keys.create()
    with workspace.writing() as session:
        journal.append(session, KEY_GIVEN, {"case_id": case_id, "key_id": key_id}, workspace.clock.now())
    return key_id


def add_case(
    workspace: Workspace,
    label: str,
    spec: TargetSpec,
    *,
    notes: str | None = None,
    period_start: date | None = None,
    organisation: str | None = None,
) -> tuple[Case, bool]:
    """Create a case; reuse the target when the same page and counter are already watched.
    With `organisation`, the case belongs to it (only its users see it on the dashboard).

    Returns the case and whether an existing target was reused.
    """
    label = validate_label(label)
    now = workspace.clock.now()
    with workspace.writing() as session:
        journal.serialise_writers(session)  # two writers must not both find the label free
        if _case_named(session, label) is not None:
            raise BadInput(f"un dossier nommé {label!r} existe déjà")
        owner = None
        if organisation is not None:
            owner = session.scalars(select(Organisation).where(Organisation.name == organisation)).first()
            if owner is None:
                raise BadInput(f"organisation inconnue : {organisation!r} (voir « preuves user add »)")
        same_counter = (
            Target.counter.is_(None) if spec.counter is None else Target.counter == spec.counter
        )
        target = session.scalars(
            select(Target).where(Target.url == spec.url, same_counter)
        ).first()
        reused = target is not None
        if target is None:
            target = Target(
                url=spec.url,
                host=(urlsplit(spec.url).hostname or "").lower(),
                platform=spec.platform,
                counter=spec.counter,
                prefecture=spec.prefecture,
                procedure=spec.procedure,
                created_at=now,
            )
            session.add(target)
            session.flush()
            journal.append(session, "target.created", {"target": target.to_record()}, now)
        key_id = workspace.keys.create()
        case = Case(
            label=workspace.keys.seal(key_id, label),
            target_id=target.id,
            notes=workspace.keys.seal(key_id, notes),
            period_start=period_start or now.astimezone(PARIS).date(),
            period_end=None,
            active=True,
            created_at=now,
        )
        session.add(case)
        session.flush()
        entry: dict[str, object] = {"case": case.to_record()}
        if owner is not None:
            session.add(CaseOrganisation(case_id=case.id, organisation_id=owner.id))
            entry["organisation"] = owner.name
        journal.append(session, "case.created", entry, now)
    return case, reused


def next_attempt_no(workspace: Workspace, target_id: int) -> int:
    with workspace.reading() as session:
        count = session.scalar(
            select(func.max(Capture.attempt_no)).where(Capture.target_id == target_id)
        )
    return (count or 0) + 1


def store_blobs(workspace: Workspace, artefacts: list[NewArtefact]) -> list[StoredBlob]:
    """Step one of a record: every file durable in the blob store."""
    stored = []
    for artefact in artefacts:
        if artefact.data is not None:
            stored.append(workspace.blobs.put(artefact.data))
        elif artefact.path is not None:
            stored.append(workspace.blobs.put_file(artefact.path))
        else:
            raise ValueError(f"artefact {artefact.kind} has neither data nor path")
    return stored


def artefact_rows(
    artefacts: list[NewArtefact], blobs: list[StoredBlob], now: datetime, seal: Seal = in_clear
) -> list[Artefact]:
    """The rows of stored files; `seal` seals their names (a capture's files have no personal name)."""
    return [
        Artefact(
            kind=artefact.kind,
            media_type=artefact.media_type,
            filename=seal(artefact.filename),
            size=blob.size,
            sha256=blob.sha256,
            blob_path=blob.relpath,
            created_at=now,
        )
        for artefact, blob in zip(artefacts, blobs, strict=True)
    ]


def record_capture(
    workspace: Workspace,
    facts: CaptureFacts,
    artefacts: list[NewArtefact],
    planned_attempt_id: int | None = None,
    claimed_by: str | None = None,
) -> Capture:
    """Keep one attempt: its files, its row, its artefacts and its journal entry.

    When the attempt was planned, the plan row is marked done in the same transaction, so a crash
    never leaves a planned attempt done without its capture, or a capture whose plan row says
    it is still to do. A watcher passes `claimed_by`, its claim on the plan row: if the claim was
    taken from it meanwhile (it looked dead), the attempt is still kept — it happened — but the
    plan row is left to the watcher that holds it, so it is never done twice over.
    """
    stored = store_blobs(workspace, artefacts)
    now = workspace.clock.now()
    with _writing(workspace) as session:
        capture = Capture(
            **{name: value for name, value in asdict(facts).items() if name != "observations"},
            observations=facts.observations.to_json(),
        )
        capture.artefacts = artefact_rows(artefacts, stored, now)
        session.add(capture)
        session.flush()
        data = {
            "capture": capture.to_record(),
            "artefacts": [row.to_record() for row in capture.artefacts],
        }
        if planned_attempt_id is not None:
            if session.get(PlannedAttempt, planned_attempt_id) is None:
                raise NotFound(f"tentative planifiée n° {planned_attempt_id} inconnue")
            still_ours = PlannedAttempt.id == planned_attempt_id
            if claimed_by is not None:
                still_ours &= (PlannedAttempt.status == "running") & (PlannedAttempt.claimed_by == claimed_by)
            done = session.execute(
                update(PlannedAttempt).where(still_ours).values(status="done", capture_id=capture.id)
            ).rowcount
            data["planned_attempt_id" if done else "planned_attempt_claim_lost"] = planned_attempt_id
        journal.append(session, "capture.recorded", data, now)
    return capture


@contextmanager
def _writing(workspace: Workspace) -> Iterator[Session]:
    """`workspace.writing()`, with a database that cannot write (full disk …) said as one StoreError
    line; the transaction is rolled back, so nothing of the record is kept."""
    try:
        with workspace.writing() as session:
            yield session
    except OperationalError as exc:
        code = getattr(exc.orig, "sqlite_errorcode", None)
        reason = _DATABASE_REASONS.get(code & 0xFF if code else 0) or str(exc.orig).splitlines()[0]
        raise StoreError(f"enregistrement impossible dans la base de données : {reason}") from exc


def add_correction(workspace: Workspace, refers_to_seq: int, note: str) -> JournalEntry:
    """A correction is a new entry that points at the one it corrects; nothing is rewritten."""
    note = note.strip()
    if not note:
        raise BadInput("une correction doit dire ce qu'elle corrige")
    with workspace.writing() as session:
        if session.get(JournalEntry, refers_to_seq) is None:
            raise NotFound(f"entrée du journal n° {refers_to_seq} inconnue")
        entry = journal.append(
            session,
            "correction",
            {"refers_to_seq": refers_to_seq, "note": note},
            workspace.clock.now(),
        )
    return entry
