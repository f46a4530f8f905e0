"""The suite must pass a year from now: every test that needs a date carries its own fixed clock.

Every test that does not drive a browser runs once more, in a run that believes it is 365 days later
(`PREUVES_TESTS_DAYS_AHEAD`, read by conftest.py), started at the beginning of the suite beside it
(tests/year_ahead.py); this test, moved last, reads its result. A test that slipped the real today into an
expected text or a plan fails here long before its date comes. The browser tests are left out: Chromium and
the simulated site keep the real clock, and none of them asserts a calendar date. So are the PostgreSQL runs of
the tests that run on both databases: dates are computed in Python, the same on either.
"""

import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.year_ahead import RUN


def test_the_suite_passes_a_year_from_now(request: pytest.FixtureRequest) -> None:
    run = request.config.stash[RUN]
    try:
        code = run.process.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        pytest.fail("la série de tests un an plus tard n'a pas fini en 20 minutes")
    stdout = run.output.read_text(errors="replace")
    moved = re.search(r"clock moved 365 days ahead: today is (\d{4}-\d{2}-\d{2})", stdout)
    assert moved, stdout[:2000]
    # Its clock moved when it started; the suite may since have crossed midnight (UTC).
    a_year_after_start = run.started_on + timedelta(days=365)
    a_year_after_now = datetime.now(UTC).date() + timedelta(days=365)
    assert a_year_after_start <= date.fromisoformat(moved[1]) <= a_year_after_now, moved[0]
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    assert code == 0, stdout[-6000:]
    assert " passed" in summary and "failed" not in summary, summary
