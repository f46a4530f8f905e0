"""The dashboard served for real (waitress on 127.0.0.1, a free port) and a Chromium to drive it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from capture.chromium import BrowserService, find_chromium
from capture.settings import CaptureSettings
from evidence.workspace import Workspace
from preuves.web.app import create_app
from preuves.web.server import make_server


@contextmanager
def dashboard(
    workspace: Workspace, *, accounts: bool, settings: CaptureSettings | None = None,
    browser: BrowserService | None = None, **server_options: object,
) -> Iterator[str]:
    """Serve the dashboard in a thread (the server of `preuves serve`, with fewer threads unless
    `server_options` say otherwise); yield its base URL; stop it and its jobs afterwards."""
    app = create_app(workspace, accounts=accounts, settings=settings, browser=browser)
    server = make_server(app, "127.0.0.1", 0, **{"threads": 4, **server_options})
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Every channel is closed in the server's own thread (closing them from here raced its
        # select() on their descriptors: « Bad file descriptor »); with none left, its loop ends.
        try:
            server.trigger.pull_trigger(lambda: _close_every_channel(server))
        except OSError:  # the trigger itself was closed (« unhandled close event »): close them from here
            _close_every_channel(server)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        app.extensions["preuves"].close()
        assert not thread.is_alive(), "the dashboard's server did not stop"


def _close_every_channel(server) -> None:  # type: ignore[no-untyped-def]
    for channel in list(server._map.values()):
        channel.handle_close()


@contextmanager
def page_browser() -> Iterator[Browser]:
    """A Chromium for the person using the dashboard (not the one that makes the attempts)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(playwright, None))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with page_browser() as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A French-speaking page of its own (downloads accepted), for the person using the dashboard."""
    context = chromium.new_context(locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
