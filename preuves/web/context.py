"""What every page needs: the server's shared state, and the cases the viewer may see."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import abort, current_app, g
from sqlalchemy.orm import Session

from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from capture.watch import WatchSettings
from evidence.accounts import organisation_of
from evidence.models import Capture, Case
from evidence.workspace import Workspace
from preuves.web.jobs import JobRunner
from preuves.web.security import Viewer


@dataclass
class WebState:
    """Shared by every request of one `preuves serve` process."""

    workspace: Workspace
    accounts: bool
    settings: CaptureSettings
    jobs: JobRunner = field(default_factory=JobRunner)
    # Given by the caller (and closed by it), or started here on the first attempt.
    shared_browser: BrowserService | None = None
    _own_browser: BrowserService | None = None
    _browser_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def watch_settings(self) -> WatchSettings:
        """The workspace's [watch] and [alerts] settings (an accompanied attempt's window)."""
        return WatchSettings.from_config(self.workspace.section("watch"), self.workspace.section("alerts"))

    @property
    def exports(self) -> Path:
        """Where built dossiers wait to be downloaded (inside the owner-only workspace)."""
        folder = self.workspace.home / "exports"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def browser(self) -> BrowserService:
        """One headless Chromium for the whole server."""
        if self.shared_browser is not None:
            return self.shared_browser
        with self._browser_lock:
            if self._own_browser is None:
                self._own_browser = BrowserService(self.settings.chromium_path)
            return self._own_browser

    def close(self) -> None:
        self.jobs.shutdown()
        if self._own_browser is not None:
            self._own_browser.close()


def state() -> WebState:
    return current_app.extensions["preuves"]


def viewer() -> Viewer:
    return g.viewer


def may_see(session: Session, case: Case) -> bool:
    seen_by = viewer()
    return seen_by.is_local_owner or organisation_of(session, case.id) == seen_by.organisation_id


def case_or_404(session: Session, case_id: int) -> Case:
    """The case if the viewer may see it; another organisation's case does not exist for them."""
    case = session.get(Case, case_id)
    if case is None or not may_see(session, case):
        abort(404)
    return case


def capture_or_404(session: Session, capture_id: int) -> Capture:
    """A capture the viewer may see: one of a target that one of their cases waits on."""
    capture = session.get(Capture, capture_id)
    if capture is None or not any(may_see(session, case) for case in capture.target.cases):
        abort(404)
    return capture
