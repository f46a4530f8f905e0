"""Crash safety: a recording process killed with SIGKILL at any point leaves a workspace that verifies.

A child process (tests/crash_child.py) records captures in a loop (real bytes: a PNG, an HTML page,
a HAR, a JSON) through `evidence.records.record_capture`, announcing each phase on its stdout; the
test kills it after a random delay, then checks that `verify` passes, that every capture the child
saw committed is there with all its files, that no row points to a missing file, that the
journal's copy holds every committed entry, and that leftovers are reported as orphans. The
database is then lost and rebuilt from the copy, which must give back every row; `repair` itself
is killed at random and run again. A few real browser captures are killed mid-walk too, and a full
disk must give one clear error and no partial record.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evidence.errors import StoreError
from evidence.journal_copy import read_copy
from evidence.models import Artefact, Capture, JournalEntry
from evidence.records import TargetSpec, add_case, record_capture
from evidence.repair import REPAIR_KIND, repair_workspace
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, init_workspace, open_workspace
from tests.crash_child import ARTEFACTS_PER_CAPTURE, URL, sample_artefacts, sample_facts
from tests.evidence_helpers import evidence_rows

REPO = Path(__file__).resolve().parent.parent


def child_command(job: str, *args: object) -> list[str]:
    return [sys.executable, "-m", "tests.crash_child", job, *map(str, args)]


# --------------------------------------------------------------------------- checks after a crash


@dataclass
class CrashFigures:
    kills: int = 0
    # The child's last word before the kill: "ready" or "committed" (before the blob writes of a
    # record, or after the commit of the previous one), "blob" (during the blob writes),
    # "transaction" (after the blobs, before the commit returned).
    phases: Counter[str] = field(default_factory=Counter)
    committed: int = 0
    temporary_files: int = 0
    orphan_blobs: int = 0
    # Kills after which the journal's copy held entries the database never committed (written
    # just before a commit the kill prevented): the reader drops them, the next writer supersedes.
    unconfirmed_left: int = 0


def check_workspace_after_crash(home: Path, committed_ids: set[int]) -> list[str]:
    """Everything a crash must never break; returns the orphans `verify` reported."""
    workspace = open_workspace(home)
    try:
        report = verify_workspace(workspace)
        assert report.ok, [p.line() for p in report.problems]
        with workspace.reading() as session:
            ids = set(session.scalars(select(Capture.id)))
            assert committed_ids <= ids, "a capture seen committed is gone"
            counts = dict(
                session.execute(select(Artefact.capture_id, func.count()).group_by(Artefact.capture_id)).all()
            )
            assert all(counts.get(i) == ARTEFACTS_PER_CAPTURE for i in ids), counts
            entries = session.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "capture.recorded")
            )
            assert entries == len(ids)
            for path in session.scalars(select(Artefact.blob_path)):
                assert (home / path).is_file(), path
            hashes = list(session.scalars(select(JournalEntry.entry_hash).order_by(JournalEntry.seq)))
        # Opening the workspace confirmed what the database committed: the copy holds exactly that,
        # and perhaps entries written just before a commit the kill prevented.
        copy = read_copy(workspace.journal_copy)
        assert copy.problems == [] and copy.confirmed == len(hashes)
        assert [entry.entry_hash for entry in copy.confirmed_entries] == hashes
        return report.orphans
    finally:
        workspace.close()


def new_workspace(home: Path) -> int:
    workspace, _ = init_workspace(home)
    try:
        case, _ = add_case(workspace, "Dupont", TargetSpec(URL, "ezbooking", "16161"))
        return case.target_id
    finally:
        workspace.close()


def start_then_kill(command: list[str], rng: random.Random, window_s: float) -> tuple[str, bool]:
    """Start a child, wait for its « ready », SIGKILL it after a random delay; returns what it said
    and whether it had ended on its own before the kill."""
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    assert first == "ready", (first, child.stderr.read() if child.poll() is not None else "")
    time.sleep(rng.uniform(0, window_s))
    child.send_signal(signal.SIGKILL)
    said, _ = child.communicate(timeout=30)
    return said, child.returncode != -signal.SIGKILL


def kill_at_random(home: Path, target_id: int, kills: int, seed: int, window_s: float) -> CrashFigures:
    """Start the recording child `kills` times and SIGKILL it after a random delay each time."""
    rng = random.Random(seed)
    figures = CrashFigures()
    committed: set[int] = set()
    for round_no in range(kills):
        said, ended_alone = start_then_kill(child_command("record", home, target_id, rng.getrandbits(32)), rng, window_s)
        assert not ended_alone, f"round {round_no}: the child ended on its own"
        lines = said.split("\n")
        words = [line.split() for line in lines if line.strip()]
        committed |= {int(w[1]) for w in words if w[0] == "committed" and len(w) == 2}
        figures.phases[words[-1][0] if words else "ready"] += 1
        figures.kills += 1
        orphans = check_workspace_after_crash(home, committed)
        figures.unconfirmed_left += bool(read_copy(home / "journal.jsonl").unconfirmed_entries)
        figures.temporary_files = sum("/.tmp-" in path for path in orphans)
        figures.orphan_blobs = len(orphans) - figures.temporary_files
    figures.committed = len(committed)
    return figures


def test_sigkill_during_recording_never_breaks_the_workspace(tmp_path, cli):
    home = tmp_path / "ws"
    target_id = new_workspace(home)
    figures = kill_at_random(home, target_id, kills=10, seed=20261127, window_s=0.4)
    assert figures.kills == 10 and figures.committed > 0
    # The orphans, if any, are shown by `preuves verify`, which still says INTACT.
    result = cli("verify", home=home)
    assert result.code == 0 and "INTACT" in result.out
    assert result.err.count("Fichier orphelin") == figures.temporary_files + figures.orphan_blobs
    print(figures)
    # The database lost after all those kills: the copy gives every row back.
    lose_and_repair(home)


def lose_and_repair(home: Path) -> None:
    """Delete the database; `repair` must give back every row and entry, and name (not restore)
    the entries a kill left unconfirmed, which the database had never committed."""
    before = evidence_rows(home)
    never_committed = read_copy(home / "journal.jsonl").unconfirmed_entries
    assert all(entry.seq > len(before["journal"]) for entry in never_committed)
    for name in ("preuves.sqlite3", "preuves.sqlite3-wal", "preuves.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    result = repair_workspace(home)
    assert result.rebuilt == "database" and result.unconfirmed == len(never_committed)
    after = evidence_rows(home)
    assert after["journal"][:-1] == before["journal"] and after["journal"][-1][1] == REPAIR_KIND
    assert {**after, "journal": []} == {**before, "journal": []}


@pytest.mark.stress
def test_sigkill_then_database_lost_50_times(tmp_path):
    """After each kill, a copy of the workspace loses its database and is rebuilt from the journal's copy."""
    home = tmp_path / "ws"
    target_id = new_workspace(home)
    rng = random.Random(2027)
    for round_no in range(50):
        kill_at_random(home, target_id, kills=1, seed=rng.getrandbits(32), window_s=0.4)
        scratch = tmp_path / f"essai-{round_no}"
        shutil.copytree(home, scratch)
        lose_and_repair(scratch)
        shutil.rmtree(scratch)


