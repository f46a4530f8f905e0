"""The suite must pass a year from now: every test that needs a date carries its own fixed clock.

Every test that does not drive a browser runs once more, in a run that believes it is 365 days later, at
00:20 in Paris (`PREUVES_TESTS_DAYS_AHEAD`, read by conftest.py), started at the beginning of the suite beside
it (tests/year_ahead.py); this test, moved last, reads its result. A test that slipped the real today into an
expected text or a plan fails here long before its date comes. At 00:20 in Paris, UTC is still on the day
before (23:20 in winter, 22:20 in summer): a test or a piece of the product that takes « today » in UTC where
it means Paris fails here too, whatever the hour the suite runs at. The browser tests are left out: Chromium and
the simulated site keep the real clock, and none of them asserts a calendar date. So are the PostgreSQL runs of
the tests that run on both databases: dates are computed in Python, the same on either.
"""

import re
import subprocess
from datetime import date, datetime

import pytest

from tests.year_ahead import MOVED_TO, PARIS, RUN, moved_instant


def test_the_suite_passes_a_year_from_now(request: pytest.FixtureRequest) -> None:
    run = request.config.stash[RUN]
    try:
        code = run.process.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        pytest.fail("la série de tests un an plus tard n'a pas fini en 20 minutes")
    stdout = run.output.read_text(errors="replace")
    moved = re.search(r"clock moved 365 days ahead: today is (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) in Paris", stdout)
    assert moved, stdout[:2000]
    # Its clock moved when it started; the suite may since have crossed midnight (in Paris).
    earliest, latest = (moved_instant(moment, 365).date() for moment in (run.started_at, datetime.now(PARIS)))
    assert earliest <= date.fromisoformat(moved[1]) <= latest, moved[0]
    assert f"{MOVED_TO:%H:%M}" <= moved[2] < "01:00", moved[0]  # still the hour when Paris and UTC disagree
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    assert code == 0, stdout[-6000:]
    assert " passed" in summary and "failed" not in summary, summary
