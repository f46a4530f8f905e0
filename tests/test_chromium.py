"""Which Chromium a capture starts (capture/chromium.py find_chromium): the configured one, else
Playwright's own, else Debian's /usr/lib/chromium/chromium; none → how to install one.

The Playwright object is the function's input: the real one where the machine decides, a stand-in
holding only `.chromium.executable_path` to say "Playwright's own browser is there / is not".
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from playwright.async_api import Browser
from playwright.sync_api import Playwright, sync_playwright

from capture import chromium
from capture.browser_diagnosis import missing_library
from capture.chromium import (
    DEBIAN_CHROMIUM,
    INSTALL_HINT,
    BrowserService,
    BrowserUnavailable,
    Recycling,
    find_chromium,
)
from tests.conftest import CliResult

OFFICIAL = "https://www.val-doise.gouv.fr/booking/create/11343"
debian_chromium = pytest.mark.skipif(
    not os.access(DEBIAN_CHROMIUM, os.X_OK), reason=f"{DEBIAN_CHROMIUM} absent : apt-get install chromium"
)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


def playwright_with_own_browser(path: Path | str) -> SimpleNamespace:
    """A stand-in for the Playwright object: only where it says its own Chromium is."""
    return SimpleNamespace(chromium=SimpleNamespace(executable_path=str(path)))


def executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_configured_path_that_does_not_exist_is_refused(playwright, tmp_path):
    configured = str(tmp_path / "absent" / "chromium")
    with pytest.raises(BrowserUnavailable) as refused:
        find_chromium(playwright, configured)
    assert str(refused.value) == f"Chromium introuvable à l'emplacement configuré : {configured}"
    assert refused.value.exit_code == 2


def test_a_configured_file_that_cannot_run_is_refused(playwright, tmp_path):
    """No fallback to another browser: the user asked for this one."""
    configured = tmp_path / "chromium"
    configured.write_text("pas un programme", encoding="utf-8")
    configured.chmod(0o644)
    with pytest.raises(BrowserUnavailable, match="^Chromium introuvable à l'emplacement configuré : "):
        find_chromium(playwright, str(configured))


def test_a_configured_executable_is_returned_as_is(playwright, tmp_path):
    configured = str(executable(tmp_path / "mon-chromium"))
    assert find_chromium(playwright, configured) == configured
    # It comes before Playwright's own browser too.
    own = executable(tmp_path / "chrome")
    assert find_chromium(playwright_with_own_browser(own), configured) == configured


def test_the_real_playwright_object(playwright):
    """On this machine: Playwright's own browser if it was downloaded, else Debian's, else the hint."""
    own = playwright.chromium.executable_path
    if os.path.isfile(own) and os.access(own, os.X_OK):
        expected = own
    elif os.access(DEBIAN_CHROMIUM, os.X_OK):
        expected = DEBIAN_CHROMIUM
    else:
        with pytest.raises(BrowserUnavailable, match="^aucun Chromium trouvé"):
            find_chromium(playwright, None)
        return
    found = find_chromium(playwright, None)
    assert found == expected and os.access(found, os.X_OK)


@pytest.mark.parametrize("configured", [None, ""])  # an empty chromium_path means none
def test_playwright_own_browser_comes_before_debian(tmp_path, configured):
    (tmp_path / "chrome-linux64").mkdir()
    own = str(executable(tmp_path / "chrome-linux64" / "chrome"))
    assert find_chromium(playwright_with_own_browser(own), configured) == own


@debian_chromium
@pytest.mark.parametrize("own", ["absent", "not-executable", "folder"])
def test_without_playwright_own_browser_debian_chromium(playwright, tmp_path, own):
    path = tmp_path / "chrome"
    if own == "not-executable":
        path.write_bytes(b"\x7fELF")
        path.chmod(0o644)
    elif own == "folder":
        path.mkdir()
    assert find_chromium(playwright_with_own_browser(path), None) == DEBIAN_CHROMIUM


def test_none_found_gives_the_install_hint(tmp_path, monkeypatch):
    # This machine's Debian Chromium, if any, is hidden: the function reads the module's constant.
    monkeypatch.setattr(chromium, "DEBIAN_CHROMIUM", str(tmp_path / "usr-lib-chromium" / "chromium"))
    with pytest.raises(BrowserUnavailable) as refused:
        find_chromium(playwright_with_own_browser(tmp_path / "chrome"), None)
    assert str(refused.value) == INSTALL_HINT and refused.value.exit_code == 2
    assert "apt-get install chromium" in INSTALL_HINT and "playwright install chromium" in INSTALL_HINT


# --- the command line ----------------------------------------------------------------------------


def journal_head(home: Path) -> tuple[int, str]:
    with sqlite3.connect(home / "preuves.sqlite3") as db:
        return db.execute("SELECT seq, entry_hash FROM journal_entries ORDER BY seq DESC LIMIT 1").fetchone()


def test_capture_with_a_missing_configured_chromium(cli, tmp_path):
    """One French error line, exit 2, and no attempt recorded (the host's interval is not spent)."""
    home = tmp_path / "ws"
    assert cli("init").code == 0
    assert cli("case", "add", "Dupont", f"--url={OFFICIAL}", "--counter=16161").code == 0
    missing = tmp_path / "absent" / "chromium"
    config = home / "preuves.toml"
    text = config.read_text(encoding="utf-8")
    assert '# chromium_path = ""' in text
    setting = f"chromium_path = {json.dumps(str(missing))}"  # a JSON string is a TOML basic string
    config.write_text(text.replace('# chromium_path = ""', setting), encoding="utf-8")
    before = journal_head(home)

    result = cli("capture", "Dupont")

    assert result.code == 2 and result.out == ""
    lines = result.err.strip().splitlines()
    assert lines[-1] == f"Erreur : Chromium introuvable à l'emplacement configuré : {missing}"
    # Before it, at most the announcement of the attempt; no traceback, no second error.
    assert all(line.startswith("Tentative sur ") for line in lines[:-1]) and len(lines) <= 2, lines
    assert journal_head(home) == before
    assert json.loads(cli("case", "show", "Dupont", "--json").out)["captures"] == 0


def test_a_configured_folder_is_refused(playwright, tmp_path):
    """A folder is « executable » to os.access: it must still not be taken for a browser."""
    with pytest.raises(BrowserUnavailable) as refused:
        find_chromium(playwright, str(tmp_path))
    assert str(refused.value) == f"Chromium introuvable à l'emplacement configuré : {tmp_path}"


# --- a browser or a driver that cannot start --------------------------------------------------------


def add_case_with_chromium(cli, tmp_path: Path, chromium_path: Path | None = None) -> Path:
    home = tmp_path / "ws"
    assert cli("init").code == 0
    assert cli("case", "add", "Dupont", f"--url={OFFICIAL}", "--counter=16161").code == 0
    if chromium_path is not None:
        config = home / "preuves.toml"
        setting = f"chromium_path = {json.dumps(str(chromium_path))}"
        config.write_text(config.read_text(encoding="utf-8").replace('# chromium_path = ""', setting), "utf-8")
    return home


def assert_one_error_line_and_nothing_recorded(cli, result, home: Path, before: tuple[int, str], error: str):
    assert result.code == 2 and result.out == ""
    lines = result.err.strip().splitlines()
    assert lines[-1] == f"Erreur : {error}"
    assert all(line.startswith("Tentative sur ") for line in lines[:-1]) and len(lines) <= 2, lines
    assert journal_head(home) == before
    assert json.loads(cli("case", "show", "Dupont", "--json").out)["captures"] == 0


def test_a_driver_missing_a_library_is_named_with_its_package(cli, tmp_path):
    """A minimal Debian lacks libatomic1, which Playwright's Node.js driver needs: the loader's error is
    reproduced with an unloadable libatomic.so.1 ahead in the library path. The command runs in a process of
    its own, so that all it writes on the terminal (the driver's included) is read."""
    home = add_case_with_chromium(cli, tmp_path)
    before = journal_head(home)
    broken = tmp_path / "lib"
    broken.mkdir()
    (broken / "libatomic.so.1").write_bytes(b"")

    done = subprocess.run(
        [sys.executable, "-m", "preuves", "--home", str(home), "capture", "Dupont"],
        env={**os.environ, "LD_LIBRARY_PATH": str(broken)}, capture_output=True, text=True, timeout=120,
    )

    result = CliResult(done.returncode, done.stdout, done.stderr)
    assert_one_error_line_and_nothing_recorded(
        cli, result, home, before,
        "le pilote du navigateur (Playwright) ne démarre pas : bibliothèque manquante libatomic.so.1 "
        "(installez-la : « sudo apt-get install libatomic1 »)",
    )


def test_a_chromium_missing_a_library_is_named_with_its_package(cli, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text(
        "#!/bin/sh\necho \"$0: error while loading shared libraries: libnss3.so: cannot open shared object file: "
        "No such file or directory\" >&2\nexit 127\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    home = add_case_with_chromium(cli, tmp_path, fake)
    before = journal_head(home)

    result = cli("capture", "Dupont")

    assert_one_error_line_and_nothing_recorded(
        cli, result, home, before,
        f"Chromium ne démarre pas ({fake}) : bibliothèque manquante libnss3.so "
        "(installez-la : « sudo apt-get install libnss3 »)",
    )


@pytest.mark.parametrize(
    ("log", "library"),
    [
        ("node: error while loading shared libraries: libatomic.so.1: cannot open shared object file", "libatomic.so.1"),
        ("x: error while loading shared libraries: /opt/lib/libgbm.so.1: file too short", "libgbm.so.1"),
        ("Browser logs: nothing about libraries", None),
    ],
)
def test_the_missing_library_is_read_from_the_loader_message(log, library):
    assert missing_library(log) == library


# --- recycling: a watcher runs for weeks ------------------------------------------------------------------


def driver_pids() -> set[int]:
    driver = BrowserService._driver_path()
    return {child.pid for child in psutil.Process().children() if child.exe() == driver}


@debian_chromium
def test_browser_and_driver_are_started_afresh_after_n_attempts():
    async def same(browser: Browser) -> Browser:
        return browser

    others = driver_pids()  # other tests' Playwright (the module's fixture) run their own driver
    with BrowserService(recycling=Recycling(after_attempts=2)) as service:
        seen = []
        for _ in range(5):
            seen.append((service.run(same), frozenset(driver_pids() - others)))
        assert service.restarts == 2
    browsers = [browser for browser, _ in seen]
    assert browsers[0] is browsers[1] and browsers[2] is browsers[3]
    assert len({id(browser) for browser in browsers}) == 3
    drivers = [pids for _, pids in seen]
    assert drivers[0] == drivers[1] != drivers[2] == drivers[3] != drivers[4]
    assert all(len(pids) == 1 for pids in drivers)  # the old driver is gone each time


@debian_chromium
def test_recycling_waits_for_the_attempt_in_progress():
    """Due while a long attempt runs: the next attempt waits for it, then gets a new browser."""
    events: dict[str, float] = {}

    async def long_attempt(browser: Browser) -> Browser:
        await asyncio.sleep(2)
        assert browser.is_connected()  # never closed under an attempt
        events["long_done"] = time.monotonic()
        return browser

    async def quick(browser: Browser) -> Browser:
        events.setdefault("started_" + str(len(events)), time.monotonic())
        return browser

    with BrowserService(recycling=Recycling(after_attempts=2)) as service:
        service.run(quick)  # the browser is started
        result: dict[str, Browser] = {}
        long = threading.Thread(target=lambda: result.setdefault("long", service.run(long_attempt)))
        long.start()
        time.sleep(0.5)
        second = service.run(quick)  # two attempts done: recycling is due, with the long one still running
        assert service.restarts == 0 and "long_done" not in events
        third_started = time.monotonic()
        third = service.run(quick)
        long.join()
    assert second is result["long"] and third is not second
    assert events["long_done"] <= time.monotonic() and third_started < events["long_done"]
    assert service.restarts == 1


@debian_chromium
def test_a_browser_over_its_memory_limit_is_recycled():
    async def same(browser: Browser) -> Browser:
        return browser

    limit = Recycling(after_attempts=1000, above_mib=1, check_memory_every=1)
    with BrowserService(recycling=limit) as service:
        first = service.run(same)
        assert service.memory_mib() > 50  # a real Chromium, its helpers and the driver
        second = service.run(same)
        assert second is not first and service.restarts == 1


@debian_chromium
def test_memory_counts_the_services_own_driver_only():
    """Another Playwright in the same process (a benchmark's bare script, a test's) runs a driver of its own: its
    memory is not this service's, and does not bring this service's recycling forward."""

    async def same(browser: Browser) -> Browser:
        return browser

    others = driver_pids()  # other tests' Playwright (the module's fixture) run their own driver
    with BrowserService() as first, BrowserService() as second:
        first.run(same)
        second.run(same)
        ours = [psutil.Process(pid) for pid in driver_pids() - others]
        trees = [process for driver in ours for process in (driver, *driver.children(recursive=True))]
        both = sum(process.memory_full_info().pss for process in trees) / (1024 * 1024)
        first_mib, second_mib = first.memory_mib(), second.memory_mib()
    assert len(ours) == 2 and min(first_mib, second_mib) > 50  # a real Chromium, its helpers and the driver
    assert 0.7 * both < first_mib + second_mib < 1.3 * both  # each driver counted once, by its own service
