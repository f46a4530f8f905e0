"""Prove that nothing recorded was changed or removed.

`verify_workspace` re-hashes every blob, recomputes the hash chain, and checks that every row is
described by a journal entry and every entry by its rows. Each problem names the item (capture or
letter, with its time), the file and what differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import journal, triggers
from evidence.anchor_checks import verify_anchors
from evidence.blobs import sha256_file
from evidence.localtime import paris_time
from evidence.models import Applicant, ApplicantPiece, Artefact, Capture, Case, JournalEntry, Letter, Target
from evidence.problems import Problem, readable_rows
from evidence.purge import PURGE_KIND, Purge
from evidence.records import find_case
from evidence.workspace import Workspace

# Keys of a journal entry's data that describe rows, and the table they describe.
RECORD_KEYS = {
    "target": "targets",
    "case": "cases",
    "capture": "captures",
    "letter": "letters",
    "artefacts": "artefacts",
    "applicant": "applicants",
    "applicant_piece": "applicant_pieces",
}


@dataclass
class VerifyReport:
    head: journal.JournalHead
    entries: int = 0
    blobs_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    # What was erased on purpose (a purge the user asked for), so its absence is no problem.
    purges: list[str] = field(default_factory=list)
    purged_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "journal_head": {"seq": self.head.seq, "hash": self.head.entry_hash},
            "entries": self.entries,
            "blobs_checked": self.blobs_checked,
            "problems": [
                {"item": p.item, "detail": p.detail, "file": p.file} for p in self.problems
            ],
            "orphans": self.orphans,
            "purges": self.purges,
        }


@dataclass
class _JournalRecords:
    """The last description of each row found in the journal: {(table, id): (seq, record)}."""

    by_row: dict[tuple[str, int], tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def add(self, seq: int, data: dict[str, Any]) -> None:
        for key, table in RECORD_KEYS.items():
            value = data.get(key)
            for record in value if isinstance(value, list) else [value] if value else []:
                if isinstance(record, dict) and isinstance(record.get("id"), int):
                    self.by_row[(table, record["id"])] = (seq, record)


def _no_progress(step: str, done: int, total: int) -> None:
    """Default progress callback: report nothing."""


def verify_workspace(
    workspace: Workspace,
    case_reference: str | None = None,
    noted_head: journal.JournalHead | None = None,
    progress: Callable[[str, int, int], None] = _no_progress,
) -> VerifyReport:
    """All checks read one snapshot of the database (one read transaction), so that a watcher
    recording at the same time can never make a row and its journal entry look out of step.

    `noted_head` is a head written down earlier (by a lawyer, in a filing): the journal must still
    hold that entry with that hash, which a journal rewritten or cut short since then does not.
    """
    with workspace.reading() as session:
        report = VerifyReport(head=journal.head(session))
        missing = triggers.missing_triggers(session.connection())
        if missing:
            report.problems.append(
                Problem("base de données", "protections supprimées : " + ", ".join(missing))
            )
        records = _check_chain(session, report)
        if noted_head is not None:
            _check_noted_head(session, noted_head, report)
        purged = _read_purges(session, report)
        scope = _scope(session, case_reference, records)
        artefacts = _check_rows(session, scope, records, report, purged)
        _check_blobs(workspace, artefacts, report, purged, progress)
        if case_reference is None:
            referenced = set(session.scalars(select(Artefact.blob_path)))
            report.orphans = [p for p in workspace.blobs.iter_relpaths() if p not in referenced]
    report.problems.extend(verify_anchors(workspace))
    return report


def _check_chain(session: Session, report: VerifyReport) -> _JournalRecords:
    records = _JournalRecords()
    expected_seq, prev_hash = 1, journal.GENESIS_HASH
    for entry in journal.iter_entries(session):
        item = f"entrée n° {entry.seq} du journal ({entry.kind})"
        if entry.seq != expected_seq:
            gap = (
                f"entrée n° {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"entrées n° {expected_seq} à {entry.seq - 1}"
            )
            report.problems.append(Problem(item, f"{gap} supprimée(s) ou déplacée(s)"))
        if entry.prev_hash != prev_hash:
            report.problems.append(
                Problem(item, "chaînage rompu : l'empreinte précédente ne correspond pas")
            )
        if journal.entry_hash(entry.prev_hash, entry.payload) != entry.entry_hash:
            report.problems.append(Problem(item, "contenu modifié : l'empreinte recalculée diffère"))
        try:
            payload = json.loads(entry.payload)
            data = payload["data"]
            if (payload["seq"], payload["kind"], payload["recorded_at"]) != (
                entry.seq,
                entry.kind,
                entry.recorded_at.isoformat(),
            ):
                report.problems.append(
                    Problem(item, "numéro, type ou date de l'entrée modifiés hors du contenu signé")
                )
            records.add(entry.seq, data)
        except (ValueError, KeyError, TypeError):
            report.problems.append(Problem(item, "contenu illisible"))
        report.entries += 1
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    return records


@dataclass(frozen=True)
class _Scope:
    """Which rows a check covers: all of them, or those of one case."""

    case_id: int | None = None
    target_id: int | None = None
    capture_ids: frozenset[int] = frozenset()
    letter_ids: frozenset[int] = frozenset()
    applicant_piece_ids: frozenset[int] = frozenset()

    def includes(self, table: str, record: dict[str, Any]) -> bool:
        if self.case_id is None:
            return True
        if table == "targets":
            return record.get("id") == self.target_id
        if table == "cases":
            return record.get("id") == self.case_id
        if table == "captures":
            return record.get("target_id") == self.target_id
        if table in ("letters", "applicants", "applicant_pieces"):
            return record.get("case_id") == self.case_id
        return (
            record.get("capture_id") in self.capture_ids
            or record.get("letter_id") in self.letter_ids
            or record.get("applicant_piece_id") in self.applicant_piece_ids
        )


def _scope(session: Session, case_reference: str | None, records: _JournalRecords) -> _Scope:
    if case_reference is None:
        return _Scope()
    case = find_case(session, case_reference)
    known = [(table, record) for (table, _), (_, record) in records.by_row.items()]
    capture_ids = {r["id"] for t, r in known if t == "captures" and r.get("target_id") == case.target_id}
    capture_ids |= set(session.scalars(select(Capture.id).where(Capture.target_id == case.target_id)))
    letter_ids = {r["id"] for t, r in known if t == "letters" and r.get("case_id") == case.id}
    letter_ids |= set(session.scalars(select(Letter.id).where(Letter.case_id == case.id)))
    piece_ids = {r["id"] for t, r in known if t == "applicant_pieces" and r.get("case_id") == case.id}
    piece_ids |= set(session.scalars(select(ApplicantPiece.id).where(ApplicantPiece.case_id == case.id)))
    return _Scope(case.id, case.target_id, frozenset(capture_ids), frozenset(letter_ids), frozenset(piece_ids))


def describe(table: str, record: dict[str, Any]) -> str:
    """How a row is named to the user: kind, number, and its time."""
    number = record.get("id")
    if table == "captures":
        started = record.get("started_at")
        return f"capture {number} du {_paris_text(started)}" if started else f"capture {number}"
    if table == "letters":
        day = record.get("letter_date")
        return f"courrier {number} du {day}" if day else f"courrier {number}"
    if table == "artefacts":
        owner = (
            f"capture {record.get('capture_id')}"
            if record.get("capture_id") is not None
            else f"pièce du demandeur {record.get('applicant_piece_id')}"
            if record.get("applicant_piece_id") is not None
            else f"courrier {record.get('letter_id')}"
        )
        return f"fichier {number} ({record.get('kind')}, {owner})"
    if table == "cases":
        return f"dossier {number} « {record.get('label')} »"
    if table == "targets":
        return f"page surveillée {number} ({record.get('url')})"
    if table == "applicants":
        return f"identité du demandeur (dossier {record.get('case_id')})"
    if table == "applicant_pieces":
        return f"pièce du demandeur {number} « {record.get('label')} »"
    return f"{table} {number}"


def _paris_text(value: Any) -> str:
    try:
        return paris_time(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def _report_unreadable(table: str, report: VerifyReport) -> Callable[[int, Exception], None]:
    def add(row_id: int, exc: Exception) -> None:
        report.problems.append(
            Problem(describe(table, {"id": row_id}), f"ligne illisible, valeur modifiée hors de l'outil ({exc})")
        )

    return add


def _check_noted_head(session: Session, noted: journal.JournalHead, report: VerifyReport) -> None:
    item = f"tête du journal notée (n° {noted.seq})"
    found = session.get(JournalEntry, noted.seq)
    if found is None:
        report.problems.append(Problem(item, "entrée absente : le journal a été tronqué ou renuméroté depuis"))
    elif found.entry_hash != noted.entry_hash:
        report.problems.append(
            Problem(item, f"empreinte {found.entry_hash} au lieu de {noted.entry_hash} : le journal a été réécrit depuis")
        )


def _read_purges(session: Session, report: VerifyReport) -> list[Purge]:
    """The purges of the journal, each checked to name only files of its own case."""
    found = []
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.kind == PURGE_KIND)):
        try:
            purge = Purge.from_entry(entry)
        except (ValueError, KeyError, TypeError):
            report.problems.append(Problem(f"entrée n° {entry.seq} du journal ({entry.kind})", "contenu illisible"))
            continue
        case = session.get(Case, purge.case_id)
        own = set() if case is None else set(
            session.scalars(
                select(Artefact.id).outerjoin(Capture).outerjoin(Letter).outerjoin(ApplicantPiece).where(
                    (Capture.target_id == case.target_id)
                    | (Letter.case_id == case.id)
                    | (ApplicantPiece.case_id == case.id)
                )
            )
        )
        if not purge.artefact_ids <= own:
            report.problems.append(
                Problem(
                    f"entrée n° {entry.seq} du journal ({entry.kind})",
                    f"la purge du dossier {purge.case_id} nomme des fichiers d'un autre dossier",
                )
            )
            continue
        found.append(purge)
        what = "l'identité du demandeur et " if purge.applicant_id is not None else ""
        report.purges.append(
            f"dossier {purge.case_id} purgé le {paris_time(purge.recorded_at)} à la demande de l'utilisateur "
            f"(entrée n° {purge.seq} du journal) : {what}{len(purge.blobs)} fichier(s) effacé(s)"
        )
    return found


def _check_rows(
    session: Session, scope: _Scope, records: _JournalRecords, report: VerifyReport, purged: list[Purge]
) -> list[Artefact]:
    """Compare every row in scope with its journal description; return the artefacts seen."""
    seen: set[tuple[str, int]] = set()
    artefacts: list[Artefact] = []
    for model in (Target, Case, Capture, Letter, Artefact, Applicant, ApplicantPiece):
        table = model.__tablename__
        unreadable = _report_unreadable(model.__tablename__, report)
        for row in readable_rows(session, model, unreadable):
            actual = row.to_record()
            if not scope.includes(table, actual):
                continue
            seen.add((table, row.id))
            if isinstance(row, Artefact):
                artefacts.append(row)
            found = records.by_row.get((table, row.id))
            if found is None:
                report.problems.append(
                    Problem(describe(table, actual), "absent du journal (ligne ajoutée hors de l'outil ?)")
                )
                continue
            seq, expected = found
            for name in sorted(set(actual) | set(expected)):
                if actual.get(name) != expected.get(name):
                    report.problems.append(
                        Problem(
                            describe(table, actual),
                            f"champ « {name} » modifié : {actual.get(name)!r} dans la base, "
                            f"{expected.get(name)!r} dans le journal (entrée n° {seq})",
                        )
                    )
    erased = {("applicants", purge.applicant_id) for purge in purged}
    for (table, row_id), (seq, record) in sorted(records.by_row.items()):
        if (table, row_id) not in seen and (table, row_id) not in erased and scope.includes(table, record):
            report.problems.append(
                Problem(
                    describe(table, record),
                    f"décrit par l'entrée n° {seq} du journal mais absent de la base (supprimé ?)",
                )
            )
    return artefacts


def _check_blobs(
    workspace: Workspace,
    artefacts: list[Artefact],
    report: VerifyReport,
    purged: list[Purge],
    progress: Callable[[str, int, int], None],
) -> None:
    erased = {artefact_id: purge.blobs for purge in purged for artefact_id in purge.artefact_ids}
    for done, artefact in enumerate(artefacts):
        progress("fichiers re-hachés", done, len(artefacts))
        item = describe("artefacts", artefact.to_record())
        path = workspace.home / artefact.blob_path
        if not path.is_file() and artefact.sha256 in erased.get(artefact.id, ()):
            report.purged_files += 1
            continue
        if not path.is_file():
            report.problems.append(Problem(item, "fichier supprimé", artefact.blob_path))
            continue
        digest, size = sha256_file(path)
        report.blobs_checked += 1
        if digest != artefact.sha256:
            report.problems.append(
                Problem(
                    item,
                    f"contenu modifié : SHA-256 recalculé {digest}, enregistré {artefact.sha256}",
                    artefact.blob_path,
                )
            )
        elif size != artefact.size:
            report.problems.append(
                Problem(item, f"taille {size} octets, enregistrée {artefact.size}", artefact.blob_path)
            )
