"""Purge: the applicant asks that their personal data be erased (`preuves case purge CASE --yes`).

What goes: the applicant's identity (the `applicants` row), the files of the case's letters, of its
events (proofs of a phone call, a visit …) and of the applicant's own pièces (identity documents, titre
de séjour …), and the files of the attempts on its page when no other case waits on that page — each
file only if no other case's row still points to it. The plan of a page no one else waits on is cancelled.

The case's personal text (its label and notes, its letters' subjects, senders and recipients, its files'
names, its pièces' labels, its events' outcomes) is sealed with the case's key (see sealing.py): the purge
destroys the key, and that text reads « effacé » everywhere. A case created before sealing existed keeps the
text written before in clear, in the rows and the journal (only what it was given since is sealed, with a key
journaled for it): the purge says so (`Purge.clear_text_kept`).

The dossiers built by the dashboard and waiting in `exports/` to be downloaded go too.

What stays: the rows (dates, states, hashes, sizes) and the journal, which cannot forget, with the sealed text
no one can read any more. The purge itself is a journal entry ("case.purged") naming every file it erased and
the key it destroys, recorded *before* they go: if the purge is interrupted, running it again finishes it, and
`verify` explains the missing files by that entry instead of reporting them. Then SQLite's file is vacuumed
and its write-ahead log emptied, so that no copy of the erased identity stays in their free pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from evidence import journal
from evidence.case_status import purge_facts
from evidence.database import SQLITE_BUSY_TIMEOUT_MS
from evidence.errors import BadInput
from evidence.models import (
    Applicant,
    ApplicantPiece,
    Artefact,
    Capture,
    Case,
    CaseEvent,
    JournalEntry,
    Letter,
    PlannedAttempt,
)
from evidence.names import PURGE_KIND
from evidence.records import case_keys, find_case
from evidence.sealing import is_sealed
from evidence.workspace import EXPORTS_DIR, Workspace

CHECKPOINT_WAIT_MS = 1000


@dataclass(frozen=True)
class Purge:
    """A purge as its journal entry records it."""

    seq: int
    recorded_at: datetime
    case_id: int
    artefact_ids: frozenset[int]
    blobs: frozenset[str]
    applicant_id: int | None
    plan_cancelled: int
    key_ids: tuple[str, ...]  # the case's keys, destroyed
    clear_text_kept: bool  # a case from before sealing: its label, notes and first letters stay in clear

    def to_json(self) -> dict[str, Any]:
        """What `status` and `case list` say of it: the journal entry and when."""
        return purge_facts(self.seq, self.recorded_at)

    @classmethod
    def from_entry(cls, entry: JournalEntry) -> Purge:
        data = json.loads(entry.payload)["data"]
        return cls(
            seq=entry.seq,
            recorded_at=entry.recorded_at,
            case_id=data["case_id"],
            artefact_ids=frozenset(data["artefact_ids"]),
            blobs=frozenset(data["blobs"]),
            applicant_id=data["applicant_id"],
            plan_cancelled=data["plan_cancelled"],
            key_ids=tuple(data.get("keys_destroyed", ())),
            clear_text_kept=data.get("clear_text_kept", True),
        )


@dataclass(frozen=True)
class PurgeResult:
    purge: Purge
    files_removed: int
    already_purged: bool
    log_emptied: bool  # False: a reader kept SQLite's write-ahead log open; it empties at its next checkpoint


def purges(session: Session) -> dict[int, Purge]:
    """Every purge recorded in the journal, by case id."""
    entries = session.scalars(select(JournalEntry).where(JournalEntry.kind == PURGE_KIND).order_by(JournalEntry.seq))
    return {purge.case_id: purge for purge in map(Purge.from_entry, entries)}


def open_case(session: Session, reference: str) -> Case:
    """A case by its number or label, as `find_case` finds it, that may still take new evidence:
    a purged case takes no new attempt, plan, letter or dossier, since its evidence is gone."""
    case = find_case(session, reference)
    purge = purges(session).get(case.id)
    if purge is not None:
        raise BadInput(
            f"le dossier n° {case.id} a été purgé (entrée n° {purge.seq} du journal) : "
            "ses fichiers et l'identité du demandeur ont été effacés"
        )
    return case


def purge_case(workspace: Workspace, case_reference: str) -> PurgeResult:
    """Record the purge of a case, then erase its files (see the module's docstring)."""
    now = workspace.clock.now()
    with workspace.writing() as session:
        case = find_case(session, case_reference)
        purge = purges(session).get(case.id)
        already = purge is not None
        if purge is None:
            purge = _record(session, case, now)
    removed = sum(workspace.blobs.remove(sha256) for sha256 in sorted(purge.blobs))
    for archive in (workspace.home / EXPORTS_DIR).glob(f"dossier-{purge.case_id}-*.zip"):
        archive.unlink(missing_ok=True)  # a dossier built by the dashboard, not downloaded yet
    for key_id in purge.key_ids:
        workspace.keys.destroy(key_id)
    return PurgeResult(purge, removed, already, _forget_freed_pages(workspace))


def _forget_freed_pages(workspace: Workspace) -> bool:
    """Rewrite SQLite's file without its free pages (where a row deleted before `secure_delete` was on may
    linger), then empty its write-ahead log (which holds the pages as they were before the purge).
    False when a reader holds the log (a watcher, the dashboard): it empties at the next checkpoint.
    PostgreSQL keeps deleted rows until its own vacuum; docs/security.md says what a server keeps."""
    if workspace.engine.dialect.name != "sqlite":
        return True
    connection = workspace.engine.raw_connection()
    cursor = connection.cursor()
    try:
        cursor.execute("VACUUM")
        # A truncating checkpoint waits for the readers: a second, not the writers' minute.
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        connection.close()
    return not busy


def _record(session: Session, case: Case, now: datetime) -> Purge:
    shared_page = session.scalar(
        select(func.count()).select_from(Case).where(Case.target_id == case.target_id, Case.id != case.id)
    )
    parts = [
        select(Artefact.id).join(Letter).where(Letter.case_id == case.id),
        select(Artefact.id).join(CaseEvent, Artefact.event_id == CaseEvent.id).where(CaseEvent.case_id == case.id),
        select(Artefact.id).join(ApplicantPiece).where(ApplicantPiece.case_id == case.id),
    ]
    if not shared_page:
        parts.append(select(Artefact.id).join(Capture).where(Capture.target_id == case.target_id))
    owned = union(*parts)
    artefact_ids = set(session.scalars(owned))
    owned_blobs = select(Artefact.sha256).where(Artefact.id.in_(owned))
    mine = set(session.scalars(owned_blobs))
    needed_elsewhere = set(
        session.scalars(select(Artefact.sha256).where(Artefact.sha256.in_(owned_blobs), Artefact.id.not_in(owned)))
    )
    applicant = session.scalars(select(Applicant).where(Applicant.case_id == case.id)).first()
    cancelled = 0
    if not shared_page:
        for planned in session.scalars(
            select(PlannedAttempt).where(
                PlannedAttempt.target_id == case.target_id, PlannedAttempt.status.in_(("planned", "reminded"))
            )
        ):
            planned.status = "cancelled"
            cancelled += 1
    data: dict[str, Any] = {
        "case_id": case.id,
        "reason": "effacement demandé par l'utilisateur",
        "artefact_ids": sorted(artefact_ids),
        "blobs": sorted(mine - needed_elsewhere),
        "applicant_id": applicant.id if applicant else None,
        "plan_cancelled": cancelled,
        "keys_destroyed": case_keys(session, case),
        "clear_text_kept": not is_sealed(case.label),
    }
    if applicant is not None:
        session.delete(applicant)
    entry = journal.append(session, PURGE_KIND, data, now)
    return Purge.from_entry(entry)
