"""Benchmark: what the journal's copy and the integrity checks cost, and how long a repair takes.

A workspace is filled with N captures (two small files each) through `evidence.records.record_capture`,
timing the copy's writes (two fsynced appends a record) apart. Then: `verify` as a whole, the
database's own integrity check alone (SQLite `PRAGMA integrity_check`), the copy read and compared
alone; the copy is deleted and the next write starts it again with the whole journal; then the
database is deleted and rebuilt by `repair`, and verified again.

Run: `python bench/integrity.py [--captures 5000]`. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidence.integrity import check_database
from evidence.journal_copy import JournalCopyWriter, read_copy
from evidence.records import NewArtefact, add_correction
from evidence.repair import repair_workspace
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace, open_workspace
from recorded_attempts import record_attempts


def fill(home: Path, captures: int) -> dict[str, float]:
    spent = {"copy_writes_s": 0.0}
    append = JournalCopyWriter._append

    def timed_append(self: JournalCopyWriter, lines: list[dict[str, object]], **options: bool) -> None:
        started = time.perf_counter()
        append(self, lines, **options)
        spent["copy_writes_s"] += time.perf_counter() - started

    JournalCopyWriter._append = timed_append  # type: ignore[method-assign]
    workspace, _ = init_workspace(home)
    try:
        spent["record_s"] = record_attempts(workspace, captures, lambda number: [
            NewArtefact("screenshot", "image/png", data=f"png {number}".encode()),
            NewArtefact("html", "text/html", data=f"<p>{number}</p>".encode()),
        ])
    finally:
        workspace.close()
        JournalCopyWriter._append = append  # type: ignore[method-assign]
    return spent


def timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = action()
    return value, round(time.perf_counter() - started, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captures", type=int, default=5000)
    args = parser.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="preuves-bench-") as folder:
        home = Path(folder) / "ws"
        spent = fill(home, args.captures)
        workspace = open_workspace(home)
        try:
            report, verify_s = timed(lambda: verify_workspace(workspace))
            assert report.ok, [p.line() for p in report.problems]
            with workspace.reading() as session:
                integrity, integrity_s = timed(lambda: check_database(session.connection()))
            assert not integrity.damage
            copy, read_copy_s = timed(lambda: read_copy(workspace.journal_copy))
        finally:
            workspace.close()
        database_bytes = (home / "preuves.sqlite3").stat().st_size
        copy_bytes = workspace.journal_copy.stat().st_size
        # A copy lost (or a workspace older than it): the next write starts it with the whole journal.
        workspace.journal_copy.unlink()
        workspace = open_workspace(home)
        try:
            _, first_write_after_loss_s = timed(lambda: add_correction(workspace, 1, "Banc d'essai : copie refaite."))
        finally:
            workspace.close()
        assert read_copy(workspace.journal_copy).copied_from_database == report.entries
        (home / "preuves.sqlite3").unlink()
        repaired, repair_s = timed(lambda: repair_workspace(home))
        workspace = open_workspace(home)
        try:
            again, verify_after_repair_s = timed(lambda: verify_workspace(workspace))
        finally:
            workspace.close()
        assert again.ok and repaired.entries == report.entries + 1
    print(json.dumps({
        "bench": "integrity",
        "captures": args.captures,
        "entries": report.entries,
        "record_ms_per_capture": round(1000 * spent["record_s"] / args.captures, 2),
        "copy_writes_ms_per_capture": round(1000 * spent["copy_writes_s"] / args.captures, 2),
        "database_mib": round(database_bytes / 2**20, 2),
        "copy_mib": round(copy_bytes / 2**20, 2),
        "verify_s": verify_s,
        "integrity_check_s": integrity_s,
        "read_copy_s": read_copy_s,
        "first_write_after_copy_lost_s": first_write_after_loss_s,
        "copy_confirmed": copy.confirmed,
        "repair_s": repair_s,
        "verify_after_repair_s": verify_after_repair_s,
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
