"""Prove that nothing recorded was changed or removed.

`verify_workspace` first checks the database's own integrity (a damaged database is reported as
such and read no further), then re-hashes every blob, recomputes the hash chain, checks that every
row is described by a journal entry and every entry by its rows, and compares the journal with its
copy outside the database (`journal.jsonl`). Each problem names the item (capture or letter, with
its time), the file and what differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from evidence import copy_check, journal, triggers
from evidence.anchor_checks import verify_anchors
from evidence.blobs import sha256_file
from evidence.integrity import check_database, damage_reason
from evidence.journal_copy import read_copy
from evidence.journal_records import RECORD_KEYS, JournalRecords  # noqa: F401  (RECORD_KEYS: re-exported)
from evidence.localtime import paris_time
from evidence.models import Applicant, ApplicantPiece, Artefact, Capture, Case, CaseEvent, JournalEntry, Letter, Target
from evidence.artefact_kinds import artefact_label
from evidence.problems import Problem, readable_rows
from evidence.sealed_column import opened
from evidence.sealing import KEYS_DIR, KeyStore
from evidence.purge import PURGE_KIND, Purge
from evidence.records import case_keys, find_case
from evidence.repair import REPAIR_KIND
from evidence.workspace import Workspace

@dataclass
class VerifyReport:
    head: journal.JournalHead = journal.JournalHead(0, journal.GENESIS_HASH)
    entries: int = 0
    blobs_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    # What was erased on purpose (a purge the user asked for), so its absence is no problem.
    purges: list[str] = field(default_factory=list)
    purged_files: int = 0
    # What could not be checked, or is worth knowing and is no problem (no journal copy yet …).
    notes: list[str] = field(default_factory=list)
    # The database itself is damaged: nothing else was read from it.
    damaged: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "journal_head": {"seq": self.head.seq, "hash": self.head.entry_hash},
            "entries": self.entries,
            "blobs_checked": self.blobs_checked,
            "problems": [problem.to_json() for problem in self.problems],
            "orphans": self.orphans,
            "purges": self.purges,
            "notes": self.notes,
            "damaged": self.damaged,
        }


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
    report = VerifyReport()
    try:
        records = _check_database(workspace, report, case_reference, noted_head, progress)
    except DatabaseError as exc:
        _damaged(report, damage_reason(exc))
        return report
    if records is None:
        return report
    _compare_with_copy(workspace, records, report)
    report.problems.extend(verify_anchors(workspace))
    return report


def _check_database(
    workspace: Workspace,
    report: VerifyReport,
    case_reference: str | None,
    noted_head: journal.JournalHead | None,
    progress: Callable[[str, int, int], None],
) -> JournalRecords | None:
    """Every check of the database, on one snapshot; None when the database itself is damaged."""
    with workspace.reading() as session:
        integrity = check_database(session.connection())
        if integrity.damage:
            _damaged(report, "; ".join(integrity.damage))
            return None
        if integrity.note:
            report.notes.append(integrity.note)
        report.head = journal.head(session)
        missing = triggers.missing_triggers(session.connection())
        if missing:
            report.problems.append(
                Problem("base de données", "protections supprimées : " + ", ".join(missing))
            )
        records = _check_chain(session, report)
        _check_origin(records, report)
        if noted_head is not None:
            _check_noted_head(session, noted_head, report)
        purged = _read_purges(session, report)
        not_rebuilt = _read_repairs(session, report)
        scope = _scope(session, case_reference, records)
        artefacts = _check_rows(session, scope, records, report, purged, not_rebuilt)
        _check_keys(session, workspace.keys, scope, purged, report)
        _check_blobs(workspace, artefacts, report, purged, progress)
        if case_reference is None:
            referenced = set(session.scalars(select(Artefact.blob_path)))
            report.orphans = [p for p in workspace.blobs.iter_relpaths() if p not in referenced]
    return records


def _damaged(report: VerifyReport, reason: str) -> None:
    report.damaged = True
    report.problems.append(
        Problem(
            "base de données",
            f"base endommagée ({reason}) : rien d'autre n'y a été lu ; {copy_check.REPAIR_DATABASE}",
        )
    )


def _check_origin(records: JournalRecords, report: VerifyReport) -> None:
    """A journal started over a folder that already held evidence files: their journal is lost."""
    before = records.first.get("files_before")
    if isinstance(before, int) and before > 0:
        report.problems.append(
            Problem(
                "journal",
                f"l'espace de travail a été créé à nouveau sur un dossier qui contenait déjà {before} fichier(s) "
                "de preuve : le journal qui les décrivait est perdu (base supprimée ou remplacée)",
            )
        )


def _compare_with_copy(workspace: Workspace, records: JournalRecords, report: VerifyReport) -> None:
    def hashes_now(first: int, last: int) -> dict[int, str]:
        with workspace.reading() as session:
            rows = session.execute(
                select(JournalEntry.seq, JournalEntry.entry_hash).where(JournalEntry.seq.between(first, last))
            )
            return {seq: digest for seq, digest in rows}

    found = copy_check.compare(
        read_copy(workspace.journal_copy), records.hashes, bool(records.first.get("journal_copy")), hashes_now
    )
    report.problems.extend(found.problems)
    report.notes.extend(found.notes)


def _check_chain(session: Session, report: VerifyReport) -> JournalRecords:
    records = JournalRecords()
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
            if entry.seq == 1 and isinstance(data, dict):
                records.first = data
        except (ValueError, KeyError, TypeError):
            report.problems.append(Problem(item, "contenu illisible"))
        report.entries += 1
        records.hashes[entry.seq] = entry.entry_hash
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    return records


@dataclass(frozen=True)
class _Scope:
    """Which rows a check covers: all of them, or those of one case."""

    case_id: int | None = None
    target_id: int | None = None
    capture_ids: frozenset[int] = frozenset()
    letter_ids: frozenset[int] = frozenset()
    event_ids: frozenset[int] = frozenset()
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
        if table in ("letters", "applicants", "case_events", "applicant_pieces"):
            return record.get("case_id") == self.case_id
        return (
            record.get("capture_id") in self.capture_ids
            or record.get("letter_id") in self.letter_ids
            or record.get("event_id") in self.event_ids
            or record.get("applicant_piece_id") in self.applicant_piece_ids
        )


def _scope(session: Session, case_reference: str | None, records: JournalRecords) -> _Scope:
    if case_reference is None:
        return _Scope()
    case = find_case(session, case_reference)
    known = [(table, record) for (table, _), (_, record) in records.by_row.items()]
    capture_ids = {r["id"] for t, r in known if t == "captures" and r.get("target_id") == case.target_id}
    capture_ids |= set(session.scalars(select(Capture.id).where(Capture.target_id == case.target_id)))
    letter_ids = {r["id"] for t, r in known if t == "letters" and r.get("case_id") == case.id}
    letter_ids |= set(session.scalars(select(Letter.id).where(Letter.case_id == case.id)))
    event_ids = {r["id"] for t, r in known if t == "case_events" and r.get("case_id") == case.id}
    event_ids |= set(session.scalars(select(CaseEvent.id).where(CaseEvent.case_id == case.id)))
    piece_ids = {r["id"] for t, r in known if t == "applicant_pieces" and r.get("case_id") == case.id}
    piece_ids |= set(session.scalars(select(ApplicantPiece.id).where(ApplicantPiece.case_id == case.id)))
    return _Scope(
        case.id, case.target_id, frozenset(capture_ids), frozenset(letter_ids), frozenset(event_ids),
        frozenset(piece_ids),
    )


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
        if record.get("capture_id") is not None:
            owner = f"capture {record.get('capture_id')}"
        elif record.get("event_id") is not None:
            owner = f"événement {record.get('event_id')}"
        elif record.get("applicant_piece_id") is not None:
            owner = f"pièce du demandeur {record.get('applicant_piece_id')}"
        else:
            owner = f"courrier {record.get('letter_id')}"
        return f"fichier {number} ({artefact_label(str(record.get('kind')))}, {owner})"
    if table == "cases":
        return f"dossier {number} « {record.get('label')} »"
    if table == "targets":
        return f"page surveillée {number} ({record.get('url')})"
    if table == "applicants":
        return f"identité du demandeur (dossier {record.get('case_id')})"
    if table == "case_events":
        return f"événement {number} du {record.get('event_date')} ({record.get('kind')})"
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
    elif not found.entry_hash.startswith(noted.entry_hash):
        report.problems.append(
            Problem(item, f"empreinte {found.entry_hash} au lieu de {noted.entry_hash} : le journal a été réécrit depuis")
        )
    elif len(noted.entry_hash) < len(found.entry_hash):
        report.notes.append(
            f"tête du journal notée en abrégé : seuls ses {len(noted.entry_hash)} premiers chiffres ont pu être "
            "comparés ; notez l'empreinte entière pour une preuve complète"
        )


def _read_repairs(session: Session, report: VerifyReport) -> set[int]:
    """The repairs of the journal, as notes; returns the applicants whose identity a rebuilt
    database could not hold (the journal keeps only its hash), so that their absence is explained."""
    not_rebuilt: set[int] = set()
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.kind == REPAIR_KIND)):
        data = json.loads(entry.payload)["data"]
        if data.get("rebuilt") == "database":
            missing = data.get("not_rebuilt", {}).get("applicants", [])
            not_rebuilt.update(item["id"] for item in missing)
            cases = ", ".join(str(item["case_id"]) for item in missing)
            lost = f" ; identité du demandeur à saisir de nouveau (dossier(s) {cases})" if missing else ""
            report.notes.append(
                f"base reconstruite le {paris_time(entry.recorded_at)} à partir de la copie du journal (entrée n° {entry.seq}){lost}"
            )
    return not_rebuilt


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
                select(Artefact.id)
                .outerjoin(Capture)
                .outerjoin(Letter)
                .outerjoin(CaseEvent, Artefact.event_id == CaseEvent.id)
                .outerjoin(ApplicantPiece, Artefact.applicant_piece_id == ApplicantPiece.id)
                .where(
                    (Capture.target_id == case.target_id)
                    | (Letter.case_id == case.id)
                    | (CaseEvent.case_id == case.id)
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
    session: Session,
    scope: _Scope,
    records: JournalRecords,
    report: VerifyReport,
    purged: list[Purge],
    not_rebuilt: set[int],
) -> list[Artefact]:
    """Compare every row in scope with its journal description; return the artefacts seen."""
    seen: set[tuple[str, int]] = set()
    artefacts: list[Artefact] = []
    dialect = session.get_bind().dialect
    for model in (Target, Case, Capture, Letter, CaseEvent, Artefact, Applicant, ApplicantPiece):
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
                    Problem(describe(table, opened(dialect, actual)), "absent du journal (ligne ajoutée hors de l'outil ?)")
                )
                continue
            seq, expected = found
            for name in sorted(set(actual) | set(expected)):
                if actual.get(name) != expected.get(name):
                    shown, journaled = opened(dialect, actual), opened(dialect, expected)
                    report.problems.append(
                        Problem(
                            describe(table, shown),
                            f"champ « {name} » modifié : {shown.get(name)!r} dans la base, "
                            f"{journaled.get(name)!r} dans le journal (entrée n° {seq})",
                        )
                    )
    erased = {("applicants", purge.applicant_id) for purge in purged}
    erased |= {("applicants", applicant_id) for applicant_id in not_rebuilt}
    for (table, row_id), (seq, record) in sorted(records.by_row.items()):
        if (table, row_id) not in seen and (table, row_id) not in erased and scope.includes(table, record):
            report.problems.append(
                Problem(
                    describe(table, opened(dialect, record)),
                    f"décrit par l'entrée n° {seq} du journal mais absent de la base (supprimé ?)",
                )
            )
    return artefacts


def _check_keys(session: Session, keys: KeyStore, scope: _Scope, purged: list[Purge], report: VerifyReport) -> None:
    """Each case's key opens its text: a key lost or replaced makes the text unreadable as surely as a
    purge, but no one asked for it. A purged case's key still there is a purge left unfinished."""
    destroyed = {purge.case_id: purge for purge in purged}
    for case in readable_rows(session, Case, lambda _id, _exc: None):  # an unreadable row: said by _check_rows
        if scope.includes("cases", {"id": case.id}):
            for key_id in case_keys(session, case):
                _check_key(case, key_id, keys, destroyed.get(case.id), report)


def _check_key(case: Case, key_id: str, keys: KeyStore, purge: Purge | None, report: VerifyReport) -> None:
    where = f"{KEYS_DIR}/{key_id}.key"
    if purge is not None:
        if keys.exists(key_id):
            report.notes.append(
                f"dossier {case.id} purgé (entrée n° {purge.seq} du journal) mais sa clé {where} "
                "est encore là : relancez « preuves case purge » pour finir l'effacement"
            )
    elif not keys.exists(key_id):
        report.problems.append(Problem(
            f"dossier {case.id}", f"clé de chiffrement absente ({where}) : ses textes personnels sont illisibles"
        ))
    elif getattr(case.label, "erased", False):
        report.problems.append(Problem(
            f"dossier {case.id}", f"la clé {where} n'ouvre pas ses textes : clé remplacée ou modifiée"
        ))


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
