"""The assisted-capture set-up shared by its tests: an X server (Xvfb) for the visible window, and the
"person" who acts in it — these tests, acting through the same browser window as a human would."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from preuves.demo_person import captcha_page, person_solves_the_captcha  # noqa: F401 (the tests' person too)

DEMARCHE = "/rdvpref/reservation/demarche/7788/"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    number = f":{90 + os.getpid() % 50}"
    server = subprocess.Popen(
        ["Xvfb", number, "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = number
    yield number
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    server.terminate()
    server.wait(timeout=10)
