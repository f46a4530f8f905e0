"""Ctrl-C ends every command the same way: « Interrompu. », exit 130, no traceback, nothing half-written.

Before: a Ctrl-C while the command line was loading (seconds, on a busy machine) printed a
traceback of the imports; one landing in WeasyPrint's font clean-up (a `__del__`) was dropped and
the dossier was completed, exit 0; the dossier's worker processes printed their own tracebacks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

import dossier_builder.build
from evidence import journal
from evidence.models import Capture, JournalEntry
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace, open_workspace
from tests.evidence_helpers import add_sample_case, pdf_bytes, record_sample_captures, sample_png

REPO = Path(__file__).resolve().parent.parent
COUNTER = "16162"


def preuves(home: Path, *args: str) -> subprocess.Popen[str]:
    """`python -m preuves` in a session of its own, so that a signal to its group reaches only it."""
    return subprocess.Popen(
        [sys.executable, "-m", "preuves", "--home", str(home), *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def ctrl_c(child: subprocess.Popen[str]) -> tuple[str, str]:
    """What a terminal does: SIGINT to the whole foreground process group."""
    os.killpg(child.pid, signal.SIGINT)
    return child.communicate(timeout=90)


@pytest.fixture(autouse=True)
def ctrl_c_not_ignored() -> Iterator[None]:
    """A run started in the background by a non-interactive shell inherits Ctrl-C ignored (as the tool then
    rightly does): these tests need it to interrupt, here and in the commands they start."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def counts(home: Path) -> tuple[int, int]:
    workspace = open_workspace(home)
    try:
        with workspace.reading() as session:
            return (session.scalar(select(func.count()).select_from(Capture)),
                    session.scalar(select(func.count()).select_from(JournalEntry)))
    finally:
        workspace.close()


@pytest.mark.parametrize(("module", "command"), [("typer", ("status",)), ("sqlalchemy.orm", ("case", "list"))])
def test_ctrl_c_while_the_command_line_loads(tmp_path, module, command):
    """Python says on stderr each module it has imported (-X importtime): the Ctrl-C is sent once
    `module` is, while the command line's other modules are still loading (`status` reads without SQLAlchemy:
    `case list` loads it)."""
    init_workspace(tmp_path / "ws")[0].close()
    child = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "preuves", "--home", str(tmp_path / "ws"), *command],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert child.stderr is not None
    for line in child.stderr:
        if line.split("|")[-1].strip() == module:
            break
    out, err = ctrl_c(child)
    said = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert (child.returncode, out, said) == (130, "", ["Interrompu."])


@pytest.mark.browser
def test_ctrl_c_during_a_capture(tmp_path, site, cli):
    home = tmp_path / "ws"
    assert cli("init").code == 0
    url = f"{site.base_url}/booking/create/4963"
    assert cli("case", "add", "Dupont", "--url", url, "--counter", COUNTER, "--allow-any-domain").code == 0
    before = counts(home)
    site.mode = "hang"  # the walk waits on the site's first page
    seen = len(site.requests)
    child = preuves(home, "capture", "Dupont")
    deadline = time.monotonic() + 60
    while len(site.requests) == seen and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(site.requests) > seen, "the walk never reached the site"
    out, err = ctrl_c(child)
    assert child.returncode == 130, err
    assert out == "" and err.splitlines()[-1] == "Interrompu." and "Traceback" not in err
    assert counts(home) == before
    assert cli("verify").code == 0


def test_ctrl_c_while_a_record_is_being_kept(workspace, cli, tmp_path, monkeypatch):
    """Inside the write transaction, just after the journal entry: nothing of the record is kept."""
    add_sample_case(workspace)
    before = counts(workspace.home)
    letter = tmp_path / "lettre.pdf"
    letter.write_bytes(pdf_bytes())
    append = journal.append

    def append_then_ctrl_c(*args, **kwargs):
        entry = append(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the KeyboardInterrupt is raised here
        return entry

    monkeypatch.setattr(journal, "append", append_then_ctrl_c)
    result = cli("letter", "add", "Dupont", "--file", str(letter), "--date", "2026-11-03",
                 "--direction", "sent", "--channel", "lrar")
    assert (result.code, result.err) == (130, "Interrompu.\n")
    monkeypatch.undo()
    assert counts(workspace.home) == before
    assert verify_workspace(workspace).ok


def test_ctrl_c_lost_in_a_del_still_stops_the_dossier(workspace, cli, tmp_path, monkeypatch):
    """The interrupt raised inside a `__del__` (as in WeasyPrint's FontConfiguration) is swallowed
    by Python; the build must stop all the same, and remove what it wrote."""
    record_sample_captures(workspace, add_sample_case(workspace), 3, screenshot=sample_png(), recent=True)
    build_piece = dossier_builder.build.build_piece

    class CleansUpOnCollection:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)  # the KeyboardInterrupt is raised here, inside __del__

    def build_then_lose_an_interrupt(*args, **kwargs):
        pages = build_piece(*args, **kwargs)
        CleansUpOnCollection()  # collected at once
        return pages

    monkeypatch.setattr(dossier_builder.build, "build_piece", build_then_lose_an_interrupt)
    out_dir = tmp_path / "pieces"
    result = cli("dossier", "Dupont", "--out", str(out_dir))
    assert (result.code, result.out) == (130, "")
    assert result.err == "Interrompu.\n"  # not « Exception ignored in … __del__ »
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_ctrl_c_during_a_dossier_built_by_worker_processes(tmp_path):
    """150 attempts: the pieces are built by worker processes, which the terminal's Ctrl-C reaches
    too. They must not print tracebacks; the build stops, its files removed."""
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home)
    try:
        record_sample_captures(workspace, add_sample_case(workspace), dossier_builder.build.PARALLEL_FROM_ATTEMPTS,
                               screenshot=sample_png(), recent=True)
    finally:
        workspace.close()
    out_dir = tmp_path / "pieces"
    child = preuves(home, "dossier", "Dupont", "--out", str(out_dir))
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline and not psutil.Process(child.pid).children():
        time.sleep(0.1)
    time.sleep(1)  # the workers are importing, or building their first pieces
    out, err = ctrl_c(child)
    assert (child.returncode, out, err) == (130, "", "Interrompu.\n")
    assert not out_dir.exists() or not any(out_dir.iterdir())
