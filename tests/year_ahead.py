"""The suite's second run, a year from now (see test_a_year_ahead.py), started as soon as the tests are
collected, in a process of its own: most of the main run waits on Chromium and the simulated site, so the
second run uses the core they leave idle instead of adding its minutes to the suite's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

DAYS_AHEAD_ENV = "PREUVES_TESTS_DAYS_AHEAD"
TEST_ID = "tests/test_a_year_ahead.py::test_the_suite_passes_a_year_from_now"
REPO = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
# The moved clock's time of day in Paris: between midnight and 01:00 (02:00 in summer) Paris is already on the
# next day while UTC is still on the previous one, the hour when code that mixes the two dates goes wrong.
MOVED_TO = time(0, 20)


def moved_instant(now: datetime, days_ahead: int) -> datetime:
    """Where the clock of a run `days_ahead` days ahead starts: that many days after `now`'s date in Paris, at
    00:20 in Paris, whatever the season (then 23:20 or 22:20 the day before in UTC)."""
    day = now.astimezone(PARIS).date() + timedelta(days=days_ahead)
    return datetime.combine(day, MOVED_TO, tzinfo=PARIS)


@dataclass
class YearAheadRun:
    process: subprocess.Popen[bytes]
    folder: Path  # its temporary files and its output, removed at the end of the main run
    started_at: datetime  # when it started: the suite may cross midnight before it is read

    @property
    def output(self) -> Path:
        return self.folder / "sortie.txt"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


RUN = pytest.StashKey[YearAheadRun]()


def start(config: pytest.Config) -> None:
    """Start the run a year ahead: every test that drives no browser, on SQLite (dates are computed in Python,
    the same on either database), the clock moved 365 days on, to 00:20 in Paris, by conftest.py."""
    folder = Path(tempfile.mkdtemp(prefix="preuves-un-an-plus-tard-"))
    started_at = datetime.now(PARIS)
    with (folder / "sortie.txt").open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--basetemp", str(folder / "run"),
                "-m", "not browser and not stress", "-k", "not postgresql",
            ],
            cwd=REPO, env={**os.environ, DAYS_AHEAD_ENV: "365"}, stdout=output, stderr=subprocess.STDOUT,
        )
    run = YearAheadRun(process, folder, started_at)
    config.stash[RUN] = run
    config.add_cleanup(run.stop)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what they do
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """When the year-ahead test is selected, start its run now and move the test last, where it collects the
    result. In a run whose clock is already moved (that run itself, or one started by hand with the variable
    set) the test has nothing to add: it is deselected."""
    selected = [item for item in items if item.nodeid == TEST_ID]
    if not selected:
        return
    items.remove(selected[0])
    if os.environ.get(DAYS_AHEAD_ENV):
        config.hook.pytest_deselected(items=selected)
        return
    items.append(selected[0])
    start(config)
