"""The journal extract joined to the review copy.

The journal serves every case of the workspace, and other people's cases must not leak into this
one's dossier. So the extract holds this dossier's entries in full (their exact payload, which
hashes with the previous hash to the entry hash) and every other entry reduced to its number,
kind and hashes: the chain stays continuous and checkable, the other cases stay private.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dossier_builder.facts import DossierFacts
from evidence import journal

FORMAT = "preuves-rdv/extrait-journal/1"


@dataclass(frozen=True)
class _Scope:
    case_id: int
    target_id: int
    attempt_ids: frozenset[int]
    letter_ids: frozenset[int]
    applicant_piece_ids: frozenset[int]

    def concerns(self, data: dict[str, Any], kept: set[int]) -> bool:
        """Whether an entry's data describes this dossier's rows (or corrects such an entry)."""
        return (
            _id(data, "case") == self.case_id
            or _id(data, "target") == self.target_id
            or _id(data, "capture") in self.attempt_ids
            or _id(data, "letter") in self.letter_ids
            or data.get("letter_id") in self.letter_ids  # proofs added to a letter later
            or _case_of(data, "event") == self.case_id  # calls, visits, referrals (issue 14)
            or _id(data, "applicant_piece") in self.applicant_piece_ids
            or data.get("applicant_piece_id") in self.applicant_piece_ids  # a pièce withdrawn
            or data.get("refers_to_seq") in kept
        )


def _id(data: dict[str, Any], key: str) -> int | None:
    record = data.get(key)
    return record.get("id") if isinstance(record, dict) else None


def _case_of(data: dict[str, Any], key: str) -> int | None:
    record = data.get(key)
    return record.get("case_id") if isinstance(record, dict) else None


def lines(session: Session, facts: DossierFacts) -> Iterator[dict[str, Any]]:
    """The extract, one JSON object per line: a header, then every entry up to the head, in order.

    `journal.iter_entries` empties the session between batches: give this a session of its own.
    """
    yield {
        "format": FORMAT,
        "case": {"id": facts.case.id, "label": facts.case.label},
        "head": {"seq": facts.journal_head.seq, "hash": facts.journal_head.entry_hash},
        "check": "entry_hash = SHA-256(prev_hash || payload) pour les entrées complètes ; "
        "prev_hash de chaque entrée = entry_hash de la précédente",
    }
    scope = _Scope(
        facts.case.id,
        facts.case.target_id,
        frozenset(attempt.id for attempt in facts.attempts),
        frozenset(letter.id for letter in facts.letters),
        frozenset(own.id for own in facts.applicant_pieces),
    )
    kept: set[int] = set()
    for entry in journal.iter_entries(session):
        if entry.seq > facts.journal_head.seq:
            break
        data = json.loads(entry.payload)["data"]
        full = entry.kind == "workspace.created" or scope.concerns(data, kept)
        line: dict[str, Any] = {
            "seq": entry.seq,
            "kind": entry.kind,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
        }
        if full:
            kept.add(entry.seq)
            line["payload"] = entry.payload
        yield line


def write(session: Session, facts: DossierFacts, dest: Path) -> None:
    with dest.open("w", encoding="utf-8") as handle:
        for line in lines(session, facts):
            handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
