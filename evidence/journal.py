"""The append-only, hash-chained journal.

Every change of a case, every capture, artefact, letter and correction is one entry. An entry's
payload is canonical JSON (sorted keys, UTF-8, no floats, no insignificant whitespace) of
{"seq", "recorded_at", "kind", "data"}; entry_hash = SHA-256(prev_hash ‖ payload), the first
prev_hash being 64 zeros. Changing, removing or reordering any entry breaks every later hash.

Each entry is also written to a second copy outside the database (see `journal_copy.py`):
`append` leaves the entries of a transaction in the session's `info`, and the copy's hooks write
them around the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from evidence.database import MAX_ROW_ID
from evidence.errors import BadInput
from evidence.models import JournalEntry, iso
from evidence.sealing import SealedText

GENESIS_HASH = "0" * 64
# The fewest hexadecimal digits of a head's hash a user may note down (the README shows « 39:5d1d… »).
MIN_NOTED_DIGITS = 8
# Where `append` leaves a transaction's entries for the journal's copy (session.info key).
STAGED_ENTRIES = "preuves_journal_staged"


@dataclass(frozen=True)
class JournalHead:
    """The figure a lawyer writes down: the last entry's number and hash."""

    seq: int
    entry_hash: str

    @classmethod
    def parse(cls, text: str) -> JournalHead:
        """A head as written down: "39:5d1d…" (number, colon, the 64 hexadecimal digits, or their first
        8 or more, as a lawyer may note them; `entry_hash` then holds only those)."""
        number, _, digest = text.strip().partition(":")
        digest = digest.strip().lower().removesuffix("…").removesuffix("...")
        if (
            not (number.strip().isascii() and number.strip().isdigit())
            or not MIN_NOTED_DIGITS <= len(digest) <= 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise BadInput(
                f"tête du journal attendue sous la forme NUMÉRO:EMPREINTE (les 64 caractères hexadécimaux, "
                f"ou au moins les {MIN_NOTED_DIGITS} premiers)"
            )
        if int(number) > MAX_ROW_ID:
            raise BadInput(f"tête du journal : aucune entrée ne peut porter le n° {number.strip()}")
        return cls(int(number), digest)


def canonical_json(value: Any) -> bytes:
    """Serialise `value` so that equal data always gives equal bytes.

    Floats are refused: their text form is not canonical across platforms. Sealed text is written in
    its sealed form, never in clear (see sealing.py).
    """
    return json.dumps(
        _journal_form(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _journal_form(value: Any) -> Any:
    if isinstance(value, SealedText):
        return value.stored
    if isinstance(value, float):
        raise TypeError("floats are not allowed in journal payloads")
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("journal payload keys must be strings")
        return {key: _journal_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_journal_form(item) for item in value]
    return value


def entry_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + payload.encode("utf-8")).hexdigest()


def head(session: Session) -> JournalHead:
    last = session.scalars(select(JournalEntry).order_by(JournalEntry.seq.desc()).limit(1)).first()
    if last is None:
        return JournalHead(0, GENESIS_HASH)
    return JournalHead(last.seq, last.entry_hash)


def serialise_writers(session: Session) -> None:
    """Wait for the journal's other writers: on PostgreSQL, a lock held to the end of the transaction;
    SQLite writers are already serialised by BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(715271)"))


def append(session: Session, kind: str, data: dict[str, Any], now: datetime) -> JournalEntry:
    """Add one entry inside the caller's write transaction (see `database.write_session`)."""
    serialise_writers(session)
    previous = head(session)
    seq = previous.seq + 1
    payload = canonical_json(
        {"seq": seq, "recorded_at": iso(now), "kind": kind, "data": data}
    ).decode("utf-8")
    entry = JournalEntry(
        seq=seq,
        recorded_at=now,
        kind=kind,
        payload=payload,
        prev_hash=previous.entry_hash,
        entry_hash=entry_hash(previous.entry_hash, payload),
    )
    session.add(entry)
    session.flush()
    session.info.setdefault(STAGED_ENTRIES, []).append(entry)
    return entry


def iter_entries(session: Session, batch: int = 1000) -> Iterator[JournalEntry]:
    """All entries in seq order, read in batches so memory stays flat on long journals.

    The session is emptied between batches: give it a session of its own.
    """
    last_seq = 0
    while True:
        rows = session.scalars(
            select(JournalEntry)
            .where(JournalEntry.seq > last_seq)
            .order_by(JournalEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq
        session.expunge_all()
