"""The suite must pass a year from now: every test that needs a date carries its own fixed clock.

Every test that does not drive a browser runs once more, in a run that believes it is 365 days later
(`PREUVES_TESTS_DAYS_AHEAD`, read by conftest.py), started at the beginning of the suite beside it
(tests/year_ahead.py); this test, moved last, reads its result. A test that slipped the real today into an
expected text or a plan fails here long before its date comes. The browser tests are left out: Chromium and
the simulated site keep the real clock, and none of them asserts a calendar date. So are the PostgreSQL runs of
the tests that run on both databases: dates are computed in Python, the same on either.
"""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.year_ahead import RUN


def test_the_suite_passes_a_year_from_now(request: pytest.FixtureRequest) -> None:
    run = request.config.stash[RUN]
    try:
        code = run.process.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        pytest.fail("la série de tests un an plus tard n'a pas fini en 20 minutes")
    stdout = run.output.read_text(errors="replace")
    a_year_later = (datetime.now(UTC) + timedelta(days=365)).date()
    assert f"clock moved 365 days ahead: today is {a_year_later:%Y-%m-%d}" in stdout, stdout[:2000]
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    assert code == 0, stdout[-6000:]
    assert " passed" in summary and "failed" not in summary, summary
