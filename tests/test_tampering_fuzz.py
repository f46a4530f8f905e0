"""Random tampering with a workspace: `verify` detects every change and names the changed item.

One template workspace (two cases, captures, letters with a proof, an applicant, a plan, a
correction) is copied for each mutation. A mutation flips, truncates, deletes or replaces a file;
edits, deletes, inserts or swaps a row; edits, deletes, inserts or swaps a journal entry; drops the
protective triggers. Row and journal changes are made the way a careful forger would: triggers
dropped, change made, triggers put back (so that only the data can give it away). Untouched
workspaces, built with random contents, must give no alarm at all.

A few changes cannot be seen by `verify` on its own, by design (see docs/reliability.md): they are
counted apart, never mixed with the detected ones.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from PIL import Image

from capture.plan import PlannedTime, save_plan
from evidence import triggers
from evidence.anchor_checks import APPEND_ONLY as ANCHOR_TABLES
from evidence.anchors import anchor_now
from evidence.applicants import ApplicantFields, set_applicant
from evidence.journal import GENESIS_HASH, canonical_json, entry_hash
from evidence.letters import LetterInput, add_proofs, record_letter
from evidence.models import APPEND_ONLY_TABLES
from evidence.records import CaptureFacts, NewArtefact, TargetSpec, add_case, add_correction, record_capture
from evidence.verify import RECORD_KEYS, VerifyReport, describe, verify_workspace
from evidence.workspace import init_workspace, open_workspace
from tests.tsa_helpers import LocalTsa, make_authority

TABLES = ("targets", "cases", "captures", "letters", "artefacts", "applicants", "anchors")
PROTECTED = APPEND_ONLY_TABLES + ANCHOR_TABLES  # the tables whose triggers refuse UPDATE and DELETE
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


# ------------------------------------------------------------------------------- building workspaces


def _png(rng: random.Random) -> bytes:
    image = Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def build_workspace(home: Path, rng: random.Random) -> None:
    """A workspace with random contents, written only through the tool's own functions, on 1 December 2026
    (the planned attempts of January 2027 are then still ahead)."""
    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tick=True):
        _fill_workspace(home, rng)


def _fill_workspace(home: Path, rng: random.Random) -> None:
    workspace, _ = init_workspace(home)
    try:
        labels = [f"Dossier {n}" for n in range(1, rng.randint(2, 3) + 1)]
        for number, label in enumerate(labels, start=1):
            url = f"https://www.prefecture-{number}.gouv.fr/booking/create/{1000 + number}"
            case, _ = add_case(workspace, label, TargetSpec(url, "ezbooking", "16161", f"Préfecture {number}"))
            start = datetime(2026, 10, 1, 7, 0, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 10_000))
            for attempt in range(1, rng.randint(2, 4) + 1):
                at = start + timedelta(hours=5 * attempt, seconds=rng.randint(0, 3600))
                state = rng.choice(["noslot", "noslot", "error", "captcha", "slots"])
                facts = CaptureFacts(
                    target_id=case.target_id, attempt_no=attempt, started_at=at,
                    finished_at=at + timedelta(seconds=rng.randint(2, 40)), url_requested=url,
                    final_url=url + "/2", http_status=rng.choice([200, 200, 502]), state=state,
                    platform="ezbooking", evidence_text=f"texte {rng.getrandbits(32)}",
                    error="délai dépassé" if state == "error" else None,
                )
                files = [
                    NewArtefact("screenshot", "image/png", data=_png(rng), filename="capture-brute.png"),
                    NewArtefact("html", "text/html", data=f"<p>{rng.getrandbits(64)}</p>".encode()),
                ]
                record_capture(workspace, facts, files)
            letter_file = home.parent / f"{home.name}-courrier-{number}.png"
            letter_file.write_bytes(_png(rng))
            letter = record_letter(
                workspace, label,
                LetterInput(letter_file, "sent", "lrar", date(2026, 9, rng.randint(1, 28)), tracking="1A0001"),
            )
            letter_file.write_bytes(_png(rng))
            add_proofs(workspace, label, letter.id, [letter_file])
            set_applicant(workspace, label, ApplicantFields(f"Personne {rng.getrandbits(16)}", date(1990, 1, 2)))
            days = [datetime(2027, 1, 4 + day, 9, 30, tzinfo=UTC) for day in range(3)]
            plan = [PlannedTime(at, "morning", "regular") for at in days]
            save_plan(workspace, case.target_id, plan)
        add_correction(workspace, 2, "Correction : précision sur la page surveillée.")
    finally:
        workspace.close()


# ------------------------------------------------------------------------------- the template's contents


@dataclass
class Contents:
    """What a mutation can aim at, read from a workspace's database."""

    rows: dict[str, list[int]]
    artefacts: dict[int, str]  # artefact id -> blob path
    applicant_cases: dict[int, int]  # applicant id -> case id
    entries: list[tuple[int, set[tuple[str, int]]]]  # seq -> rows it describes
    anchored: int  # entries 1 to `anchored` are under a timestamp token

    @classmethod
    def read(cls, home: Path) -> Contents:
        with sqlite3.connect(home / "preuves.sqlite3") as db:
            rows = {t: [r[0] for r in db.execute(f"SELECT id FROM {t} ORDER BY id")] for t in TABLES}
            rows = {table: ids for table, ids in rows.items() if ids}
            anchored = db.execute("SELECT coalesce(max(tree_size), 0) FROM anchors").fetchone()[0]
            artefacts = dict(db.execute("SELECT id, blob_path FROM artefacts"))
            applicant_cases = dict(db.execute("SELECT id, case_id FROM applicants"))
            entries = []
            for seq, payload in db.execute("SELECT seq, payload FROM journal_entries ORDER BY seq"):
                data = json.loads(payload)["data"]
                described = set()
                for key, table in RECORD_KEYS.items():
                    value = data.get(key)
                    for record in value if isinstance(value, list) else [value] if value else []:
                        described.add((table, record["id"]))
                entries.append((seq, described))
        return cls(rows, artefacts, applicant_cases, entries, anchored)

    @property
    def last_seq(self) -> int:
        return self.entries[-1][0]


