"""Shared fixtures: a migrated temporary workspace, a CLI runner, the simulated site, a Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from evidence.workspace import Workspace, init_workspace
from preuves.cli import run
from simsite.server import SimulatedSite


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws, _ = init_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `preuves --home <tmp>/ws ARGS…` in-process and return its exit code and output."""

    def invoke(*args: str, home: Path | None = None) -> CliResult:
        capsys.readouterr()
        code = run(["--home", str(home or tmp_path / "ws"), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


# --- the local simulated booking site and a shared Chromium -------------------------------


@pytest.fixture(scope="session")
def site_server() -> Iterator[SimulatedSite]:
    """One simulated site for the whole run; at the end its log must show that the tool never
    asked for a booking-completion path and never submitted a text field."""
    with SimulatedSite(mode="noslot") as server:
        yield server
        assert server.completion_requests() == []
        assert server.submitted_text_fields() == []


@pytest.fixture
def site(site_server: SimulatedSite) -> Iterator[SimulatedSite]:
    site_server.mode = "noslot"
    yield site_server
    site_server.mode = "noslot"


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserService]:
    with BrowserService() as service:
        yield service


@pytest.fixture
def fast_settings() -> CaptureSettings:
    """Test settings: no politeness wait between tests' attempts, a short attempt limit."""
    return CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=12)
