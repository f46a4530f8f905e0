"""Compare the database's journal with its copy (`journal.jsonl`, see `journal_copy.py`).

The database is read first (one snapshot), the copy after: every entry of the snapshot must then
be in the copy, with the same hash. The copy may confirm entries committed after the snapshot was
taken (a watcher recording meanwhile): those are looked up again in the database as it is now, and
only those it no longer holds are reported as lost. Entries of the copy never confirmed, and not
in the database, were rolled back (or interrupted before their commit): they are no problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from evidence.journal_copy import COPY_NAME, CopyState
from evidence.localtime import paris_time
from evidence.problems import Problem

ITEM = "copie du journal"
REPAIR_DATABASE = "« preuves repair » reconstruit la base à partir de la copie et des fichiers"
REPAIR_COPY = "« preuves repair » la refait à partir de la base"


@dataclass
class CopyComparison:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # entries the copy confirms and the database lacks
    differs_from: int | None = None  # the first entry that is not the same in both
    missing_from_copy: int = 0  # entries of the database the copy lacks (it was cut short)


def compare(
    copy: CopyState,
    database_hashes: dict[int, str],
    copy_expected: bool,
    hashes_now: Callable[[int, int], dict[int, str]],
) -> CopyComparison:
    """`database_hashes` are the snapshot's entry hashes by number; `copy_expected` says the
    workspace was created with a copy; `hashes_now(first, last)` reads the database as it is now."""
    result = CopyComparison()
    if not copy.exists:
        if copy_expected:
            result.problems.append(
                Problem(ITEM, f"{COPY_NAME} a été supprimée : la base est la seule trace du journal ; {REPAIR_COPY}")
            )
        else:
            result.notes.append(
                f"pas encore de copie du journal ({COPY_NAME}, espace créé par une version antérieure) : "
                "elle est faite à la prochaine écriture"
            )
        return result
    result.problems.extend(Problem(ITEM, detail, COPY_NAME) for detail in copy.problems)
    if copy.copied_from_database > 1 and copy_expected:
        result.notes.append(
            f"copie du journal refaite le {_paris(copy.created_at)} à partir de la base "
            f"({copy.copied_from_database} entrées), la première ayant été perdue"
        )
    differs = result.differs_from = next(
        (seq for seq, digest in sorted(database_hashes.items()) if (e := copy.entry(seq)) and e.entry_hash != digest),
        None,
    )
    if differs == 1:
        result.problems.append(
            Problem(
                "base de données",
                f"ce n'est pas la base dont {COPY_NAME} garde le journal : elle a été recréée ou remplacée ; "
                + REPAIR_DATABASE,
            )
        )
    elif differs is not None:
        result.problems.append(
            Problem(ITEM, f"à partir de l'entrée n° {differs}, la base et la copie du journal diffèrent (l'une a été réécrite)")
        )
    head = max(database_hashes, default=0)
    if differs is None and head > len(copy.chain):
        result.missing_from_copy = head - len(copy.chain)
        result.problems.append(
            Problem(ITEM, f"{_range(len(copy.chain) + 1, head)} de la base absente(s) de la copie ({COPY_NAME} coupée ?) ; {REPAIR_COPY}")
        )
    # Entries the copy confirms beyond the database's: lost, or committed since the snapshot. A
    # database that is another one (its first entry differs) lost the copy's every entry.
    first_unsure = differs if differs == 1 else head + 1
    if differs in (None, 1) and copy.confirmed >= first_unsure:
        now = hashes_now(first_unsure, copy.confirmed) if differs is None else {}
        result.lost = [
            seq for seq in range(first_unsure, copy.confirmed + 1) if now.get(seq) != copy.chain[seq - 1].entry_hash
        ]
    if result.lost:
        result.problems.append(
            Problem(
                "base de données",
                f"{len(result.lost)} entrée(s) du journal perdue(s) ({_range(result.lost[0], result.lost[-1])}), "
                f"gardée(s) par la copie : {REPAIR_DATABASE}",
            )
        )
    return result


def _paris(value: str | None) -> str:
    try:
        return paris_time(datetime.fromisoformat(value or ""))
    except ValueError:
        return str(value)


def _range(first: int, last: int) -> str:
    return f"entrée n° {first}" if first == last else f"entrées n° {first} à {last}"
