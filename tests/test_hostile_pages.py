"""Hostile or broken pages: each attempt ends, recorded, within its limit, and the next one works.

The pages are in simsite/hostile.py. An attempt on them must end in a recorded `error` (or the
state the page really shows), never hang the tool, never reach a booking-completion path, and
leave the shared browser fit for the next attempt.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import time
from datetime import timedelta

import psutil
import pytest
from sqlalchemy import select

from capture.attempt import AttemptOutcome, capture_target
from capture.settings import CaptureSettings
from capture.states import State
from evidence.models import Target
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from simsite.hostile import OFFSITE_URL, SideServer, self_signed_certificate

pytestmark = pytest.mark.browser

COUNTER = "16162"
# Long enough for a normal walk of the simulated site (about 2 s), short enough for hanging pages.
LIMIT_S = 6
# What an attempt may take beyond its limit: each recording step after a hang gets at least half a
# second, closing the context one second, then come the environment probes, the dated copy, the record.
SLACK_S = 5


async def _nothing(_browser) -> None:
    return None


@pytest.fixture
def settings(browser) -> CaptureSettings:
    browser.run(_nothing)  # Chromium started before any attempt is timed
    return CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=LIMIT_S)


def target_for(workspace, url: str, platform: str = "generic", counter: str | None = None) -> Target:
    with workspace.reading() as session:
        label = f"Dossier {len(session.scalars(select(Target)).all()) + 1}"
    case, _ = add_case(workspace, label, TargetSpec(url, platform, counter))
    with workspace.reading() as session:
        return session.get_one(Target, case.target_id)


def timed_attempt(workspace, target: Target, browser, settings: CaptureSettings) -> tuple[AttemptOutcome, float]:
    started = time.monotonic()
    outcome = capture_target(workspace, target, browser, settings)
    return outcome, time.monotonic() - started


def facts_of(workspace, outcome: AttemptOutcome) -> dict:
    [environment] = [a for a in outcome.capture.artefacts if a.kind == "environment"]
    return json.loads(workspace.blobs.read(environment.sha256))


def assert_next_attempt_works(workspace, site, browser, settings) -> None:
    """A plain no-slot page, right after the hostile one, on the same shared browser."""
    plain = target_for(workspace, f"{site.base_url}/booking/create/4963/2")
    outcome, _ = timed_attempt(workspace, plain, browser, settings)
    assert outcome.classification.state is State.NOSLOT, outcome.capture.error
    assert outcome.capture.error is None
    assert verify_workspace(workspace).ok


def test_endless_redirects_end_in_an_error(workspace, site, browser, settings):
    target = target_for(workspace, f"{site.base_url}/piege/redirection-sans-fin/1")
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.ERROR
    assert "ERR_TOO_MANY_REDIRECTS" in outcome.capture.error
    assert elapsed < LIMIT_S + SLACK_S
    hops = [r for r in site.requests if r.path.startswith("/piege/redirection-sans-fin/")]
    # Chromium gives up after 20 redirects; the one in Debian 12's fresh root (scripts/fresh-machine.sh) tries the
    # navigation twice, 40 requests: bounded all the same, which is what matters to the prefecture's server.
    assert 2 <= len(hops) <= 2 * 21
    assert_next_attempt_works(workspace, site, browser, settings)


def test_a_page_that_never_finishes_loading_ends_at_the_limit(workspace, site, browser, settings):
    with SideServer() as side:
        target = target_for(workspace, f"{side.base_url}{SideServer.STREAM_PATH}")
        outcome, elapsed = timed_attempt(workspace, target, browser, settings)
        assert side.requests == [SideServer.STREAM_PATH]
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error.startswith("délai dépassé")
    assert elapsed < LIMIT_S + SLACK_S
    # What had arrived is still kept: the page as it stood, dated.
    kinds = {a.kind for a in outcome.capture.artefacts}
    assert {"screenshot", "screenshot_annotated", "html", "environment"} <= kinds
    html = next(a for a in outcome.capture.artefacts if a.kind == "html")
    assert "Chargement sans fin" in workspace.blobs.read(html.sha256).decode()
    assert_next_attempt_works(workspace, site, browser, settings)


def test_leave_this_page_dialog_does_not_stop_the_walk(workspace, site, browser, settings):
    """« Quitter la page ? » is accepted: the walk goes on to the result page, as a person would."""
    url = f"{site.base_url}/piege/quitter/booking/create/4963"
    target = target_for(workspace, url, "ezbooking", COUNTER)
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.NOSLOT, outcome.capture.error
    assert outcome.capture.final_url.endswith("/booking/create/4963/2")
    assert elapsed < LIMIT_S + SLACK_S


def test_a_download_is_refused_and_recorded_as_an_error(workspace, site, browser, settings):
    target = target_for(workspace, f"{site.base_url}/piege/telechargement")
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.ERROR
    assert "Download is starting" in outcome.capture.error
    assert elapsed < LIMIT_S + SLACK_S
    assert not any(path.suffix == ".pdf" for path in workspace.home.rglob("*"))
    assert_next_attempt_works(workspace, site, browser, settings)


def test_popups_are_closed_and_the_page_is_recorded(workspace, site, browser, settings):
    target = target_for(workspace, f"{site.base_url}/piege/fenetres")
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    # The page itself says « no slot »: that is what is recorded, popups or not.
    assert outcome.classification.state is State.NOSLOT
    assert outcome.capture.error is None
    assert outcome.capture.final_url == f"{site.base_url}/piege/fenetres"
    assert elapsed < LIMIT_S + SLACK_S
    assert facts_of(workspace, outcome)["blocked_offsite_requests"] == [OFFSITE_URL]


def test_address_rewritten_by_the_page_is_recorded_with_the_real_document(workspace, site, browser, settings):
    """history.pushState shows a slot link in the address bar without loading it: the record says
    which address was shown and where the page really came from; no slot is claimed."""
    url = f"{site.base_url}/piege/adresse-reecrite/4963"
    target = target_for(workspace, url)
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.UNKNOWN
    assert outcome.capture.final_url == f"{site.base_url}/booking/create/4963/5/1767600000"
    assert facts_of(workspace, outcome)["document_url"] == url
    assert elapsed < LIMIT_S + SLACK_S
    assert not any(r.is_completion for r in site.requests)


def test_an_address_read_differently_by_chromium_is_blocked(workspace, site, browser, settings):
    """« http://localhost:P\\@127.0.0.1:P/… »: Python reads host 127.0.0.1, Chromium goes to localhost.
    The network guard only lets the target's own host through, so not one request leaves."""
    port = site.base_url.rsplit(":", 1)[1]
    url = f"http://localhost:{port}\\@127.0.0.1:{port}/booking/create/4963/2"
    before = len(site.requests)
    target = target_for(workspace, url)
    assert target.host == "127.0.0.1"
    outcome, _ = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.ERROR
    assert "ERR_BLOCKED_BY_CLIENT" in outcome.capture.error
    assert facts_of(workspace, outcome)["blocked_offsite_requests"][0].startswith(f"http://localhost:{port}/")
    assert len(site.requests) == before


