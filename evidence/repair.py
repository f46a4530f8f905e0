"""`preuves repair`: rebuild a lost or damaged database from the journal's copy and the blobs, or,
the database being sound, a lost or damaged copy from the database. Each repair is a journal entry
("workspace.repaired") saying what was rebuilt, from what, and what could not be.

Rebuilt from the copy: every entry the copy confirms, as it was (same numbers, same hashes), and
the rows the journal describes in full — pages, cases, attempts, letters, files, time anchors,
organisations and which case is whose. Not rebuilt, for the journal does not hold them: the
applicants' identities (it keeps only their hash), user accounts (passwords), capture plans and
the queue of time-stamp requests. Entries written in the copy but never confirmed (a record cut
short by a crash, whose commit cannot be known) are named in the repair's entry, not restored.

Nothing is deleted: the old database file (a damaged copy likewise) is set aside under a new name,
its SHA-256 in the repair's entry. A SQLite database is rebuilt beside the old one and renamed into
place; a PostgreSQL one is rebuilt only into an empty database (the tool never drops one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Engine, func, insert, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from evidence import copy_check, journal, schema
from evidence.account_models import CaseOrganisation, Organisation
from evidence.anchor_models import Anchor
from evidence.blobs import fsync_dir, sha256_file
from evidence.database import make_engine, make_session_factory, require_reachable, write_session
from evidence.errors import EvidenceDamaged, WorkspaceError
from evidence.integrity import check_database, damage_reason
from evidence.journal_copy import COPY_NAME, CopiedEntry, CopyState, JournalCopyWriter, read_copy
from evidence.journal_records import RECORD_KEYS, JournalRecords
from evidence.models import ApplicantPiece, Artefact, Capture, Case, CaseEvent, JournalEntry, Letter, Target, UTCDateTime
from evidence.observations import PageObservations
from evidence.purge import PURGE_KIND
from evidence.workspace import CONFIG_NAME, DATABASE_NAME, database_url, open_workspace, resolve_home, sqlite_file

REPAIR_KIND = "workspace.repaired"
SET_ASIDE = "mis-de-cote"
SCRATCH_SUFFIX = ".reconstruction"
# The rows rebuilt from their journal descriptions, parents first.
REBUILT = (Target, Case, Letter, CaseEvent, ApplicantPiece, Capture, Artefact, Anchor)
REBUILT_KEYS = {**RECORD_KEYS, "anchor": "anchors"}
BATCH = 1000


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong, if anything: `database` is "sound", "missing", "damaged", "behind" (it lacks
    entries the copy confirms), "other" (not the database of the copy) or "diverged"."""

    database: str
    reason: str
    copy: CopyState
    comparison: copy_check.CopyComparison | None = None

    @property
    def copy_sound(self) -> bool:
        return self.copy.exists and self.comparison is not None and not self.comparison.problems


@dataclass
class RepairResult:
    rebuilt: str | None  # "database", "journal_copy", or None when there was nothing to repair
    reason: str
    entry: journal.JournalHead | None = None  # the repair's own entry
    entries: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    not_rebuilt: dict[str, list[Any]] = field(default_factory=dict)
    unconfirmed: int = 0
    set_aside: list[str] = field(default_factory=list)


def diagnose(home: str | Path | None) -> Diagnosis:
    root = _workspace_root(home)
    url = database_url(root)
    copy = read_copy(root / COPY_NAME)
    database_file = sqlite_file(root, url)
    if database_file is not None and (not database_file.is_file() or database_file.stat().st_size == 0):
        return Diagnosis("missing", f"base {DATABASE_NAME} absente ou vide", copy)
    engine = make_engine(url)
    try:
        if database_file is None:
            require_reachable(engine)  # a server that does not answer is no damage to repair
        return _diagnose_database(engine, copy)
    except DatabaseError as exc:
        return Diagnosis("damaged", f"base endommagée : {damage_reason(exc)}", copy)
    finally:
        engine.dispose()


