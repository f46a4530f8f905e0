"""One attempt, from the politeness check to the journal entry.

walk the site (walk.py) → classify the page (classify.py) → describe the environment
(environment.py) → print date, time and hash into a copy of the screenshot (annotate.py) → keep
every file and one journal entry (evidence.records), with what the page showed besides its state
(evidence.observations).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from typing import Any

from playwright.async_api import Error as PlaywrightError

from capture.annotate import annotate_screenshot
from capture.chromium import BrowserService
from capture.classify import Classification, classify
from capture.environment import collect_environment, http_date_skew
from capture.page import Page
from capture.platforms import Platform, get_platform
from capture.politeness import check_interval, host_turn
from capture.settings import CaptureSettings
from capture.states import State
from capture.walk import Observation, WalkPlan, walk
from evidence.localtime import paris_time
from evidence.models import Capture, Target
from evidence.net_errors import address_reached
from evidence.observations import PageObservations
from evidence.records import CaptureFacts, NewArtefact, next_attempt_no, record_capture
from evidence.workspace import Workspace, tool_version

DEMO_WATERMARK = "DÉMONSTRATION — données simulées"
FINAL_STATES = (State.NOSLOT, State.SLOTS, State.ERROR)
MAX_CLASSIFIED_CHARS = 5_000_000


@dataclass(frozen=True)
class AttemptOutcome:
    capture: Capture
    classification: Classification


def capture_target(
    workspace: Workspace,
    target: Target,
    browser: BrowserService,
    settings: CaptureSettings,
    *,
    assisted: bool = False,
    planned_attempt_id: int | None = None,
    claimed_by: str | None = None,
) -> AttemptOutcome:
    """Perform one attempt on `target` now and record it; refuses if it would be impolite."""
    platform = get_platform(target.platform)
    steps = platform.steps(target.url, target.counter)
    with host_turn(workspace, target.host):
        check_interval(workspace, target.host, settings.min_interval, settings.block_pause)
        attempt_no = next_attempt_no(workspace, target.id)
        plan = WalkPlan(
            url=target.url,
            platform=platform,
            steps=steps,
            timeout_s=settings.assisted_timeout_s if assisted else settings.attempt_timeout_s,
            viewport=settings.viewport,
            assisted=assisted,
            is_final=lambda html, url: classify(html, url, platform.name).state in FINAL_STATES,
            find_decisive=lambda html, url, status: classify(
                html[:MAX_CLASSIFIED_CHARS], url, platform.name, status
            ).decisive,
        )
        started = workspace.clock.now()
        try:
            observation = browser.run(lambda chromium: walk(chromium, plan, workspace.clock))
        except PlaywrightError as exc:  # the browser itself died; the next attempt restarts it
            observation = _crashed(plan, started, workspace, str(exc))
        classification = decide(observation, platform.name)
        clock_check = http_date_skew(
            observation.server_date, observation.server_date_received_at or observation.finished_at
        )
        environment = collect_environment(
            target.url,
            browser_version=browser.version,
            playwright_version=version("playwright"),
            tool_version=tool_version(),
            viewport=settings.viewport,
        )
        artefacts = _artefacts(observation, classification, environment, clock_check, attempt_no, workspace.demo)
        facts = CaptureFacts(
            target_id=target.id,
            attempt_no=attempt_no,
            started_at=observation.started_at,
            finished_at=observation.finished_at,
            url_requested=observation.url_requested,
            final_url=observation.final_url,
            http_status=observation.http_status,
            state=classification.state.value,
            platform=classification.platform,
            evidence_text=classification.evidence_text,
            error=observation.error,
            assisted=assisted,
            observations=page_observations(observation, classification, clock_check, platform),
        )
        capture = record_capture(workspace, facts, artefacts, planned_attempt_id, claimed_by)
        return AttemptOutcome(capture, classification)


def decide(observation: Observation, platform: str) -> Classification:
    """The page decides; a failed walk whose page says nothing known is an error, never a guess."""
    if observation.html is None:
        return Classification(State.ERROR, platform, observation.error or "aucune page obtenue")
    # Real booking pages weigh well under 1 MB; reading 50 MB of a hostile page would overrun the
    # attempt's time limit. The whole page is still recorded.
    page = observation.html[:MAX_CLASSIFIED_CHARS]
    dialogs = tuple(dialog.message for dialog in observation.dialogs)
    found = classify(page, observation.final_url, platform, observation.http_status, dialogs)
    if observation.error and found.state is State.UNKNOWN:
        return Classification(State.ERROR, platform, observation.error)
    return found


def page_observations(
    observation: Observation, classification: Classification, clock_check: dict[str, Any], platform: Platform
) -> PageObservations:
    """What the attempt saw besides the state, as it is journaled with the capture."""
    server_date = clock_check["server_date"]
    choice = observation.choice
    procedure_page = choice.html if choice is not None and choice.html is not None else observation.html
    procedure = None
    if platform.procedure_selector and procedure_page:
        procedure = Page.parse(procedure_page[:MAX_CLASSIFIED_CHARS]).first_text(platform.procedure_selector)
    return PageObservations(
        server_date=datetime.fromisoformat(server_date) if server_date else None,
        clock_skew_ms=clock_check["skew_ms"],
        counter_label=choice.counter_label if choice is not None else None,
        procedure_label=procedure,
        # Measured for the decisive text the classification gives (a dialog has no place in the page).
        decisive_box=observation.decisive_box if observation.located == classification.decisive else None,
        dialog_text=" ".join(observation.dialogs[0].message.split()) if observation.dialogs else None,
        block=classification.block,
        block_reference=classification.block_reference,
        next_release=classification.next_release,
    )


def _crashed(plan: WalkPlan, started: Any, workspace: Workspace, reason: str) -> Observation:
    return Observation(
        started_at=started,
        finished_at=workspace.clock.now(),
        url_requested=plan.url,
        final_url=None,
        http_status=None,
        server_date=None,
        screenshot_png=None,
        html=None,
        mhtml=None,
        har=None,
        steps_done=(),
        blocked_requests=(),
        offsite_requests=(),
        error=f"le navigateur s'est arrêté : {reason.splitlines()[0] if reason else 'cause inconnue'}",
    )


def _dialogs_record(observation: Observation) -> dict[str, Any]:
    """The dialogs the site opened, in order; the page under them is the capture's own screenshot and HTML."""
    screenshot = observation.screenshot_png
    return {
        "dialogs": [
            {
                "type": dialog.type,
                "message": dialog.message,
                "shown_at": dialog.shown_at.isoformat(),
                "shown_at_paris": paris_time(dialog.shown_at),
                "page_url": dialog.url,
            }
            for dialog in observation.dialogs
        ],
        "page_under_them": {
            "url": observation.final_url,
            "screenshot_sha256": hashlib.sha256(screenshot).hexdigest() if screenshot else None,
        },
    }


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _artefacts(
    observation: Observation,
    classification: Classification,
    environment: dict[str, Any],
    clock_check: dict[str, Any],
    attempt_no: int,
    demo: bool,
) -> list[NewArtefact]:
    files: list[NewArtefact] = []
    if observation.screenshot_png is not None:
        raw = observation.screenshot_png
        annotated = annotate_screenshot(
            raw,
            taken_at=observation.started_at,
            url=address_reached(observation.final_url) or observation.url_requested,
            state_label=classification.state.label,
            attempt_label=f"tentative n° {attempt_no}",
            sha256_hex=hashlib.sha256(raw).hexdigest(),
            watermark=DEMO_WATERMARK if demo else None,
        )
        files += [
            NewArtefact("screenshot", "image/png", data=raw, filename="capture-brute.png"),
            NewArtefact("screenshot_annotated", "image/png", data=annotated, filename="capture-datee.png"),
        ]
    if observation.html is not None:
        files.append(
            NewArtefact("html", "text/html; charset=utf-8", data=observation.html.encode("utf-8"),
                        filename="page.html")
        )
    if observation.mhtml is not None:
        files.append(NewArtefact("mhtml", "multipart/related", data=observation.mhtml, filename="page.mhtml"))
    if observation.har is not None:
        files.append(NewArtefact("har", "application/json", data=observation.har, filename="reseau.har"))
    choice = observation.choice
    if choice is not None and choice.screenshot_png is not None:
        files.append(NewArtefact("screenshot_step", "image/png", data=choice.screenshot_png,
                                 filename="choix-du-guichet.png"))
    if choice is not None and choice.html is not None:
        files.append(NewArtefact("html_step", "text/html; charset=utf-8", data=choice.html.encode("utf-8"),
                                 filename="choix-du-guichet.html"))
    if observation.dialogs:
        files.append(NewArtefact("dialog", "application/json", data=_json_bytes(_dialogs_record(observation)),
                                 filename="boites-de-dialogue.json"))
    for number, page in enumerate(observation.earlier_pages, start=1):
        files += [
            NewArtefact("assisted_page_screenshot", "image/png", data=page.screenshot_png,
                        filename=f"etape-{number}.png"),
            NewArtefact("assisted_page_html", "text/html; charset=utf-8", data=page.html.encode("utf-8"),
                        filename=f"etape-{number}.html"),
        ]
    facts = {
        "environment": environment,
        "clock_vs_server": clock_check,
        "steps_done": list(observation.steps_done),
        "blocked_completion_requests": list(observation.blocked_requests),
        "blocked_offsite_requests": list(observation.offsite_requests),
        "refused_redirects": [
            {"from": hop.from_url, "to": hop.to_url, "page_itself": hop.main_document}
            for hop in observation.refused_redirects
        ],
        "error": observation.error,
        "document_url": observation.document_url,
        "demo_workspace": demo,
    }
    files.append(NewArtefact("environment", "application/json", data=_json_bytes(facts),
                             filename="environnement.json"))
    return files