def test_self_signed_certificate_is_refused_with_the_certificate_facts(workspace, browser, settings, tmp_path):
    """A court-grade record must not vouch for a page whose origin is not proven: Chromium refuses the
    connection, the attempt is an error, and the environment record describes the certificate shown."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl absent : pas de certificat auto-signé")
    certificate = self_signed_certificate(tmp_path)
    with SideServer(certificate) as tls:
        target = target_for(workspace, f"{tls.base_url}/booking/create/4963", "ezbooking", COUNTER)
        outcome, elapsed = timed_attempt(workspace, target, browser, settings)
        assert tls.requests == []  # not one HTTP request went over the refused connection
    assert outcome.classification.state is State.ERROR
    assert "ERR_CERT_AUTHORITY_INVALID" in outcome.capture.error
    assert elapsed < LIMIT_S + SLACK_S
    tls_facts = facts_of(workspace, outcome)["environment"]["tls"]
    assert tls_facts["verified"] is False
    assert "self" in tls_facts["verify_error"].lower()
    der = ssl.PEM_cert_to_DER_cert(certificate[0].read_text())
    assert tls_facts["certificate"]["sha256_fingerprint"] == hashlib.sha256(der).hexdigest()


# ------------------------------------------------------------------------------- stress (make stress)


def chromium_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "chrom" in process.name().lower():
                found.append(process)
        except psutil.NoSuchProcess:
            pass  # ended while being listed
    return found


@pytest.mark.stress
def test_endless_dialogs_end_at_the_limit(workspace, site, browser, settings):
    target = target_for(workspace, f"{site.base_url}/piege/dialogues-sans-fin")
    outcome, elapsed = timed_attempt(workspace, target, browser, settings)
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error.startswith("délai dépassé")
    assert elapsed < LIMIT_S + SLACK_S
    assert_next_attempt_works(workspace, site, browser, settings)


@pytest.mark.stress
@pytest.mark.parametrize("limit_s", [LIMIT_S, 90])
def test_a_50_mb_page(workspace, site, browser, settings, limit_s):
    """Short limit: the load times out. Default limit (90 s): the page loads, the HTML is kept; the
    full-page screenshot cannot be taken in time, which the record says. Reading its first 5 MB (all
    that is classified) takes about a second more, after the walk (docs/reliability.md)."""
    long = CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=limit_s)
    target = target_for(workspace, f"{site.base_url}/piege/page-geante")
    outcome, elapsed = timed_attempt(workspace, target, browser, long)
    print(f"50 MB page, limit {limit_s} s: {elapsed:.1f} s, {outcome.capture.error}")
    assert outcome.classification.state is State.ERROR, outcome.capture.error
    assert outcome.capture.error
    assert elapsed < limit_s * 1.25 + SLACK_S, elapsed
    assert_next_attempt_works(workspace, site, browser, settings)


@pytest.mark.stress
def test_hostile_pages_in_a_row_leave_no_browser_behind(workspace, site, browser, settings):
    paths = [
        "/piege/redirection-sans-fin/1", "/piege/telechargement", "/piege/fenetres",
        "/piege/adresse-reecrite/4963", "/piege/interruptions", "/piege/dialogues-sans-fin",
    ]
    assert_next_attempt_works(workspace, site, browser, settings)
    before = len(chromium_processes())
    targets = [target_for(workspace, site.base_url + path) for path in paths]
    for _ in range(5):
        for target in targets:
            outcome, elapsed = timed_attempt(workspace, target, browser, settings)
            assert elapsed < LIMIT_S + SLACK_S, (target.url, elapsed)
    assert_next_attempt_works(workspace, site, browser, settings)
    # The renderers of the contexts just closed take a moment to exit (seen as zombies, or a spare renderer
    # started meanwhile): a leak stays, they do not.
    deadline = time.monotonic() + 10
    while len(chromium_processes()) > before + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(chromium_processes()) <= before + 1
    assert not any(r.is_completion for r in site.requests)
