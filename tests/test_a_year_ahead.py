"""The suite must pass a year from now: every test that needs a date carries its own fixed clock.

This runs every test that does not drive a browser once more, in a run that believes it is 365 days later
(`PREUVES_TESTS_DAYS_AHEAD`, read by conftest.py). A test that slipped the real today into an expected text or
a plan fails here long before its date comes. The browser tests are left out: Chromium and the simulated site
keep the real clock, and none of them asserts a calendar date. So are the PostgreSQL runs of the tests that run
on both databases: dates are computed in Python, the same on either, and the suite's time is better spent once.
"""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import DAYS_AHEAD_ENV

REPO = Path(__file__).resolve().parent.parent


def test_the_suite_passes_a_year_from_now(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "run"),
            "-m", "not browser and not stress", "-k", "not postgresql",
            "--deselect", "tests/test_a_year_ahead.py",
        ],
        cwd=REPO, env={**os.environ, DAYS_AHEAD_ENV: "365"}, capture_output=True, text=True, timeout=900,
    )
    a_year_later = (datetime.now(UTC) + timedelta(days=365)).date()
    assert f"clock moved 365 days ahead: today is {a_year_later:%Y-%m-%d}" in run.stdout, run.stdout[:2000]
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-6000:]
    assert " passed" in summary and "failed" not in summary, summary
