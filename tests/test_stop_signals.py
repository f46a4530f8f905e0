"""SIGTERM and Ctrl-C stop `preuves serve` and `preuves watch` at the moments where they did not, or
not cleanly: during a pass over the plans, a second signal while the attempt in progress ends, and
`preuves watch --once`'s attempt in progress."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from evidence.models import Capture, PlannedAttempt
from evidence.workspace_paths import CONFIG_NAME, DATABASE_NAME
from tests.alert_helpers import free_port
from tests.polling import wait_for
from tests.test_watch import (
    _assert_each_planned_attempt_done_once,
    _booking_requests,
    _plan_one_attempt_per_site,
    _sites_on_own_hosts,
)

STARTED = {"serve": "Surveillance des plans dans ce processus", "watch": "Surveillance en cours"}
STOPPING = {"serve": "Arrêt de la surveillance", "watch": "Arrêt demandé"}
STOPPED = {"serve": "Tableau de bord arrêté.", "watch": "Surveillance arrêtée."}
SLOW_PAGE_S = 1  # five booking pages: the attempt outlasts both signals even on a busy machine


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


@contextmanager
def started(workspace, command: str, log: Path) -> Iterator[subprocess.Popen]:
    """`preuves serve|watch` on the workspace, its stderr in `log`, once it follows the plans; killed
    at the end if a failed test left it running."""
    options = ["--port", str(free_port())] if command == "serve" else []
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "preuves", "--home", str(workspace.home), command, *options],
            stderr=stderr, start_new_session=True,
        )
    try:
        assert wait_for(lambda: said(log, STARTED[command]) or process.poll() is not None, 30), log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def said(log: Path, text: str) -> int:
    return log.read_text(encoding="utf-8").count(text)


def assert_stopped_cleanly(process: subprocess.Popen, command: str, log: Path) -> None:
    process.wait(timeout=30)
    text = log.read_text(encoding="utf-8")
    assert process.returncode == 0 and "Traceback" not in text, text
    assert STOPPED[command] in text


@pytest.mark.parametrize("command", ["serve", "watch"])
def test_sigterm_during_a_pass_over_the_plans_stops_the_process(workspace, tmp_path, command):
    """The pass is held at its first write by a transaction of this test on the workspace's SQLite
    file; the signal comes while it waits, and the transaction ends once the process has begun to
    stop. The scheduler's shutdown used to hold its job store's lock while it waited for that pass,
    which then waited for the same lock to read the jobs: the process never exited."""
    (workspace.home / CONFIG_NAME).write_text("[watch]\npoll_seconds = 1\n", encoding="utf-8")
    log = tmp_path / "stderr.txt"
    with started(workspace, command, log) as process:
        with writer_holding(workspace.home / DATABASE_NAME):
            time.sleep(2)  # two passes' time (poll_seconds = 1): one now waits for the transaction
            process.send_signal(signal.SIGTERM)
            assert wait_for(lambda: said(log, STOPPING[command]), 10), log.read_text()
            time.sleep(0.5)  # the watcher is stopping the scheduler while the pass still waits
        assert_stopped_cleanly(process, command, log)


@pytest.mark.browser  # its serve process captures with Chromium on the real clock: not in the year-ahead run
def test_serve_lets_the_attempt_in_progress_end_through_a_second_signal(workspace, tmp_path):
    """SIGTERM while `preuves serve`'s watcher is on the first page of a slow site, then Ctrl-C while
    the attempt goes on: it goes on to the booking module's last step and is recorded, exit 0. The
    second signal used to end the process under the attempt."""
    log = tmp_path / "stderr.txt"
    with _sites_on_own_hosts(1, page_delay_s=SLOW_PAGE_S) as sites:
        _plan_one_attempt_per_site(workspace, sites, spacing_s=0, lead_s=2)
        with started(workspace, "serve", log) as process:
            assert wait_for(lambda: _booking_requests(sites[0]), 60), log.read_text()
            process.send_signal(signal.SIGTERM)
            assert wait_for(lambda: said(log, STOPPING["serve"]), 10), log.read_text()
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at the terminal: the whole foreground group
            again = datetime.now(UTC)
            assert wait_for(lambda: said(log, STOPPING["serve"]) == 2, 10), log.read_text()
            assert_stopped_cleanly(process, "serve", log)
        pages = _booking_requests(sites[0])
    assert pages[-1].path == "/booking/create/4963/2" and pages[-1].time > again, pages
    _assert_each_planned_attempt_done_once(workspace, 1)
    with workspace.reading() as session:
        assert session.scalar(select(Capture.state)) == "noslot"


@pytest.mark.browser  # Chromium on the real clock: not in the year-ahead run
def test_watch_once_ends_the_attempt_in_progress_and_starts_no_other(workspace, tmp_path):
    """`preuves watch --once` as a timer runs it: SIGTERM (the timer's stop) during the first of two due
    attempts. That one goes to the booking module's last step and is recorded; the second is not started and
    stays planned for the next pass; exit 0. SIGTERM used to end the process under the attempt."""
    log = tmp_path / "stderr.txt"
    with _sites_on_own_hosts(2, page_delay_s=SLOW_PAGE_S) as sites:
        _plan_one_attempt_per_site(workspace, sites, spacing_s=1, lead_s=1)  # a plan starts in the future
        time.sleep(2.2)  # both are due when the pass starts
        with log.open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "preuves", "--home", str(workspace.home), "watch", "--once"],
                stderr=stderr, start_new_session=True,
            )
        try:
            assert wait_for(lambda: _booking_requests(sites[0]), 60), log.read_text()
            process.send_signal(signal.SIGTERM)
            signalled = datetime.now(UTC)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        text = log.read_text(encoding="utf-8")
        assert process.returncode == 0 and "Traceback" not in text, text
        assert "Arrêt demandé" in text and "1 tentative(s) faite(s)." in text, text
        assert "Passage arrêté : les tentatives qui n'ont pas été faites restent au plan." in text
        pages = _booking_requests(sites[0])
        assert pages[-1].path == "/booking/create/4963/2" and pages[-1].time > signalled, pages
        assert sites[1].requests == []
    with workspace.reading() as session:
        assert session.scalar(select(Capture.state)) == "noslot"
        statuses = list(session.scalars(select(PlannedAttempt.status).order_by(PlannedAttempt.planned_at)))
    assert statuses == ["done", "planned"]
