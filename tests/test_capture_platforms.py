"""Every page variant, captured end to end: a real Chromium against the simulated site, the capture recorded,
its state, decisive text and observations asserted (the same variants on real and rebuilt pages:
test_classify_real_pages.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from capture.attempt import AttemptOutcome, capture_target
from capture.chromium import DEBIAN_CHROMIUM
from capture.classify import classify
from capture.states import State
from evidence.models import Target
from evidence.observations import PageObservations
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from simsite import rdvpref
from simsite.eappointment import NOSLOT_DIALOG
from simsite.helppages import FAQ_PATH, RDVPREF_HELP_PATH
from simsite.server import SimulatedSite

pytestmark = pytest.mark.browser

CRENEAU = "/rdvpref/reservation/demarche/7788/creneau/"
SEARCH = "/prendre_rdv?public_link_organisation_id=2458"
EAPPOINTMENT = "/eAppointmentpref94/element/jsp/specific/pref94.jsp"


def capture(workspace, site, browser, settings, path: str, platform: str, counter: str | None = None,
            label: str = "Dupont") -> AttemptOutcome:
    case, _ = add_case(workspace, label, TargetSpec(site.base_url + path, platform, counter))
    with workspace.reading() as session:
        target = session.scalars(select(Target).where(Target.id == case.target_id)).one()
    return capture_target(workspace, target, browser, settings)


def observed(outcome: AttemptOutcome) -> PageObservations:
    return PageObservations.from_json(outcome.capture.observations)


def kinds(outcome: AttemptOutcome) -> list[str]:
    return [artefact.kind for artefact in outcome.capture.artefacts]


# ------------------------------------------------------------------------------------------ RDV Préfecture


@pytest.mark.parametrize(
    ("mode", "state", "evidence"),
    [
        ("noslot", State.NOSLOT, "Aucun créneau disponible à partir de cette date. Veuillez réessayer ultérieurement."),
        ("noslot_week", State.NOSLOT, "Aucun créneau disponible sur cette semaine"),
        ("noslot_unpublished", State.NOSLOT, "Veuillez réessayer ultérieurement."),
        ("slots", State.SLOTS, "3 créneau(x) proposé(s) au choix sur la page."),
        ("slots_mobile", State.SLOTS, "3 créneau(x) proposé(s) au choix sur la page."),
        ("slots_later_week", State.SLOTS, "Prochaine disponibilité le "),
    ],
)
def test_rdvpref_slot_page_variants(workspace, site, browser, fast_settings, mode, state, evidence):
    site.mode = mode
    outcome = capture(workspace, site, browser, fast_settings, CRENEAU, "rdvpref")
    assert outcome.classification.state is state, outcome.classification
    assert outcome.capture.evidence_text.startswith(evidence)
    seen = observed(outcome)
    announced = rdvpref.next_release(datetime.now(UTC).date())
    assert seen.next_release == (announced if mode in ("noslot", "noslot_unpublished") else None)
    assert seen.procedure_label == rdvpref.DEMARCHE_TITLE
    assert seen.decisive_box is not None and seen.block is None
    assert verify_workspace(workspace).ok


def test_rdvpref_wrong_captcha_answer_page_is_a_captcha():
    """A person (this test, in its own Chromium and on a site of its own) types a wrong code; the page the site
    answers with is classified. The tool itself never types: see test_politeness_log.py."""
    with SimulatedSite() as own_site, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=DEBIAN_CHROMIUM)
        page = chromium.new_page()
        page.goto(own_site.base_url + "/rdvpref/reservation/demarche/7788/cgu/")
        page.fill("#captchaFormulaireExtInput", "code faux")
        page.click('button[formaction*="_validerCaptcha"]')
        page.wait_for_url(re.compile(r"error=invalidCaptcha"))
        result = classify(page.content(), page.url)
        chromium.close()
    assert (result.state, result.platform) == (State.CAPTCHA, "rdvpref")
    assert result.evidence_text == "Le code de sécurité saisi est incorrect."


# ------------------------------------------------------------------------------ a page quoting the sentence


@pytest.mark.parametrize(("path", "platform"), [(FAQ_PATH, "generic"), (RDVPREF_HELP_PATH, "generic")])
def test_a_help_page_quoting_the_noslot_sentences_is_unknown(workspace, site, browser, fast_settings, path,
                                                            platform):
    outcome = capture(workspace, site, browser, fast_settings, path, platform)
    assert outcome.classification.state is State.UNKNOWN
    assert outcome.capture.evidence_text.startswith("La phrase « ")
    assert "ce n'est pas un résultat de réservation" in outcome.capture.evidence_text
    assert observed(outcome).decisive_box is None


# ------------------------------------------------------------------------------------- RDV Service Public


@pytest.mark.parametrize(
    ("mode", "path", "state", "evidence"),
    [
        ("noslot", SEARCH, State.NOSLOT, "Malheureusement, aucun créneau correspondant à votre recherche"),
        ("noslot", SEARCH + "&invitation_token=x", State.NOSLOT,
         "Malheureusement, aucun créneau correspondant à votre invitation"),
        ("slots", SEARCH, State.SLOTS, "Prochaine disponibilité le "),
        ("slots", SEARCH + "&lieu_id=1", State.SLOTS, "6 créneau(x) proposé(s) au choix (premier : « 09:00 »)."),
        ("slots_later_week", SEARCH + "&lieu_id=1", State.SLOTS, "Prochaine disponibilité le "),
        ("slots", "/prendre_rdv", State.UNKNOWN, "Aucun marqueur connu de « RDV Service Public »"),
        ("maintenance", SEARCH, State.ERROR, "Service indisponible"),
        ("404", SEARCH, State.ERROR, "Page introuvable"),
        ("500", SEARCH, State.ERROR, "Erreur inattendue"),
    ],
)
def test_rdv_service_public_pages(workspace, site, browser, fast_settings, mode, path, state, evidence):
    site.mode = mode
    outcome = capture(workspace, site, browser, fast_settings, path, "anct")
    assert outcome.classification.state is state, outcome.classification
    assert outcome.capture.evidence_text.startswith(evidence)
    if state in (State.NOSLOT, State.SLOTS):
        assert observed(outcome).procedure_label == "Renouvellement de récépissés arrivés à échéance (Sur place)"


# -------------------------------------------------------------------------------------------- eAppointment


def test_eappointment_noslot_is_said_in_a_dialog_recorded_as_evidence(workspace, site, browser, fast_settings):
    outcome = capture(workspace, site, browser, fast_settings, EAPPOINTMENT, "eappointment94", counter="2")
    assert outcome.classification.state is State.NOSLOT
    assert outcome.capture.evidence_text == NOSLOT_DIALOG
    seen = observed(outcome)
    assert seen.dialog_text == NOSLOT_DIALOG and seen.counter_label == "Dépôt de demande de titre de séjour"
    assert "dialog" in kinds(outcome) and "screenshot_step" in kinds(outcome)
    record = next(a for a in outcome.capture.artefacts if a.kind == "dialog")
    dialogs = json.loads(workspace.blobs.read(record.sha256))
    assert [(d["type"], d["message"]) for d in dialogs["dialogs"]] == [("alert", NOSLOT_DIALOG)]
    shown = datetime.fromisoformat(dialogs["dialogs"][0]["shown_at"])
    assert outcome.capture.started_at <= shown.replace(tzinfo=shown.tzinfo) <= outcome.capture.finished_at
    raw = next(a for a in outcome.capture.artefacts if a.kind == "screenshot")
    assert dialogs["page_under_them"]["screenshot_sha256"] == raw.sha256
    assert dialogs["page_under_them"]["url"].endswith(EAPPOINTMENT)
    assert verify_workspace(workspace).ok


def test_eappointment_slots_show_the_calendar(workspace, site, browser, fast_settings):
    site.mode = "slots"
    outcome = capture(workspace, site, browser, fast_settings, EAPPOINTMENT, "eappointment94", counter="1")
    assert outcome.classification.state is State.SLOTS
    assert outcome.capture.evidence_text.startswith("Jours sélectionnables dans le calendrier : ")
    assert "dialog" not in kinds(outcome)


# ------------------------------------------------------------------------------- Cloudflare, proxies


@pytest.mark.parametrize(("path", "platform", "counter"), [
    ("/booking/create/4963", "ezbooking", "16162"), (CRENEAU, "rdvpref", None), (SEARCH, "anct", None),
])
@pytest.mark.parametrize(("mode", "state", "block"), [
    ("blocked", State.ERROR, "blocked"), ("rate_limited", State.ERROR, "rate-limited"),
    ("challenge", State.CAPTCHA, None),
])
def test_cloudflare_in_front_of_any_platform(workspace, site, browser, fast_settings, path, platform, counter,
                                             mode, state, block):
    site.mode = mode
    outcome = capture(workspace, site, browser, fast_settings, path, platform, counter)
    assert outcome.classification.state is state, outcome.classification
    seen = observed(outcome)
    assert seen.block == block
    page = workspace.blobs.read(next(a for a in outcome.capture.artefacts if a.kind == "html").sha256).decode()
    if block:
        assert re.fullmatch(r"[0-9a-f]{16}", seen.block_reference) and seen.block_reference in page
    else:
        assert seen.block_reference is None


@pytest.mark.parametrize(("mode", "evidence"), [("503", "503 Service Unavailable"), ("504", "504 Gateway Time-out")])
def test_haproxy_errors(workspace, site, browser, fast_settings, mode, evidence):
    site.mode = mode
    outcome = capture(workspace, site, browser, fast_settings, CRENEAU, "rdvpref")
    assert (outcome.classification.state, outcome.capture.evidence_text) == (State.ERROR, evidence)
    assert outcome.capture.http_status == int(mode)
