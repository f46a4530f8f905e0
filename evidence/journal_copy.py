"""The journal's second copy, outside the database: `journal.jsonl` in the workspace folder.

A database file can be deleted, damaged or replaced by an older copy; this file keeps every
journal entry too, so that `verify` can tell what the database lost and `repair` can rebuild it
(with the blobs). It is only ever appended to.

Format: UTF-8, one JSON object a line, of three kinds.
- The header, first line: {"format": FORMAT, "created_at": …, "copied_from_database": N}, N being
  the number of entries copied from the database when the copy was started (0 for a new workspace;
  more for a workspace older than this file, or a copy made again by `repair`).
- An entry: {"seq", "recorded_at", "kind", "payload", "prev_hash", "entry_hash"}, the columns of
  its row in `journal_entries`.
- A confirmation: {"committed": seq, "entry_hash": h}: the database has committed the entries up
  to `seq`, the last one with hash `h`.

Order. A write transaction holds the database's write lock from its first journal entry to its
commit. Just before the commit, it appends the confirmation of the head it built on, then its
entries, and fsyncs; a failure there aborts the commit. After the commit, it appends the
confirmation of its last entry and fsyncs. Hence:
- every committed entry is in the copy, written before its commit;
- a confirmed entry was committed (a confirmation is written after the commit, or by the next
  writer, which builds on what is committed);
- an entry not confirmed yet was either rolled back (the next writer's entries then take its
  number again, and the reader drops it) or committed just before a crash or while the copy was
  being read: the database says which.
So the copy never claims an entry the database did not commit without `verify` seeing it, and
the database never holds an entry the copy lacks unless the copy was cut or removed.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from evidence.blobs import fsync_dir, plain_reason
from evidence.errors import StoreError
from evidence.journal import GENESIS_HASH, STAGED_ENTRIES, entry_hash
from evidence.models import JournalEntry, iso

COPY_NAME = "journal.jsonl"
FORMAT = "preuves-rdv/journal-copy/1"
ENTRY_FIELDS = ("seq", "recorded_at", "kind", "payload", "prev_hash", "entry_hash")


@dataclass(frozen=True)
class CopiedEntry:
    """A journal entry as the copy holds it."""

    seq: int
    recorded_at: str
    kind: str
    payload: str
    prev_hash: str
    entry_hash: str

    @classmethod
    def of(cls, row: Any) -> CopiedEntry:
        """From a `JournalEntry` row (or a row of its columns)."""
        return cls(row.seq, iso(row.recorded_at) or "", row.kind, row.payload, row.prev_hash, row.entry_hash)

    def line(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENTRY_FIELDS}


def confirmation(seq: int, digest: str) -> dict[str, Any]:
    return {"committed": seq, "entry_hash": digest}


# --------------------------------------------------------------------------- writing


class JournalCopyWriter:
    """Appends what each write transaction journals, in the order described in the module's docstring.

    `attach` hooks it to a session factory; `journal.append` leaves its entries in the session's
    `info`, where the hooks find them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def attach(self, factory: sessionmaker[Session]) -> None:
        event.listen(factory, "before_commit", self._before_commit)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_rollback", self._forget)

    def _before_commit(self, session: Session) -> None:
        staged: list[JournalEntry] = session.info.get(STAGED_ENTRIES, [])
        if not staged:
            return
        session.flush()  # the entries' columns as they will be committed
        first = staged[0]
        lines: list[Iterable[dict[str, Any]]] = []
        if not self._has_header():
            lines.append(_start(session, first))
        if first.seq > 1:
            lines.append([confirmation(first.seq - 1, first.prev_hash)])
        lines.append(CopiedEntry.of(entry).line() for entry in staged)
        try:
            self._append(itertools.chain.from_iterable(lines))
        except OSError as exc:
            raise StoreError(f"écriture impossible dans la copie du journal ({COPY_NAME}) : {plain_reason(exc)}") from exc

    def _after_commit(self, session: Session) -> None:
        staged: list[JournalEntry] = session.info.pop(STAGED_ENTRIES, [])
        if not staged:
            return
        try:
            self._append([confirmation(staged[-1].seq, staged[-1].entry_hash)], create=False)
        except OSError:
            pass  # committed all the same: the next writer confirms it, `verify` finds it in the database

    def _forget(self, session: Session) -> None:
        session.info.pop(STAGED_ENTRIES, None)

    def confirm_tail(self, session: Session) -> None:
        """Confirm the copy's last entries if the database committed them: a process killed between
        its commit and its confirmation leaves them unconfirmed until someone opens the workspace."""
        last = _last_line(self.path)
        if not last or "seq" not in last or not isinstance(last["seq"], int):
            return
        committed = session.get(JournalEntry, last["seq"])
        if committed is not None and committed.entry_hash == last.get("entry_hash"):
            try:
                self._append([confirmation(committed.seq, committed.entry_hash)], create=False)
            except OSError:
                pass  # the next writer confirms it

    def _has_header(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def _append(self, lines: Iterable[dict[str, Any]], *, create: bool = True) -> None:
        """Append `lines` and fsync; with `create` False, a copy that is not there is left alone."""
        created = create and not self.path.exists()
        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                _write_all(fd, b"\n")  # a line left unfinished (disk full, power cut) stays on its own
            for chunk in _chunks(lines):
                _write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)


