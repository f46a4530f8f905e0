"""Assisted capture in a visible Chromium under Xvfb: a person solves the captcha, the tool records.

The "person" here is this test acting through the same visible browser window, as a human would;
the tool's own code only opens the page, waits and records.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser

from capture.attempt import AttemptOutcome, capture_target
from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from capture.states import State
from evidence.models import Target
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from preuves.demo_person import person_acts
from simsite.server import SimulatedSite
from tests.assisted_helpers import DEMARCHE, captcha_page, display, person_solves_the_captcha  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb absent (apt-get install xvfb)"),
]


def assisted_attempt(
    workspace, site: SimulatedSite, browser: BrowserService, label: str,
    person: Callable[[Browser], Awaitable[None]],
) -> AttemptOutcome:
    """An assisted attempt on a new case, while `person` acts in the visible window."""
    case, _ = add_case(workspace, label, TargetSpec(site.base_url + DEMARCHE, "rdvpref"))
    with workspace.reading() as session:
        target = session.get(Target, case.target_id)
    acting = person_acts(browser, person)
    outcome = capture_target(workspace, target, browser, CaptureSettings(assisted_timeout_s=60), assisted=True)
    acting.join(timeout=30)
    return outcome


def test_person_solves_captcha_tool_records_every_page(workspace, display):
    with SimulatedSite(mode="noslot") as site, BrowserService(headless=False) as browser:
        outcome = assisted_attempt(workspace, site, browser, "Assistée", person_solves_the_captcha)
        capture = outcome.capture
        assert capture.assisted is True
        assert outcome.classification.state is State.NOSLOT
        assert capture.final_url.endswith(DEMARCHE + "creneau/")
        kinds = [a.kind for a in capture.artefacts]
        assert kinds.count("assisted_page_screenshot") >= 1  # the captcha page, as the person saw it
        first_page = next(a for a in capture.artefacts if a.kind == "assisted_page_html")
        first_html = workspace.blobs.read(first_page.sha256).decode("utf-8")
        assert "captchaFormulaireExtInput" in first_html, first_html[:500]
        shots = {a.kind: a.sha256 for a in capture.artefacts}
        assert shots["assisted_page_screenshot"] != shots["screenshot"]
        assert "screenshot_annotated" in kinds
        # The person's captcha answer went through; nothing of booking did.
        assert any("_validerCaptcha" in r.path for r in site.requests)
        assert site.completion_requests() == [r for r in site.requests if "_validerCaptcha" in r.path]
        assert verify_workspace(workspace).ok


def test_a_slow_page_after_the_captcha_does_not_end_the_assisted_capture(workspace, display):
    """Real prefecture sites take seconds to answer: while the person's click is still loading, the
    tool keeps waiting for the page it leads to."""

    def slow_after_captcha(request) -> None:  # type: ignore[no-untyped-def]
        if "_validerCaptcha" in request.path:
            time.sleep(3)

    with (
        SimulatedSite(mode="noslot", on_request=slow_after_captcha) as site,
        BrowserService(headless=False) as browser,
    ):
        outcome = assisted_attempt(workspace, site, browser, "Assistée lente", person_solves_the_captcha)
        assert outcome.capture.error is None, outcome.capture.error
        assert outcome.classification.state is State.NOSLOT
        assert outcome.capture.final_url.endswith(DEMARCHE + "creneau/")


async def person_closes_the_window(chromium: Browser) -> None:
    page = await captcha_page(chromium)
    await asyncio.sleep(1.5)  # long enough for the tool to have seen the page
    await page.close()


def test_a_window_closed_by_the_person_keeps_the_page_they_saw(workspace, display):
    with SimulatedSite(mode="noslot") as site, BrowserService(headless=False) as browser:
        outcome = assisted_attempt(workspace, site, browser, "Assistée fermée", person_closes_the_window)
        assert outcome.classification.state is State.ERROR
        assert outcome.capture.error == "fenêtre fermée avant la page finale : les pages vues sont gardées"
        kept = [a for a in outcome.capture.artefacts if a.kind == "assisted_page_html"]
        assert len(kept) == 1
        assert b"captchaFormulaireExtInput" in workspace.blobs.read(kept[0].sha256)
        assert verify_workspace(workspace).ok


async def person_opens_the_personal_details_page(chromium: Browser) -> None:
    page = await captcha_page(chromium)
    await page.evaluate(f"location.href = '{DEMARCHE}informations/'")


def test_a_booking_step_opened_by_the_person_ends_the_assisted_capture_at_once(workspace, display):
    with SimulatedSite(mode="noslot") as site, BrowserService(headless=False) as browser:
        started = time.monotonic()
        outcome = assisted_attempt(
            workspace, site, browser, "Assistée bloquée", person_opens_the_personal_details_page
        )
        # Ended by the blocked request, not by the assisted time limit (60 s); the margin is for starting a
        # visible Chromium on a busy machine (32 s were seen at the start of the suite, beside the year-ahead run).
        assert time.monotonic() - started < 50
        assert outcome.capture.error == f"requête de réservation bloquée : {site.base_url}{DEMARCHE}informations/"
        assert site.completion_requests() == []