def row_item(table: str, row_id: int, case_id: int | None = None) -> str:
    """The start of the name `verify` gives a row (the rest depends on the row's, maybe changed, values).

    An applicant's identity is named after its case (`case_id`).
    """
    prefixes = {
        "targets": f"page surveillée {row_id} (", "cases": f"dossier {row_id} « ",
        "captures": f"capture {row_id} du ", "letters": f"courrier {row_id} du ",
        "artefacts": f"fichier {row_id} (", "anchors": f"ancrage n° {row_id} (",
    }
    return prefixes.get(table) or describe(table, {"id": row_id, "case_id": case_id})


def entry_item(seq: int) -> str:
    return f"entrée n° {seq} du journal"


# ------------------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Mutation:
    kind: str
    what: str
    named: tuple[str, ...]  # every one of these must start the item of some reported problem
    by_design: bool = False  # a change `verify` alone cannot see (docs/reliability.md)
    not_checked: bool = False  # a table `verify` does not check yet (reported, docs/reliability.md)


Mutator = Callable[[Path, Contents, random.Random], Mutation]


def _sql(home: Path, *statements: str | tuple[str, tuple]) -> None:
    """Change the database behind the tool's back: triggers dropped, change made, triggers restored."""
    db = sqlite3.connect(home / "preuves.sqlite3")
    try:
        for statement in triggers.drop_statements("sqlite", PROTECTED):
            db.execute(statement)
        for statement in statements:
            db.execute(*statement) if isinstance(statement, tuple) else db.execute(statement)
        for statement in triggers.create_statements("sqlite", PROTECTED):
            db.execute(statement)
        db.commit()
    finally:
        db.close()


def _writable(path: Path) -> Path:
    path.chmod(0o600)
    return path