def _chunks(lines: Iterable[dict[str, Any]], size: int = 1 << 20) -> Iterator[bytes]:
    """The lines encoded, about `size` bytes at a time (a copy started late holds the whole journal)."""
    pending: list[bytes] = []
    length = 0
    for line in lines:
        pending.append(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        length += len(pending[-1])
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _start(session: Session, first: JournalEntry) -> Iterator[dict[str, Any]]:
    """A copy's beginning: its header, then the database's entries before `first` (a copy started
    late: the workspace is older than the copy, or the copy was lost), read in batches."""
    earlier = JournalEntry.seq < first.seq
    count = session.scalar(select(func.count()).select_from(JournalEntry).where(earlier)) or 0
    yield {"format": FORMAT, "created_at": iso(first.recorded_at), "copied_from_database": count}
    columns = [getattr(JournalEntry, name) for name in ENTRY_FIELDS]
    rows = session.execute(select(*columns).where(earlier).order_by(JournalEntry.seq).execution_options(yield_per=1000))
    for row in rows:
        yield CopiedEntry.of(row).line()


def _last_line(path: Path, block: int = 1 << 16) -> dict[str, Any] | None:
    """The copy's last line, read from the end of the file."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        end = handle.seek(0, os.SEEK_END)
        tail, start = b"", end
        while start > 0 and b"\n" not in tail.rstrip(b"\n"):
            start = max(0, start - block)
            handle.seek(start)
            tail = handle.read(end - start)
    try:
        line = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    except ValueError:
        return None
    return line if isinstance(line, dict) else None


# --------------------------------------------------------------------------- reading


@dataclass
class CopyState:
    """What the copy holds: the chain of entries it confirms, then those not confirmed yet."""

    path: Path
    exists: bool = False
    copied_from_database: int = 0
    created_at: str | None = None
    chain: list[CopiedEntry] = field(default_factory=list)  # chain[i].seq == i + 1
    confirmed: int = 0  # entries 1..confirmed are confirmed
    dropped: int = 0  # entries written, then given up (rolled back before their commit)
    unreadable_lines: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def confirmed_entries(self) -> list[CopiedEntry]:
        return self.chain[: self.confirmed]

    @property
    def unconfirmed_entries(self) -> list[CopiedEntry]:
        return self.chain[self.confirmed :]

    def entry(self, seq: int) -> CopiedEntry | None:
        return self.chain[seq - 1] if 0 < seq <= len(self.chain) else None


def read_copy(path: Path) -> CopyState:
    """Read the copy, checking each entry's hash and its place in the chain."""
    state = CopyState(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return state
    state.exists = True
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                state.unreadable_lines.append(number)
                continue
            if not isinstance(line, dict):
                state.unreadable_lines.append(number)
            elif "format" in line:
                _read_header(state, number, line)
            elif "committed" in line:
                _read_confirmation(state, number, line)
            else:
                _read_entry(state, number, line)
    return state


def _read_header(state: CopyState, number: int, line: dict[str, Any]) -> None:
    if number != 1 or line.get("format") != FORMAT:
        state.problems.append(f"ligne {number} : en-tête inattendu")
        return
    state.created_at = line.get("created_at")
    state.copied_from_database = int(line.get("copied_from_database") or 0)


def _read_confirmation(state: CopyState, number: int, line: dict[str, Any]) -> None:
    seq, digest = line.get("committed"), line.get("entry_hash")
    if not isinstance(seq, int) or seq < 1:
        state.unreadable_lines.append(number)
        return
    entry = state.entry(seq)
    if entry is None or entry.entry_hash != digest:
        state.problems.append(f"ligne {number} : confirme une entrée n° {seq} que la copie ne contient pas")
    elif seq > state.confirmed:
        state.confirmed = seq


def _read_entry(state: CopyState, number: int, line: dict[str, Any]) -> None:
    try:
        entry = CopiedEntry(**{name: line[name] for name in ENTRY_FIELDS})
        payload = json.loads(entry.payload)
        readable = isinstance(entry.seq, int) and entry.seq >= 1 and payload["seq"] == entry.seq
    except (KeyError, TypeError, ValueError):
        readable = False
    if not readable:
        state.unreadable_lines.append(number)
        return
    where = f"ligne {number} (entrée n° {entry.seq})"
    if entry_hash(entry.prev_hash, entry.payload) != entry.entry_hash:
        state.problems.append(f"{where} : contenu modifié, l'empreinte recalculée diffère")
        return
    if entry.seq > len(state.chain) + 1:
        state.problems.append(f"{where} : les entrées n° {len(state.chain) + 1} à {entry.seq - 1} manquent avant elle")
        return
    before = state.entry(entry.seq - 1)
    if entry.prev_hash != (before.entry_hash if before else GENESIS_HASH):
        state.problems.append(f"{where} : ne suit pas l'entrée qui la précède dans la copie")
        return
    if entry.seq <= state.confirmed:
        if state.chain[entry.seq - 1] != entry:
            state.problems.append(f"{where} : contredit l'entrée confirmée de même numéro")
        return
    state.dropped += len(state.chain) - (entry.seq - 1)
    del state.chain[entry.seq - 1 :]
    state.chain.append(entry)
