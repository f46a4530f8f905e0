"""One attempt end to end: real Chromium against the local simulated site, recorded as evidence."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from capture.annotate import annotate_screenshot
from capture.attempt import capture_target
from capture.politeness import PolitenessRefusal, host_turn
from capture.settings import CaptureSettings
from capture.states import State
from evidence.models import Target
from evidence.net_errors import address_reached, connection_failed
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace

pytestmark = pytest.mark.browser

COUNTER = "16162"


def make_target(workspace, url, counter=COUNTER, platform="ezbooking", label="Dupont") -> Target:
    case, _ = add_case(workspace, label, TargetSpec(url, platform, counter))
    with workspace.reading() as session:
        return session.scalars(select(Target).where(Target.id == case.target_id)).one()


@pytest.fixture
def classic(workspace, site):
    return make_target(workspace, f"{site.base_url}/booking/create/4963")


def attempt(workspace, target, browser, settings):
    return capture_target(workspace, target, browser, settings)


def test_noslot_recorded_with_every_artefact(workspace, site, browser, fast_settings, classic):
    outcome = attempt(workspace, classic, browser, fast_settings)
    capture = outcome.capture
    assert outcome.classification.state is State.NOSLOT
    assert capture.state == "noslot" and capture.http_status == 200
    assert capture.final_url.endswith("/booking/create/4963/2")
    assert capture.evidence_text.startswith("Il n'existe plus de plage horaire libre")
    kinds = [a.kind for a in capture.artefacts]
    assert kinds == [
        "screenshot", "screenshot_annotated", "html", "mhtml", "har", "screenshot_step", "html_step", "environment"
    ]
    for artefact in capture.artefacts:
        data = (workspace.home / artefact.blob_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == artefact.sha256 and len(data) == artefact.size
    facts = json.loads(workspace.blobs.read(capture.artefacts[-1].sha256))
    assert facts["environment"]["fresh_profile"] is True
    assert facts["clock_vs_server"]["skew_ms"] is not None
    assert facts["blocked_completion_requests"] == []
    har = json.loads(workspace.blobs.read(capture.artefacts[4].sha256))
    assert [e["request"]["method"] for e in har["log"]["entries"]].count("POST") == 2
    assert verify_workspace(workspace).ok
    posted = [r.form for r in site.requests if r.method == "POST"][-2:]
    assert posted == [
        {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"},
        {"planning": COUNTER, "nextButton": "Etape suivante"},
    ]


@pytest.mark.parametrize(
    ("mode", "state", "evidence"),
    [
        ("slots", State.SLOTS, "Description de la nature du rendez-vous"),
        ("overload", State.ERROR, "Service surchargé"),
        ("502", State.ERROR, "502"),
        ("captcha", State.CAPTCHA, ""),
    ],
)
def test_each_state_end_to_end(workspace, site, browser, fast_settings, classic, mode, state, evidence):
    site.mode = mode
    outcome = attempt(workspace, classic, browser, fast_settings)
    assert outcome.classification.state is state, outcome.classification
    assert evidence in outcome.classification.evidence_text
    assert verify_workspace(workspace).ok


def test_rdvpref_stops_at_the_captcha(workspace, site, browser, fast_settings):
    target = make_target(workspace, f"{site.base_url}/rdvpref/reservation/demarche/7788/", None, "rdvpref")
    outcome = attempt(workspace, target, browser, fast_settings)
    assert outcome.classification.state is State.CAPTCHA
    assert outcome.capture.final_url.endswith("/rdvpref/reservation/demarche/7788/cgu/")


def test_hanging_page_is_an_error_within_the_limit_and_next_attempt_works(
    workspace, site, browser, classic, fast_settings
):
    settings = CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=6)  # a normal walk takes about 2 s
    site.mode = "hang"
    started = time.monotonic()
    outcome = attempt(workspace, classic, browser, settings)
    elapsed = time.monotonic() - started
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error.startswith("délai dépassé")
    assert elapsed < settings.attempt_timeout_s + 5
    site.mode = "noslot"
    assert attempt(workspace, classic, browser, fast_settings).classification.state is State.NOSLOT


def test_browser_crash_is_survived(workspace, site, browser, fast_settings, classic):
    browser.kill_browser()
    assert attempt(workspace, classic, browser, fast_settings).classification.state is State.NOSLOT


def test_politeness_interval_and_one_attempt_per_host(workspace, site, browser, classic):
    polite = CaptureSettings(min_interval=timedelta(minutes=10))
    attempt(workspace, classic, browser, polite)
    with pytest.raises(PolitenessRefusal, match="trop récente : prochaine tentative possible le "):
        attempt(workspace, classic, browser, polite)
    with host_turn(workspace, classic.host):
        with pytest.raises(PolitenessRefusal, match="une tentative est déjà en cours sur 127.0.0.1"):
            attempt(workspace, classic, browser, CaptureSettings(min_interval=timedelta(0)))


def test_capture_command_line(cli, site, tmp_path):
    assert cli("init").code == 0
    url = f"{site.base_url}/booking/create/4963"
    added = cli("case", "add", "Dupont", "--url", url, "--counter", COUNTER, "--allow-any-domain")
    assert added.code == 0
    result = cli("capture", "Dupont")
    assert result.code == 0, result.err
    assert "Tentative n° 1 du " in result.out and ": aucun créneau — « Il n'existe plus" in result.out
    again = cli("capture", "Dupont")
    assert again.code == 1
    assert "trop récente" in again.err
    assert cli("verify").code == 0


def test_jump_to_a_slot_link_is_blocked_at_the_network_layer(workspace, site, browser, fast_settings):
    target = make_target(workspace, f"{site.base_url}/piege/saut-vers-creneau/4963", None, "generic")
    outcome = attempt(workspace, target, browser, fast_settings)
    assert outcome.capture.error == (
        f"requête de réservation bloquée : {site.base_url}/booking/create/4963/5/1767600000"
    )
    assert outcome.classification.state is State.ERROR
    assert site.completion_requests() == []
    # The page replaces itself while it is recorded, at times: it is recorded again once settled.
    assert {"screenshot", "html", "mhtml"} <= {a.kind for a in outcome.capture.artefacts}
    facts = json.loads(workspace.blobs.read(outcome.capture.artefacts[-1].sha256))
    assert facts["blocked_completion_requests"] == [f"{site.base_url}/booking/create/4963/5/1767600000"]


def test_dialogs_popups_and_downloads_do_not_stop_an_attempt(workspace, site, browser, fast_settings):
    target = make_target(workspace, f"{site.base_url}/piege/interruptions", None, "generic")
    started = time.monotonic()
    outcome = attempt(workspace, target, browser, fast_settings)
    assert time.monotonic() - started < fast_settings.attempt_timeout_s
    assert outcome.capture.error is None
    assert outcome.classification.state is State.UNKNOWN
    assert outcome.capture.final_url == f"{site.base_url}/piege/interruptions"
    assert attempt(workspace, target, browser, fast_settings).classification.state is State.UNKNOWN


def test_an_address_that_does_not_resolve_is_said_in_french_with_chromium_code(workspace, browser, fast_settings):
    target = make_target(workspace, "https://rdv.prefecture.invalid/booking/create/1", None, "generic")
    outcome = attempt(workspace, target, browser, fast_settings)
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error == (
        "page inaccessible : nom de domaine introuvable (pas de réseau, ou adresse mal écrite) "
        "[net::ERR_NAME_NOT_RESOLVED] — https://rdv.prefecture.invalid/booking/create/1"
    )
    # Recorded as it happened, and read back by the dossier as a failure of the attempt's own connection.
    assert outcome.capture.http_status is None and connection_failed(outcome.capture.error)
    # The page is Chromium's own error page, at an address no reader should be shown: the dated copy's banner
    # names the address the attempt asked for (the same copy as one drawn with it), and the page's stays recorded.
    assert outcome.capture.final_url.startswith("chrome-error:") and address_reached(outcome.capture.final_url) is None
    files = {a.kind: (workspace.home / a.blob_path).read_bytes() for a in outcome.capture.artefacts}
    assert files["screenshot_annotated"] == annotate_screenshot(
        files["screenshot"], taken_at=outcome.capture.started_at, url=outcome.capture.url_requested,
        state_label=State.ERROR.label, attempt_label="tentative n° 1",
        sha256_hex=hashlib.sha256(files["screenshot"]).hexdigest(),
    )
    if (Path(browser.executable).parent / "locales" / "fr.pak").exists():  # chromium-l10n, which the set-up installs
        assert "Ce site est inaccessible" in files["html"].decode()  # Chromium's own page, in French too
