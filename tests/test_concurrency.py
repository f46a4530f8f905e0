"""The watcher, dossier builds and `verify` at once on one SQLite workspace: no "database is
locked", no lost attempt. A short run in the default suite, five minutes under `make stress`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from capture.plan import PlannedTime, save_plan
from dossier_builder.build import build_dossier
from evidence.models import Capture, PlannedAttempt
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, init_workspace
from simsite.server import SimulatedSite
from tests.evidence_helpers import record_sample_captures, sample_png

pytestmark = pytest.mark.browser

SPACING_S = 3


def _done(workspace: Workspace) -> int:
    with workspace.reading() as session:
        return session.scalar(select(func.count()).select_from(PlannedAttempt).where(PlannedAttempt.status == "done"))


def _run_together(tmp_path: Path, seconds: int) -> None:
    """One attempt every SPACING_S seconds, each on a host of its own (127.0.0.x): the workspace's
    politeness interval (never under 2 minutes outside the tests' own settings) allows one attempt
    per host in so short a run."""
    sites = [SimulatedSite(host=f"127.0.1.{1 + n}").start() for n in range(seconds // SPACING_S)]
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home)
    try:
        start = datetime.now(UTC) + timedelta(seconds=5)
        planned = 0
        for n, site in enumerate(sites):
            case, _ = add_case(
                workspace, f"Cas {n}", TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162")
            )
            if n == 0:  # something for the dossier builds from the first second
                record_sample_captures(workspace, case.target_id, 5, screenshot=sample_png())
            at = start + timedelta(seconds=SPACING_S * n)
            save_plan(workspace, case.target_id, [PlannedTime(at, "midday", "regular")])
            planned += 1
        watcher = subprocess.Popen(
            [sys.executable, "-m", "preuves", "--home", str(home), "watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        builds = verifications = 0
        # Builds and verifications go on until the watcher has done the last planned attempt (its time, then its
        # own few seconds), at the latest by this deadline.
        deadline = time.monotonic() + seconds + 10
        while time.monotonic() < deadline and _done(workspace) < planned:
            build_dossier(workspace, "Cas 0", tmp_path / f"dossier-{builds}", workers=1)
            builds += 1
            assert verify_workspace(workspace).ok
            verifications += 1
        os.killpg(watcher.pid, signal.SIGTERM)
        _, err = watcher.communicate(timeout=120)
        assert watcher.returncode == 0, err
        assert "locked" not in err and "Erreur" not in err, err
        with workspace.reading() as session:
            statuses = dict(
                session.execute(
                    select(PlannedAttempt.status, func.count()).group_by(PlannedAttempt.status)
                ).all()
            )
            captures = session.scalar(select(func.count()).select_from(Capture))
        assert statuses == {"done": planned}, statuses
        assert captures == planned + 5
        assert builds >= 2 and verifications >= 2
        assert verify_workspace(workspace).ok
    finally:
        workspace.close()
        for site in sites:
            site.stop()
    # Like the session's site (tests/conftest.py): each site was walked, and its log shows no request
    # to a booking-completion path and no submitted text field.
    for site in sites:
        assert site.requests, site.base_url
        assert site.completion_requests() == [], site.base_url
        assert site.submitted_text_fields() == [], site.base_url


def test_watcher_dossier_and_verify_together(tmp_path):
    _run_together(tmp_path, seconds=24)


@pytest.mark.stress
def test_watcher_dossier_and_verify_together_for_five_minutes(tmp_path):
    _run_together(tmp_path, seconds=300)
