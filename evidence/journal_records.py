"""What the journal says each row is: the last description of every row, read from the entries' data.

`verify` compares the rows with these descriptions; `repair` rebuilds the rows from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Keys of a journal entry's data that describe rows, and the table they describe.
RECORD_KEYS = {
    "target": "targets",
    "case": "cases",
    "capture": "captures",
    "letter": "letters",
    "artefacts": "artefacts",
    "applicant": "applicants",
    "event": "case_events",
    "applicant_piece": "applicant_pieces",
}


@dataclass
class JournalRecords:
    """The last description of each row found in the journal: {(table, id): (seq, record)}."""

    keys: dict[str, str] = field(default_factory=lambda: RECORD_KEYS)  # data key → table it describes
    by_row: dict[tuple[str, int], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)  # entry_hash by seq, as read
    first: dict[str, Any] = field(default_factory=dict)  # the data of the first entry (workspace.created)

    def add(self, seq: int, data: dict[str, Any]) -> None:
        for key, table in self.keys.items():
            value = data.get(key)
            for record in value if isinstance(value, list) else [value] if value else []:
                if isinstance(record, dict) and isinstance(record.get("id"), int):
                    self.by_row[(table, record["id"])] = (seq, record)