def _blob(home: Path, contents: Contents, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    path = rng.choice(sorted(set(contents.artefacts.values())))
    named = tuple(row_item("artefacts", i) for i, p in contents.artefacts.items() if p == path)
    return path, named


def flip_byte(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    path, named = _blob(home, contents, rng)
    data = bytearray((home / path).read_bytes())
    position = rng.randrange(len(data))
    data[position] ^= 1 << rng.randrange(8)
    _writable(home / path).write_bytes(bytes(data))
    return Mutation("fichier : un bit inversé", f"{path} octet {position}", named)


def truncate(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    path, named = _blob(home, contents, rng)
    size = (home / path).stat().st_size
    keep = rng.randrange(size)
    with _writable(home / path).open("r+b") as handle:
        handle.truncate(keep)
    return Mutation("fichier : tronqué", f"{path} {size} → {keep} octets", named)


def delete_file(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    path, named = _blob(home, contents, rng)
    (home / path).unlink()
    return Mutation("fichier : supprimé", path, named)


def append_bytes(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    path, named = _blob(home, contents, rng)
    with _writable(home / path).open("ab") as handle:
        handle.write(rng.randbytes(rng.randint(1, 100)))
    return Mutation("fichier : allongé", path, named)


def replace_file(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    path, named = _blob(home, contents, rng)
    other = rng.choice(sorted(set(contents.artefacts.values()) - {path}))
    _writable(home / path).write_bytes((home / other).read_bytes())
    return Mutation("fichier : remplacé par un autre", f"{path} ← {other}", named)


def _changed(value: object, declared: str, rng: random.Random) -> object:
    """Another value of the same kind as `value`, as SQLite stores it."""
    if value is None:
        return {"INTEGER": 1, "DATE": "2026-01-01", "DATETIME": "2026-01-01 00:00:00.000000"}.get(declared, "x")
    if isinstance(value, int):
        return 1 - value if declared == "BOOLEAN" else value + rng.randint(1000, 9999)  # clear of other rows
    text = str(value)
    if declared == "DATETIME":
        moved = datetime.strptime(text, SQLITE_DATETIME) + timedelta(seconds=rng.choice([-3600, -1, 1, 60]))
        return moved.strftime(SQLITE_DATETIME)
    if declared == "DATE":
        return (date.fromisoformat(text) + timedelta(days=rng.choice([-1, 1]))).isoformat()
    position = rng.randrange(len(text) + 1)
    return text[:position] + rng.choice("x0é ") + text[position:]


def _columns(home: Path, table: str) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "preuves.sqlite3") as db:
        return [(row[1], row[2].split("(")[0].upper()) for row in db.execute(f"PRAGMA table_info({table})")]


def edit_row(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    for _ in range(100):
        table = rng.choice(sorted(contents.rows))
        row_id = rng.choice(contents.rows[table])
        column, declared = rng.choice([c for c in _columns(home, table) if c[0] != "id"])
        with sqlite3.connect(home / "preuves.sqlite3") as db:
            [value] = db.execute(f"SELECT {column} FROM {table} WHERE id = ?", (row_id,)).fetchone()
        new = _changed(value, declared, rng)
        try:
            _sql(home, (f"UPDATE {table} SET {column} = ? WHERE id = ?", (new, row_id)))
            break
        except sqlite3.IntegrityError:
            continue  # the new value would duplicate another row's: the database refuses it anyway
    else:
        raise AssertionError("no field could be changed")
    case_id = new if column == "case_id" else contents.applicant_cases.get(row_id)  # the row as it now is
    return Mutation("ligne : champ modifié", f"{table} {row_id} {column} {value!r} → {new!r}",
                    (row_item(table, row_id, case_id),))


def unreadable_value(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    """A date or time column given a value that is no date: the row can no longer be read."""
    table = rng.choice(sorted(contents.rows))
    row_id = rng.choice(contents.rows[table])
    column = rng.choice([c for c, declared in _columns(home, table) if declared in ("DATE", "DATETIME")])
    garbage = rng.choice(["pas une date", "", "2026-13-45"])
    _sql(home, (f"UPDATE {table} SET {column} = ? WHERE id = ?", (garbage, row_id)))
    return Mutation("ligne : valeur illisible", f"{table} {row_id} {column}",
                    (row_item(table, row_id, contents.applicant_cases.get(row_id)),))


def delete_row(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    table = rng.choice(sorted(contents.rows))
    row_id = rng.choice(contents.rows[table])
    _sql(home, f"DELETE FROM {table} WHERE id = {row_id}")
    return Mutation("ligne : supprimée", f"{table} {row_id}",
                    (row_item(table, row_id, contents.applicant_cases.get(row_id)),))


# Columns that must stay unique when a row is copied, and how the copy makes them so.
_UNIQUE_OF_COPY = {
    "targets": "url = url || '#copie'",
    "cases": "label = label || ' (copie)'",
    "captures": "attempt_no = attempt_no + 1000",
    "applicants": "case_id = case_id + 1000",
}


def insert_row(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    table = rng.choice(sorted(contents.rows))
    source = rng.choice(contents.rows[table])
    new_id = max(contents.rows[table]) + 1
    names = ", ".join(c for c, _ in _columns(home, table) if c != "id")
    statements: list[str | tuple] = [
        f"INSERT INTO {table} (id, {names}) SELECT {new_id}, {names} FROM {table} WHERE id = {source}"
    ]
    if table in _UNIQUE_OF_COPY:
        statements.insert(0, f"CREATE TEMP TABLE copie AS SELECT * FROM {table} WHERE id = {source}")
        statements[1] = f"UPDATE copie SET id = {new_id}, {_UNIQUE_OF_COPY[table]}"
        statements.append(f"INSERT INTO {table} SELECT * FROM copie")
    _sql(home, *statements)
    copied_case = contents.applicant_cases.get(source, 0) + 1000  # see _UNIQUE_OF_COPY
    return Mutation("ligne : ajoutée", f"{table} {new_id} (copie de {source})",
                    (row_item(table, new_id, copied_case),))


def swap_rows(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    table = rng.choice([t for t, ids in sorted(contents.rows.items()) if len(ids) >= 2])
    first, second = rng.sample(contents.rows[table], 2)
    _sql(
        home,
        f"UPDATE {table} SET id = -1 WHERE id = {first}",
        f"UPDATE {table} SET id = {first} WHERE id = {second}",
        f"UPDATE {table} SET id = {second} WHERE id = -1",
    )
    cases = contents.applicant_cases  # swapped with the rest of the row
    return Mutation("lignes : interverties", f"{table} {first} ↔ {second}",
                    (row_item(table, first, cases.get(second)), row_item(table, second, cases.get(first))))


def _entry(home: Path, seq: int) -> tuple[str, str, str]:
    with sqlite3.connect(home / "preuves.sqlite3") as db:
        return db.execute("SELECT payload, prev_hash, entry_hash FROM journal_entries WHERE seq = ?", (seq,)).fetchone()


def _altered_payload(payload: str, rng: random.Random) -> str:
    """The payload with one value inside its data changed, still valid canonical JSON."""
    document = json.loads(payload)

    def leaves(node: object, path: tuple) -> list[tuple]:
        if isinstance(node, dict):
            return [leaf for key, value in node.items() for leaf in leaves(value, (*path, key))]
        if isinstance(node, list):
            return [leaf for index, value in enumerate(node) for leaf in leaves(value, (*path, index))]
        return [path]

    path = rng.choice(leaves(document["data"], ("data",)))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    parent[path[-1]] = (
        not value if isinstance(value, bool) else value + 1 if isinstance(value, int) else f"{value}x"
    )
    return canonical_json(document).decode("utf-8")


def edit_entry(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    seq = rng.choice(contents.entries)[0]
    payload, _, _ = _entry(home, seq)
    _sql(home, ("UPDATE journal_entries SET payload = ? WHERE seq = ?", (_altered_payload(payload, rng), seq)))
    return Mutation("journal : contenu modifié", f"entrée {seq}", (entry_item(seq),))


def edit_entry_and_its_hash(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    seq = rng.choice(contents.entries[:-1])[0]
    payload, prev_hash, _ = _entry(home, seq)
    altered = _altered_payload(payload, rng)
    _sql(home, ("UPDATE journal_entries SET payload = ?, entry_hash = ? WHERE seq = ?",
                (altered, entry_hash(prev_hash, altered), seq)))
    return Mutation("journal : contenu et empreinte modifiés", f"entrée {seq}", (entry_item(seq + 1),))


def edit_entry_column(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    seq = rng.choice(contents.entries)[0]
    column = rng.choice(["kind", "recorded_at", "prev_hash", "entry_hash"])
    if column == "kind":
        change = "kind = kind || '.x'"
    elif column == "recorded_at":
        change = "recorded_at = '2026-01-01 00:00:00.000000'"
    else:
        change = f"{column} = '{hashlib.sha256(rng.randbytes(8)).hexdigest()}'"
    _sql(home, f"UPDATE journal_entries SET {change} WHERE seq = {seq}")
    return Mutation("journal : colonne modifiée", f"entrée {seq} {column}", (entry_item(seq),))


def delete_entry(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    seq, described = rng.choice(contents.entries)
    _sql(home, f"DELETE FROM journal_entries WHERE seq = {seq}")
    if seq != contents.last_seq:
        return Mutation("journal : entrée supprimée", f"entrée {seq}", (entry_item(seq + 1),))
    if described:
        return Mutation("journal : dernière entrée supprimée", f"entrée {seq}",
                        tuple(row_item(t, i, contents.applicant_cases.get(i)) for t, i in sorted(described)))
    return Mutation("journal : dernière entrée supprimée, qui ne décrit aucune ligne", f"entrée {seq}", (), True)


def _forged(seq: int, prev_hash: str) -> tuple[str, str, str]:
    payload = canonical_json(
        {"seq": seq, "recorded_at": "2026-11-01T10:00:00+00:00", "kind": "correction",
         "data": {"refers_to_seq": 1, "note": "entrée forgée"}}
    ).decode("utf-8")
    return payload, prev_hash, entry_hash(prev_hash, payload)


def insert_entry(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    """A forged entry slipped in before entry `seq`, chained on its predecessor; later ones shift."""
    seq = rng.choice(contents.entries)[0]
    prev_hash = _entry(home, seq - 1)[2] if seq > 1 else GENESIS_HASH
    payload, prev, digest = _forged(seq, prev_hash)
    _sql(
        home,
        f"UPDATE journal_entries SET seq = -seq WHERE seq >= {seq}",
        "UPDATE journal_entries SET seq = 1 - seq WHERE seq < 0",
        ("INSERT INTO journal_entries (seq, recorded_at, kind, payload, prev_hash, entry_hash) "
         "VALUES (?, '2026-11-01 10:00:00.000000', 'correction', ?, ?, ?)", (seq, payload, prev, digest)),
    )
    return Mutation("journal : entrée insérée", f"avant l'entrée {seq}", (entry_item(seq + 1),))


def append_entry(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    """A forged entry at the end, correctly chained, describing no row: what the tool itself may write."""
    seq = contents.last_seq + 1
    payload, prev, digest = _forged(seq, _entry(home, seq - 1)[2])
    _sql(home, ("INSERT INTO journal_entries (seq, recorded_at, kind, payload, prev_hash, entry_hash) "
                "VALUES (?, '2026-11-01 10:00:00.000000', 'correction', ?, ?, ?)", (seq, payload, prev, digest)))
    return Mutation("journal : entrée ajoutée à la fin, bien chaînée", f"entrée {seq}", (), True)


def swap_entries(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    first, second = sorted(rng.sample([seq for seq, _ in contents.entries], 2))
    _sql(
        home,
        f"UPDATE journal_entries SET seq = -1 WHERE seq = {first}",
        f"UPDATE journal_entries SET seq = {first} WHERE seq = {second}",
        f"UPDATE journal_entries SET seq = {second} WHERE seq = -1",
    )
    return Mutation("journal : entrées interverties", f"{first} ↔ {second}", (entry_item(first),))


def rewrite_chain(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    """A capture's state changed in its row and in its entry, and every later hash recomputed."""
    seq, described = rng.choice([e for e in contents.entries if any(t == "captures" for t, _ in e[1])])
    [capture_id] = [i for t, i in described if t == "captures"]
    with sqlite3.connect(home / "preuves.sqlite3") as db:
        chain = db.execute("SELECT seq, payload, prev_hash FROM journal_entries WHERE seq >= ? ORDER BY seq",
                           (seq,)).fetchall()
        [state] = db.execute("SELECT state FROM captures WHERE id = ?", (capture_id,)).fetchone()
    new_state = "slots" if state != "slots" else "noslot"
    document = json.loads(chain[0][1])
    document["data"]["capture"]["state"] = new_state
    payloads = [canonical_json(document).decode("utf-8")] + [payload for _, payload, _ in chain[1:]]
    statements: list[str | tuple] = [("UPDATE captures SET state = ? WHERE id = ?", (new_state, capture_id))]
    prev_hash = chain[0][2]
    for (entry_seq, _, _), payload in zip(chain, payloads, strict=True):
        digest = entry_hash(prev_hash, payload)
        statements.append(("UPDATE journal_entries SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                           (payload, prev_hash, digest, entry_seq)))
        prev_hash = digest
    _sql(home, *statements)
    if seq <= contents.anchored:  # the timestamp token holds the root of the entries as they were
        return Mutation("réécriture cohérente, sous un horodatage", f"capture {capture_id}", ("ancrage n° ",))
    return Mutation("réécriture cohérente de la ligne, du journal et de la chaîne", f"capture {capture_id}", (), True)


def edit_planned_attempt(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    """A planned attempt's status changed (a missed attempt made to look cancelled, say)."""
    with sqlite3.connect(home / "preuves.sqlite3") as db:
        ids = [row[0] for row in db.execute("SELECT id FROM planned_attempts ORDER BY id")]
    planned_id = rng.choice(ids)
    _sql(home, f"UPDATE planned_attempts SET status = 'cancelled' WHERE id = {planned_id}")
    return Mutation("plan : état d'une tentative prévue modifié", f"tentative prévue {planned_id}", (),
                    not_checked=True)


def drop_triggers(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    dropped = rng.sample(triggers.drop_statements("sqlite", PROTECTED), rng.randint(1, 3))
    db = sqlite3.connect(home / "preuves.sqlite3")
    try:
        for statement in dropped:
            db.execute(statement)
        db.commit()
    finally:
        db.close()
    return Mutation("protections supprimées", ", ".join(s.split()[-1] for s in dropped), ("base de données",))


def drop_triggers_then_edit(home: Path, contents: Contents, rng: random.Random) -> Mutation:
    capture_id = rng.choice(contents.rows["captures"])
    db = sqlite3.connect(home / "preuves.sqlite3")
    try:
        for statement in triggers.drop_statements("sqlite"):
            db.execute(statement)
        db.execute("UPDATE captures SET state = 'slots', evidence_text = 'Choix d''une plage horaire' "
                   "WHERE id = ?", (capture_id,))
        db.commit()
    finally:
        db.close()
    return Mutation("protections supprimées puis ligne modifiée", f"capture {capture_id}",
                    ("base de données", row_item("captures", capture_id)))


MUTATORS: tuple[Mutator, ...] = (
    flip_byte, truncate, delete_file, append_bytes, replace_file,
    edit_row, unreadable_value, delete_row, insert_row, swap_rows,
    edit_entry, edit_entry_and_its_hash, edit_entry_column, delete_entry, insert_entry, swap_entries,
    drop_triggers, drop_triggers_then_edit,
    append_entry, rewrite_chain, edit_planned_attempt,
)


# ------------------------------------------------------------------------------- running them


@dataclass
class Tally:
    by_kind: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    by_design: Counter[str] = field(default_factory=Counter)
    by_design_seen: Counter[str] = field(default_factory=Counter)
    not_checked: Counter[str] = field(default_factory=Counter)
    not_checked_seen: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    misnamed: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = [f"{kind} : {self.detected[kind]}/{count}" for kind, count in sorted(self.by_kind.items())]
        lines += [f"{kind} (indétectable seul, par construction) : {self.by_design_seen[kind]}/{count} vus"
                  for kind, count in sorted(self.by_design.items())]
        lines += [f"{kind} (table non vérifiée) : {self.not_checked_seen[kind]}/{count} vus"
                  for kind, count in sorted(self.not_checked.items())]
        return "\n".join(lines)


def verify_copy(home: Path) -> VerifyReport:
    workspace = open_workspace(home)
    try:
        return verify_workspace(workspace)
    finally:
        workspace.close()


def run_mutations(template: Path, work: Path, count: int, seed: int, only: Mutator | None = None) -> Tally:
    rng = random.Random(seed)
    contents = Contents.read(template)
    tally = Tally()
    for number in range(count):
        mutator = only or MUTATORS[number % len(MUTATORS)]
        home = work / f"m{number}"
        shutil.copytree(template, home)
        mutation = mutator(home, contents, rng)
        report = verify_copy(home)
        items = [problem.item for problem in report.problems]
        if mutation.by_design:
            tally.by_design[mutation.kind] += 1
            tally.by_design_seen[mutation.kind] += not report.ok
        elif mutation.not_checked:
            tally.not_checked[mutation.kind] += 1
            tally.not_checked_seen[mutation.kind] += not report.ok
        else:
            tally.by_kind[mutation.kind] += 1
            if report.ok:
                tally.missed.append(f"{mutation.kind} : {mutation.what}")
            elif all(any(item.startswith(name) for item in items) for name in mutation.named):
                tally.detected[mutation.kind] += 1
            else:
                tally.misnamed.append(f"{mutation.kind} : {mutation.what} → {items}")
        shutil.rmtree(home)
    return tally


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("modele") / "ws"
    build_workspace(home, random.Random(2026))
    report = verify_copy(home)
    assert report.ok and report.orphans == [], [p.line() for p in report.problems]
    return home


@pytest.fixture(scope="module")
def anchored_template(tmp_path_factory) -> Path:
    """The same kind of workspace, its journal timestamped by a local authority (RFC 3161), then a
    few more entries after the token."""
    folder = tmp_path_factory.mktemp("modele-horodate")
    home = folder / "ws"
    build_workspace(home, random.Random(2027))
    keys = make_authority(folder / "tsa")
    with LocalTsa(keys) as tsa:
        config = home / "preuves.toml"
        authority = f'{{ name = "TSA de test", url = "{tsa.url}", ca_file = "{keys.ca_file}" }}'
        without = re.sub(r"(?ms)^\[anchors\]\n.*?(?=^\[|\Z)", "", config.read_text(encoding="utf-8"))
        config.write_text(f"{without}\n[anchors]\ntsa = [{authority}]\n", encoding="utf-8")
        workspace = open_workspace(home)
        try:
            [outcome] = anchor_now(workspace)
            assert outcome.status == "anchored", outcome
            add_correction(workspace, 2, "Correction écrite après l'horodatage.")
        finally:
            workspace.close()
    report = verify_copy(home)
    assert report.ok and report.orphans == [], [p.line() for p in report.problems]
    assert 0 < Contents.read(home).anchored < Contents.read(home).last_seq
    return home


def check(tally: Tally) -> None:
    print(tally.table())
    assert tally.missed == [], tally.missed
    assert tally.misnamed == [], tally.misnamed


def test_every_kind_of_tampering_is_detected_and_named(template, tmp_path):
    tally = run_mutations(template, tmp_path, count=50, seed=1)
    check(tally)
    assert sum(tally.by_kind.values()) >= 50 - 3 * 3  # at most the three special classes' share aside


def test_tampering_under_a_timestamp(anchored_template, tmp_path):
    """With a token over the journal, a consistent rewrite of the entries it covers is caught too."""
    tally = run_mutations(anchored_template, tmp_path, count=len(MUTATORS), seed=2)
    check(tally)
    rewrites = run_mutations(anchored_template, tmp_path, count=6, seed=3, only=rewrite_chain)
    check(rewrites)
    assert rewrites.detected["réécriture cohérente, sous un horodatage"] >= 1


def test_untouched_workspaces_raise_no_alarm(tmp_path):
    for seed in range(5):
        home = tmp_path / f"ws{seed}"
        build_workspace(home, random.Random(seed))
        moved = tmp_path / f"copie{seed}"
        shutil.copytree(home, moved)  # a workspace copied elsewhere still verifies
        for where in (home, moved):
            report = verify_copy(where)
            assert report.ok and report.orphans == [], [p.line() for p in report.problems]


def test_an_unreadable_value_is_reported_not_a_crash(template, tmp_path):
    home = tmp_path / "ws"
    shutil.copytree(template, home)
    _sql(home, "UPDATE captures SET started_at = 'pas une date' WHERE id = 1")
    report = verify_copy(home)
    assert any(problem.item.startswith("capture 1") for problem in report.problems)


def test_an_unreadable_anchor_is_reported_not_a_crash(anchored_template, tmp_path):
    home = tmp_path / "ws"
    shutil.copytree(anchored_template, home)
    _sql(home, "UPDATE anchors SET gen_time = 'pas une date' WHERE id = 1")
    report = verify_copy(home)
    assert any(problem.item.startswith("ancrage n° 1") for problem in report.problems)


@pytest.mark.stress
def test_1000_random_mutations(template, tmp_path):
    tally = run_mutations(template, tmp_path, count=1000, seed=7)
    check(tally)


@pytest.mark.stress
def test_500_random_mutations_under_a_timestamp(anchored_template, tmp_path):
    check(run_mutations(anchored_template, tmp_path, count=500, seed=8))


@pytest.mark.stress
def test_100_untouched_workspaces(tmp_path):
    for seed in range(100):
        home = tmp_path / f"ws{seed}"
        build_workspace(home, random.Random(1000 + seed))
        report = verify_copy(home)
        assert report.ok and report.orphans == [], (seed, [p.line() for p in report.problems])
        shutil.rmtree(home)