def _diagnose_database(engine: Engine, copy: CopyState) -> Diagnosis:
    if schema.current_revision(engine) is None:
        return Diagnosis("missing", "base de données vide", copy)
    with engine.connect() as connection:
        damage = check_database(connection).damage
        if damage:
            return Diagnosis("damaged", "base endommagée : " + "; ".join(damage), copy)
        hashes = {seq: digest for seq, digest in connection.execute(select(JournalEntry.seq, JournalEntry.entry_hash))}
        first = connection.scalar(select(JournalEntry.payload).where(JournalEntry.seq == 1))

    def hashes_now(low: int, high: int) -> dict[int, str]:
        with engine.connect() as again:
            rows = again.execute(select(JournalEntry.seq, JournalEntry.entry_hash).where(JournalEntry.seq.between(low, high)))
            return {seq: digest for seq, digest in rows}

    expected = bool(first and json.loads(first)["data"].get("journal_copy"))
    comparison = copy_check.compare(copy, hashes, expected, hashes_now)
    if comparison.differs_from == 1:
        return Diagnosis("other", "la base n'est pas celle dont la copie garde le journal", copy, comparison)
    if comparison.differs_from is not None:
        return Diagnosis("diverged", f"la base et la copie diffèrent à partir de l'entrée n° {comparison.differs_from}", copy, comparison)
    if comparison.lost:
        return Diagnosis("behind", f"{len(comparison.lost)} entrée(s) confirmée(s) par la copie manquent dans la base", copy, comparison)
    return Diagnosis("sound", "base saine", copy, comparison)


def repair_workspace(home: str | Path | None, now: datetime | None = None) -> RepairResult:
    """Repair what `diagnose` finds; refuse when it cannot tell which side to trust."""
    now = now or datetime.now(UTC)
    root = _workspace_root(home)
    found = diagnose(root)
    if found.database == "sound":
        if found.copy_sound:
            return RepairResult(None, "rien à réparer : la base et la copie du journal concordent")
        return _rebuild_copy(root, found, now)
    if found.database == "diverged":
        raise EvidenceDamaged(
            f"{found.reason} : l'une a été réécrite et rien ne dit laquelle ; comparez-les à une tête du journal "
            "notée plus tôt (« preuves verify --head ») avant toute réparation"
        )
    if not found.copy.exists or not found.copy.confirmed:
        raise EvidenceDamaged(f"{found.reason}, et pas de copie du journal ({COPY_NAME}) à partir de laquelle la reconstruire")
    if found.copy.problems:
        raise EvidenceDamaged(
            f"{found.reason}, et la copie du journal est elle-même abîmée ({found.copy.problems[0]}) : "
            "rien n'est reconstruit"
        )
    return _rebuild_database(root, found, now)


# --------------------------------------------------------------------------- the copy, from the database


def _rebuild_copy(root: Path, found: Diagnosis, now: datetime) -> RepairResult:
    """Set the old copy aside; the repair's entry then starts a new copy with the whole journal."""
    reason = _copy_reason(found)
    set_aside = _set_aside([root / COPY_NAME], now)
    workspace = open_workspace(root)
    try:
        with workspace.writing() as session:
            entry = journal.append(
                session,
                REPAIR_KIND,
                {"rebuilt": "journal_copy", "reason": reason, "from": "database", "set_aside": set_aside},
                now,
            )
    finally:
        workspace.close()
    return RepairResult(
        "journal_copy", reason, journal.JournalHead(entry.seq, entry.entry_hash), entry.seq - 1,
        set_aside=[item["file"] for item in set_aside],
    )


def _copy_reason(found: Diagnosis) -> str:
    if not found.copy.exists:
        return "copie absente"
    if found.copy.problems:
        return "copie abîmée : " + found.copy.problems[0]
    missing = found.comparison.missing_from_copy if found.comparison else 0
    return f"copie coupée : {missing} entrée(s) de la base y manquent" if missing else "copie incomplète"


# --------------------------------------------------------------------------- the database, from the copy


