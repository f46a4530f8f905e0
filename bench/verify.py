"""Benchmark: how fast `verify` re-hashes a large store, cold and warm (issue 18 §5).

A workspace is filled through `evidence.records.record_capture` with captures whose screenshot is a distinct
block of pseudo-random bytes (`--blob-kib` each, a real screenshot's size; random so that no two are alike and
nothing compresses), until the store holds `--gigabytes` of evidence. Then `verify` runs three times: warm
(the files just written are in the page cache), cold (every blob and the database dropped from the page cache
with posix_fadvise(DONTNEED), which needs no root), and warm again. The re-hashing stage is timed apart through
verify's own progress callback; what remains (the database's integrity, the journal's chain, the rows, the copy)
is given per 100,000 journal entries. SHA-256 of the same bytes in memory, on one core, is the reference.
(The stage runs from the progress call of the first file to that of the last: one file in about 3,800 is left
out of its time, which flatters the rate by under 0.1 %.)

Run: `python bench/verify.py [--gigabytes 1.0] [--blob-kib 512]`. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidence.records import NewArtefact
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, init_workspace, open_workspace
from recorded_attempts import record_attempts

REHASH_STEP = "fichiers re-hachés"
TARGET_MB_S = 800


def fill(home: Path, captures: int, blob_bytes: int) -> float:
    """Record `captures` attempts, each with a distinct screenshot of `blob_bytes`; return the seconds spent."""
    workspace, _ = init_workspace(home)
    rng = random.Random(2026)
    try:
        return record_attempts(workspace, captures, lambda number: [
            NewArtefact("screenshot", "image/png", data=rng.randbytes(blob_bytes)),
            NewArtefact("html", "text/html", data=f"<p>{number}</p>".encode()),
        ])
    finally:
        workspace.close()


def drop_from_page_cache(home: Path) -> int:
    """Ask the kernel to forget the workspace's files (clean pages only: they were written and synced)."""
    dropped = 0
    for path in home.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
            dropped += 1
    return dropped


def timed_verify(workspace: Workspace) -> dict[str, float | int]:
    """One `verify`: its total, and its re-hashing stage from the first to the last file."""
    stage: dict[str, float] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step == REHASH_STEP:
            stage.setdefault("start", time.perf_counter())
            stage["end"] = time.perf_counter()

    began = time.perf_counter()
    report = verify_workspace(workspace, progress=progress)
    total = time.perf_counter() - began
    assert report.ok, [problem.line() for problem in report.problems]
    rehash = stage["end"] - stage["start"]
    return {"total_s": round(total, 3), "rehash_s": round(rehash, 3), "rest_s": round(total - rehash, 3),
            "entries": report.entries}


def sha256_in_memory_mb_s(blob_bytes: int, rounds: int = 256) -> float:
    data = random.Random(1).randbytes(blob_bytes)
    began = time.perf_counter()
    for _ in range(rounds):
        hashlib.sha256(data).digest()
    return blob_bytes * rounds / (time.perf_counter() - began) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--blob-kib", type=int, default=512)
    args = parser.parse_args()
    blob_bytes = args.blob_kib * 1024
    captures = -(-int(args.gigabytes * 1e9) // blob_bytes)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="preuves-bench-verify-", dir=os.environ.get("BENCH_DIR")) as folder:
        home = Path(folder) / "ws"
        record_s = fill(home, captures, blob_bytes)
        store_bytes = sum(path.stat().st_size for path in (home / "blobs").rglob("*") if path.is_file())
        workspace = open_workspace(home)
        try:
            warm = timed_verify(workspace)
            files_dropped = drop_from_page_cache(home)
            cold = timed_verify(workspace)
            warm_again = timed_verify(workspace)
        finally:
            workspace.close()
    runs = {"warm": warm, "cold": cold, "warm_again": warm_again}
    rates = {name: round(store_bytes / run["rehash_s"] / 1e6) for name, run in runs.items()}
    entries = warm["entries"]
    print(json.dumps({
        "bench": "verify",
        "captures": captures,
        "store_mb": round(store_bytes / 1e6),
        "journal_entries": entries,
        "record_s": round(record_s, 1),
        "verify": runs,
        "rehash_mb_s": rates,
        "rehash_target_mb_s": TARGET_MB_S,
        "rehash_target_met": min(rates["warm"], rates["warm_again"]) >= TARGET_MB_S,
        "sha256_in_memory_one_core_mb_s": round(sha256_in_memory_mb_s(blob_bytes)),
        "rest_s_per_100000_entries": round(min(warm["rest_s"], warm_again["rest_s"]) / entries * 100_000, 1),
        "files_dropped_from_cache": files_dropped,
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
