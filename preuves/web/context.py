"""What every page needs: the server's shared state, and what the viewer may see.

An organisation sees its own cases, and the attempts on their pages made from the moment its
first case on that page was created — never the attempts made before for another organisation's
case (they would tell who watched the page, and since when). See docs/security.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import abort, current_app, g
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from capture.watch import WatchSettings
from evidence.account_models import CaseOrganisation
from evidence.accounts import has_accounts, organisation_of
from evidence.models import Capture, Case
from evidence.workspace import EXPORTS_DIR, Workspace
from preuves.web.jobs import JobRunner
from preuves.web.security import Viewer
from preuves.web.settings import WebSettings
from preuves.web.throttle import LoginThrottle

NEVER = datetime.max.replace(tzinfo=UTC)  # a page none of the viewer's cases waits on


@dataclass
class WebState:
    """Shared by every request of one `preuves serve` process."""

    workspace: Workspace
    # Accounts existed when the server started: it never falls back to the open local mode.
    started_with_accounts: bool
    settings: CaptureSettings
    web_settings: WebSettings = field(default_factory=WebSettings)
    jobs: JobRunner = field(init=False)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # Given by the caller (and closed by it), or started here on the first attempt.
    shared_browser: BrowserService | None = None
    _own_browser: BrowserService | None = None
    _browser_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.jobs = JobRunner(self.workspace.home)

    @property
    def accounts(self) -> bool:
        """Whether pages need a signed-in user: asked of the database at each request, so that a
        server started without accounts closes as soon as one is created."""
        return self.started_with_accounts or has_accounts(self.workspace)

    @property
    def watch_settings(self) -> WatchSettings:
        """The workspace's [watch] and [alerts] settings (an accompanied attempt's window)."""
        return WatchSettings.from_config(self.workspace.section("watch"), self.workspace.section("alerts"))

    @property
    def exports(self) -> Path:
        """Where built dossiers wait to be downloaded (inside the owner-only workspace)."""
        folder = self.workspace.home / EXPORTS_DIR
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


def attempts_since(session: Session, target_id: int) -> datetime | None:
    """From when the viewer may see the attempts on a page: None for the local owner (all of
    them); for a user, since their organisation's first case on the page was created."""
    if viewer().is_local_owner:
        return None
    first = session.scalar(
        select(func.min(Case.created_at))
        .join(CaseOrganisation, CaseOrganisation.case_id == Case.id)
        .where(Case.target_id == target_id, CaseOrganisation.organisation_id == viewer().organisation_id)
    )
    return NEVER if first is None else first


def visible_attempts(session: Session, target_id: int) -> ColumnElement[bool]:
    """The condition on Capture rows of a page that the viewer may see."""
    since = attempts_since(session, target_id)
    on_page = Capture.target_id == target_id
    return on_page if since is None else on_page & (Capture.started_at >= since)


def attempt_visible(session: Session, capture: Capture) -> bool:
    since = attempts_since(session, capture.target_id)
    return since is None or capture.started_at >= since


def capture_or_404(session: Session, capture_id: int) -> Capture:
    """A capture the viewer may see: on a page that one of their cases waits on, made since."""
    capture = session.get(Capture, capture_id)
    if capture is None or not attempt_visible(session, capture):
        abort(404)
    return capture