def _rebuild_database(root: Path, found: Diagnosis, now: datetime) -> RepairResult:
    url = database_url(root)
    database_file = sqlite_file(root, url)
    result = RepairResult("database", found.reason, entries=found.copy.confirmed, unconfirmed=len(found.copy.unconfirmed_entries))
    if database_file is None:
        engine = make_engine(url)
        try:
            _require_empty(engine)
            schema.upgrade(engine)
            _fill(engine, root, found.copy, result, [], now)
        finally:
            engine.dispose()
        return result
    scratch = database_file.with_name(database_file.name + SCRATCH_SUFFIX)
    for leftover in _with_sidecars(scratch):  # an earlier repair's unfinished rebuild: derived data only
        leftover.unlink(missing_ok=True)
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    old = [path for path in _with_sidecars(database_file) if path.exists()]
    planned = [_aside_name(path, now) for path in old]
    described = [_describe_file(path, aside) for path, aside in zip(old, planned, strict=True)]
    engine = make_engine(f"sqlite:///{scratch}")
    try:
        schema.upgrade(engine)
        _fill(engine, root, found.copy, result, described, now)
    finally:
        engine.dispose()  # the last connection checkpoints the write-ahead log into the file
    for path, aside in zip(old, planned, strict=True):
        os.replace(path, aside)
    os.replace(scratch, database_file)
    fsync_dir(root)
    result.set_aside = [aside.name for aside in planned]
    return result


def _require_empty(engine: Engine) -> None:
    """PostgreSQL: the tool rebuilds into an empty database only; it never empties one."""
    if schema.current_revision(engine) is None:
        return
    with engine.connect() as connection:
        entries = connection.scalar(select(func.count()).select_from(JournalEntry))
    if entries:
        raise WorkspaceError(
            "la base PostgreSQL n'est pas vide : créez une base vide, désignez-la par PREUVES_DATABASE_URL, "
            "puis relancez « preuves repair » (l'ancienne base reste telle quelle)"
        )


def _fill(
    engine: Engine, root: Path, copy: CopyState, result: RepairResult, set_aside: list[dict[str, Any]], now: datetime
) -> None:
    """One transaction: the confirmed entries as they were, the rows they describe, the repair's entry."""
    sessions = make_session_factory(engine)
    JournalCopyWriter(root / COPY_NAME).attach(sessions)
    with write_session(sessions) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(715271)"))  # the journal's writers' lock
        described = _insert_entries(session, copy.confirmed_entries)
        result.rows = _insert_rows(session, described)
        result.not_rebuilt = described.not_rebuilt()
        if engine.dialect.name == "postgresql":
            _advance_sequences(session)
        entry = journal.append(
            session,
            REPAIR_KIND,
            {
                "rebuilt": "database",
                "reason": result.reason,
                "from": COPY_NAME,
                "entries": result.entries,
                "rows": result.rows,
                "not_rebuilt": result.not_rebuilt,
                "unconfirmed_entries": [
                    {"seq": e.seq, "kind": e.kind, "entry_hash": e.entry_hash} for e in copy.unconfirmed_entries
                ],
                "set_aside": set_aside,
            },
            now,
        )
    result.entry = journal.JournalHead(entry.seq, entry.entry_hash)


