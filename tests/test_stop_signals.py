"""SIGTERM stops `preuves serve` and `preuves watch` even when it comes during a pass over the plans.

The pass is held at its first write by a transaction of this test on the workspace's SQLite file;
the signal comes while it waits, and the transaction ends once the process has begun to stop. The
scheduler's shutdown used to hold its job store's lock while it waited for that pass, which then
waited for the same lock to read the jobs: the process never exited.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evidence.workspace_paths import CONFIG_NAME, DATABASE_NAME
from tests.alert_helpers import free_port
from tests.polling import wait_for

STARTED = {"serve": "Surveillance des plans dans ce processus", "watch": "Surveillance en cours"}
STOPPING = {"serve": "Arrêt de la surveillance", "watch": "Arrêt demandé"}
STOPPED = {"serve": "Tableau de bord arrêté.", "watch": "Surveillance arrêtée."}


@contextmanager
def writer_holding(database: Path) -> Iterator[None]:
    """A write transaction open on the database: the process's next write waits for it to end."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@pytest.mark.parametrize("command", ["serve", "watch"])
def test_sigterm_during_a_pass_over_the_plans_stops_the_process(workspace, tmp_path, command):
    (workspace.home / CONFIG_NAME).write_text("[watch]\npoll_seconds = 1\n", encoding="utf-8")
    log = tmp_path / "stderr.txt"
    options = ["--port", str(free_port())] if command == "serve" else []
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "preuves", "--home", str(workspace.home), command, *options],
            stderr=stderr, start_new_session=True,
        )
    try:
        said = lambda text: text in log.read_text(encoding="utf-8")  # noqa: E731
        assert wait_for(lambda: said(STARTED[command]) or process.poll() is not None, 30), log.read_text()
        with writer_holding(workspace.home / DATABASE_NAME):
            time.sleep(2)  # two passes' time (poll_seconds = 1): one now waits for the transaction
            process.send_signal(signal.SIGTERM)
            assert wait_for(lambda: said(STOPPING[command]), 10), log.read_text()
            time.sleep(0.5)  # the watcher is stopping the scheduler while the pass still waits
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text(encoding="utf-8")
    assert process.returncode == 0 and "Traceback" not in text, text
    assert STOPPED[command] in text
