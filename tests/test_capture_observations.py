"""What an attempt records besides the state (evidence/observations.py), read from a real Chromium walk of the
simulated site: the server's clock against ours, the counter and procedure as the site named them, the choice
step's own screenshot, where the decisive text sits in the screenshot, the dialogs a page opened."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from capture.attempt import AttemptOutcome, capture_target
from capture.states import State
from capture.walk import MAX_DIALOGS_KEPT
from evidence.models import Capture, Target
from evidence.observations import PageObservations
from evidence.records import TargetSpec, add_case
from simsite.ezbooking import PLANNINGS

pytestmark = pytest.mark.browser

COUNTER = "16162"


def attempt(workspace, site, browser, settings, path: str, platform: str = "ezbooking",
            counter: str | None = None) -> AttemptOutcome:
    case, _ = add_case(workspace, "Dupont", TargetSpec(site.base_url + path, platform, counter))
    with workspace.reading() as session:
        target = session.scalars(select(Target).where(Target.id == case.target_id)).one()
    return capture_target(workspace, target, browser, settings)


def artefact(workspace, outcome: AttemptOutcome, kind: str) -> bytes:
    [found] = [a for a in outcome.capture.artefacts if a.kind == kind]
    return workspace.blobs.read(found.sha256)


def test_the_classic_flow_records_the_counter_the_procedure_and_the_choice_step(
    workspace, site, browser, fast_settings
):
    outcome = attempt(workspace, site, browser, fast_settings, "/booking/create/4963", counter=COUNTER)
    assert outcome.classification.state is State.NOSLOT
    seen = PageObservations.from_json(outcome.capture.observations)
    assert seen.counter_label == dict(PLANNINGS)[COUNTER] == "Calendrier guichets 5, 6, 7 et 8"
    assert seen.procedure_label == "en Préfecture de Cergy"
    step_html = artefact(workspace, outcome, "html_step").decode()
    assert 'value="16162"' in step_html and "Choix de la nature du rendez-vous" in step_html
    step = Image.open(io.BytesIO(artefact(workspace, outcome, "screenshot_step")))
    result = Image.open(io.BytesIO(artefact(workspace, outcome, "screenshot")))
    assert step.size[0] == result.size[0] and step.tobytes() != result.tobytes()
    # Stored with the capture row, hence in its journal entry.
    with workspace.reading() as session:
        stored = session.get_one(Capture, outcome.capture.id).observations
    assert json.loads(stored)["counter_label"] == seen.counter_label


def test_server_clock_is_compared_with_ours_when_the_page_arrived(workspace, site, browser, fast_settings):
    outcome = attempt(workspace, site, browser, fast_settings, "/booking/create/4963", counter=COUNTER)
    seen = PageObservations.from_json(outcome.capture.observations)
    capture = outcome.capture
    assert seen.server_date is not None and seen.clock_skew_ms is not None
    # The Date header has whole seconds, written before the page travels: our clock, read on arrival, is up
    # to a second ahead of it, plus the time the answer took (a loaded machine: up to a second or two more).
    assert -3000 < seen.clock_skew_ms <= 0
    assert capture.started_at.replace(microsecond=0) <= seen.server_date <= capture.finished_at
    facts = json.loads(artefact(workspace, outcome, "environment"))
    assert facts["clock_vs_server"]["skew_ms"] == seen.clock_skew_ms
    assert facts["clock_vs_server"]["local_utc"] < capture.finished_at.isoformat()


def test_the_decisive_box_holds_the_decisive_text_in_the_raw_screenshot(workspace, site, browser, fast_settings):
    outcome = attempt(workspace, site, browser, fast_settings, "/booking/create/4963", counter=COUNTER)
    x, y, width, height = PageObservations.from_json(outcome.capture.observations).decisive_box
    screenshot = Image.open(io.BytesIO(artefact(workspace, outcome, "screenshot"))).convert("L")
    assert 0 <= x and 0 <= y and x + width <= screenshot.width and y + height <= screenshot.height
    # One line of text, as wide as the sentence: dark glyphs inside, plain background all around.
    assert 10 <= height <= 40 and width > 500
    inside = screenshot.crop((x, y, x + width, y + height))
    assert inside.getextrema()[0] < 100
    above = screenshot.crop((x, y - 6, x + width, y - 1))
    assert above.getextrema()[0] > 200


def test_a_page_without_result_has_no_decisive_box_but_keeps_its_dialogs(workspace, site, browser, fast_settings):
    outcome = attempt(workspace, site, browser, fast_settings, "/piege/interruptions", platform="generic")
    assert outcome.classification.state is State.UNKNOWN
    seen = PageObservations.from_json(outcome.capture.observations)
    assert seen.decisive_box is None and seen.dialog_text == "Alerte !"
    dialogs = json.loads(artefact(workspace, outcome, "dialog"))["dialogs"]
    assert [(d["type"], d["message"]) for d in dialogs] == [("alert", "Alerte !"), ("confirm", "Confirmer ?")]


@pytest.mark.stress
def test_endless_dialogs_keep_only_the_first_ones(workspace, site, browser, fast_settings):
    outcome = attempt(workspace, site, browser, fast_settings, "/piege/dialogues-sans-fin", platform="generic")
    dialogs = json.loads(artefact(workspace, outcome, "dialog"))["dialogs"]
    assert len(dialogs) == MAX_DIALOGS_KEPT