@dataclass
class _Described:
    """What the copied entries describe, gathered as they are inserted."""

    records: JournalRecords = field(default_factory=lambda: JournalRecords(keys=REBUILT_KEYS))
    organisations: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    case_organisation: dict[int, str] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)
    planned_targets: set[int] = field(default_factory=set)
    erased_applicants: set[int] = field(default_factory=set)

    def read(self, entry: CopiedEntry, data: dict[str, Any]) -> None:
        self.records.add(entry.seq, data)
        if entry.kind == "organisation.created":
            self.organisations[data["id"]] = (data["organisation"], datetime.fromisoformat(entry.recorded_at))
        elif entry.kind == "case.created" and data.get("organisation"):
            self.case_organisation[data["case"]["id"]] = data["organisation"]
        elif entry.kind == "user.created":
            self.users.append(data["user"])
        elif entry.kind == "plan.created":
            self.planned_targets.add(data["target_id"])
        elif entry.kind == PURGE_KIND and data.get("applicant_id") is not None:
            self.erased_applicants.add(data["applicant_id"])
        elif entry.kind == REPAIR_KIND:
            self.erased_applicants.update(item["id"] for item in data.get("not_rebuilt", {}).get("applicants", []))

    def applicants(self) -> list[dict[str, int]]:
        """The identities set and not erased: the journal holds only their hash."""
        return [
            {"id": record["id"], "case_id": record.get("case_id")}
            for record in self.rows_of("applicants")
            if record["id"] not in self.erased_applicants
        ]

    def rows_of(self, table: str) -> Iterator[dict[str, Any]]:
        for (kind, _), (_, record) in sorted(self.records.by_row.items()):
            if kind == table:
                yield record

    def not_rebuilt(self) -> dict[str, list[Any]]:
        return {"applicants": self.applicants(), "users": sorted(self.users), "plans_of_targets": sorted(self.planned_targets)}


def _insert_entries(session: Session, entries: list[CopiedEntry]) -> _Described:
    described = _Described()
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        rows = []
        for entry in batch:
            rows.append({**entry.line(), "recorded_at": datetime.fromisoformat(entry.recorded_at)})
            described.read(entry, json.loads(entry.payload)["data"])
        session.execute(insert(JournalEntry), rows)
    return described


def _insert_rows(session: Session, described: _Described) -> dict[str, int]:
    counts = {}
    for model in REBUILT:
        rows = [_values(model, record) for record in described.rows_of(model.__tablename__)]
        for start in range(0, len(rows), BATCH):
            session.execute(insert(model), rows[start : start + BATCH])
        counts[model.__tablename__] = len(rows)
    organisations = [
        {"id": org_id, "name": name, "created_at": created} for org_id, (name, created) in sorted(described.organisations.items())
    ]
    by_name = {name: org_id for org_id, (name, _) in described.organisations.items()}
    owners = [
        {"case_id": case_id, "organisation_id": by_name[name]}
        for case_id, name in sorted(described.case_organisation.items())
        if name in by_name
    ]
    for model, rows in ((Organisation, organisations), (CaseOrganisation, owners)):
        if rows:
            session.execute(insert(model), rows)
        counts[model.__tablename__] = len(rows)
    return counts


def _values(model: Any, record: dict[str, Any]) -> dict[str, Any]:
    """A row's column values from its journal description (times and dates back to Python values)."""
    values: dict[str, Any] = {}
    for column in model.__table__.columns:
        value = record.get(column.name)
        if isinstance(value, str) and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        values[column.name] = value
    if model is Capture:
        values["observations"] = PageObservations.from_record(record.get("observations")).to_json()
    return values


def _advance_sequences(session: Session) -> None:
    """PostgreSQL: rows inserted with their ids leave the id sequences behind; move them on."""
    for model in (*REBUILT, Organisation):
        table = model.__tablename__
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
        )


# --------------------------------------------------------------------------- files


def _workspace_root(home: str | Path | None) -> Path:
    root = resolve_home(home)
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(f"aucun espace de travail dans {root}")
    return root


def _with_sidecars(database_file: Path) -> list[Path]:
    return [database_file.with_name(database_file.name + suffix) for suffix in ("", "-wal", "-shm")]


def _aside_name(path: Path, now: datetime) -> Path:
    return path.with_name(f"{path.name}.{SET_ASIDE}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")


def _describe_file(path: Path, aside: Path) -> dict[str, Any]:
    digest, size = sha256_file(path)
    return {"file": aside.name, "was": path.name, "sha256": digest, "size": size}


def _set_aside(paths: list[Path], now: datetime) -> list[dict[str, Any]]:
    described = []
    for path in paths:
        if path.exists():
            aside = _aside_name(path, now)
            described.append(_describe_file(path, aside))
            os.replace(path, aside)
    if described:
        fsync_dir(paths[0].parent)
    return described