# --------------------------------------------------------------------------- repair killed


def kill_repairs(home: Path, kills: int, seed: int, window_s: float) -> Counter[str]:
    """Lose the database, start `repair` and SIGKILL it after a random delay; run it again to the
    end; the rebuilt database must hold every row and entry there was, plus repair entries only."""
    rng = random.Random(seed)
    before = evidence_rows(home)
    outcomes: Counter[str] = Counter()
    for _ in range(kills):
        (home / "preuves.sqlite3").unlink()
        said, _ = start_then_kill(child_command("repair", home), rng, window_s)
        outcomes["finished before the kill" if "repaired" in said else "killed mid-repair"] += 1
        again = repair_workspace(home)
        outcomes[f"run again: {again.rebuilt or 'nothing to do'}"] += 1
        after = evidence_rows(home)
        assert after["journal"][: len(before["journal"])] == before["journal"]
        assert {kind for _, kind, _ in after["journal"][len(before["journal"]):]} == {REPAIR_KIND}
        assert {**after, "journal": []} == {**before, "journal": []}
        workspace = open_workspace(home)
        try:
            report = verify_workspace(workspace)
            assert report.ok, [p.line() for p in report.problems]
        finally:
            workspace.close()
    return outcomes


@pytest.mark.parametrize("kills, window_s", [(4, 0.8), pytest.param(50, 1.5, marks=pytest.mark.stress)])
def test_sigkill_during_repair(tmp_path, kills, window_s):
    home = tmp_path / "ws"
    target_id = new_workspace(home)
    kill_at_random(home, target_id, kills=3, seed=8, window_s=0.4)
    outcomes = kill_repairs(home, kills=kills, seed=kills, window_s=window_s)
    print(outcomes)
    assert sum(count for what, count in outcomes.items() if what.startswith("run again")) == kills
    # The long run hits both: repairs killed midway, and repairs that had finished.
    assert kills < 50 or (outcomes["killed mid-repair"] > 0 and outcomes["finished before the kill"] > 0)


@pytest.mark.stress
def test_sigkill_200_times(tmp_path):
    home = tmp_path / "ws"
    target_id = new_workspace(home)
    started = time.monotonic()
    figures = kill_at_random(home, target_id, kills=200, seed=71, window_s=0.4)
    print(f"{figures} in {time.monotonic() - started:.0f} s")
    # Every phase was hit: before the blob writes, during them, in the transaction.
    assert {"committed", "blob", "transaction"} <= set(figures.phases), figures.phases


# --------------------------------------------------------------------------- real browser captures


def _kill_group(child: subprocess.Popen[str]) -> None:
    """The child was started in a session of its own: end it and the browser it launched."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_real_captures(home: Path, target_id: int, kills: int, seed: int, latest_s: float) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    committed: set[int] = set()
    for _ in range(kills):
        child = subprocess.Popen(
            child_command("capture", home, target_id),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "walking"
            time.sleep(rng.uniform(0.2, latest_s))  # Chromium starts, then a walk takes about 2 s
            child.send_signal(signal.SIGKILL)
            said, _ = child.communicate(timeout=30)
        finally:
            _kill_group(child)
        words = [line.split() for line in said.splitlines() if line.strip()]
        committed |= {int(w[1]) for w in words if w[0] == "committed"}
        outcomes["recorded before the kill" if words else "killed mid-walk"] += 1
        check_workspace_after_real_crash(home, committed)
    return outcomes


def check_workspace_after_real_crash(home: Path, committed_ids: set[int]) -> None:
    workspace = open_workspace(home)
    try:
        report = verify_workspace(workspace)
        assert report.ok, [p.line() for p in report.problems]
        with workspace.reading() as session:
            assert committed_ids <= set(session.scalars(select(Capture.id)))
            for capture in session.scalars(select(Capture)):
                assert "environment" in {a.kind for a in capture.artefacts}
    finally:
        workspace.close()


@pytest.mark.browser
def test_real_captures_killed_mid_walk(tmp_path, site):
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home)
    case, _ = add_case(workspace, "Dupont", TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162"))
    workspace.close()
    outcomes = kill_real_captures(home, case.target_id, kills=2, seed=5, latest_s=3.0)
    assert sum(outcomes.values()) == 2


@pytest.mark.stress
@pytest.mark.browser
def test_real_captures_killed_mid_walk_20_times(tmp_path, site):
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home)
    case, _ = add_case(workspace, "Dupont", TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162"))
    workspace.close()
    outcomes = kill_real_captures(home, case.target_id, kills=20, seed=6, latest_s=10.0)
    print(outcomes)
    assert outcomes["killed mid-walk"] > 0 and outcomes["recorded before the kill"] > 0


# --------------------------------------------------------------------------- a full disk


def _fill(directory: Path) -> None:
    """Write into `directory` until the file system is full (it may be full already: then even the
    file cannot be created, which is as good)."""
    try:
        with (directory / "remplissage").open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
    except OSError:
        pass


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs mounted for the test (root only)."""
    if os.geteuid() != 0:
        pytest.skip("monter un petit système de fichiers demande les droits root")
    mountpoint = tmp_path / "petit-disque"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mountpoint)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"mount impossible : {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def assert_one_clear_line(error: StoreError) -> None:
    message = str(error)
    assert "\n" not in message and message.strip() == message
    assert message.startswith(("écriture impossible", "enregistrement impossible")), message
    assert "disque plein" in message


def captures_and_entries(workspace: Workspace) -> tuple[int, int]:
    with workspace.reading() as session:
        captures = session.scalar(select(func.count()).select_from(Capture))
        entries = session.scalar(select(func.count()).select_from(JournalEntry))
    return captures, entries


def test_full_disk_during_the_blob_writes(small_disk):
    home = small_disk / "ws"
    target_id = new_workspace(home)
    workspace = open_workspace(home)
    rng = random.Random(3)
    try:
        with pytest.raises(StoreError) as raised:
            for number in range(1, 100):
                before = captures_and_entries(workspace)
                record_capture(workspace, sample_facts(workspace, target_id), sample_artefacts(rng, number))
        assert_one_clear_line(raised.value)
        assert captures_and_entries(workspace) == before  # nothing of the failed attempt was kept
        report = verify_workspace(workspace)
        assert report.ok, [p.line() for p in report.problems]
    finally:
        workspace.close()


def test_full_disk_during_the_commit(small_disk):
    """The files are already in the store (same bytes as an earlier attempt): only the database
    needs room, and there is none."""
    home = small_disk / "ws"
    target_id = new_workspace(home)
    workspace = open_workspace(home)
    try:
        files = sample_artefacts(random.Random(4), 1)
        record_capture(workspace, sample_facts(workspace, target_id), files)
        _fill(small_disk)
        before = captures_and_entries(workspace)
        with pytest.raises(StoreError) as raised:
            for _ in range(50):  # the database may still have a few free pages
                record_capture(workspace, sample_facts(workspace, target_id), files)
                before = captures_and_entries(workspace)
        assert_one_clear_line(raised.value)
        assert captures_and_entries(workspace) == before
        (small_disk / "remplissage").unlink()
        report = verify_workspace(workspace)
        assert report.ok, [p.line() for p in report.problems]
    finally:
        workspace.close()


def test_file_size_limit_gives_one_clear_error_and_no_record(tmp_path):
    """Without root: the same guarantee under RLIMIT_FSIZE, in a child process."""
    home = tmp_path / "ws"
    target_id = new_workspace(home)
    done = subprocess.run(child_command("fsize", home, target_id), cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line == (
        "StoreError: écriture impossible dans le dépôt de preuves : fichier trop grand pour le système de fichiers"
    )
    assert "Traceback" not in done.stderr
    workspace = open_workspace(home)
    try:
        assert captures_and_entries(workspace) == (0, 3)  # workspace, target, case
        report = verify_workspace(workspace)
        assert report.ok and report.orphans == []  # the temporary file was removed
    finally:
        workspace.close()
