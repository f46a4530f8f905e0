"""Accompanied attempts on a page a captcha guards at every visit (RDV Préfecture, simulated).

At its time the watcher reminds the person through every channel; the person starts the assisted
capture and solves the captcha in the visible window (here: the demo's scripted person, acting through
that same window); the tool records, classifies, journals, and the dossier is built. An accompanied
attempt nobody starts in its window is recorded as missed, with its time. An unattended watcher on
such a page records one captcha page per planned attempt and tells the user once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from capture.accompanied import assisted_capture, open_windows
from capture.alerts import AlertResult, Message, notify
from capture.chromium import BrowserService, Recycling
from capture.plan import PlannedTime, save_plan
from capture.politeness import PolitenessRefusal
from capture.settings import CaptureSettings
from capture.states import State
from capture.watch import PlanRunner, WatchSettings
from dossier_builder.build import build_dossier
from dossier_builder.facts import facts_of, missed_accompanied
from dossier_builder.verify import verify_bundle
from evidence.case_status import case_status
from evidence.models import Capture, Case, JournalEntry, PlannedAttempt, Target
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from evidence.verify import verify_workspace
from preuves.demo_person import person_acts
from simsite.server import SimulatedSite
from tests.alert_helpers import alert_channels
from tests.assisted_helpers import DEMARCHE, display  # noqa: F401 (fixture)
from tests.capture_samples import sample_facts

pytestmark = [pytest.mark.browser, pytest.mark.both_databases]
WINDOW = timedelta(minutes=60)
DASHBOARD = "http://127.0.0.1:8000"


def rdvpref_case(workspace, site: SimulatedSite, label: str = "Nanterre") -> Case:
    case, _ = add_case(workspace, label, TargetSpec(site.base_url + DEMARCHE, "rdvpref", None, "Hauts-de-Seine"))
    return case


def entries(workspace, kind: str) -> list[dict]:
    with workspace.reading() as session:
        payloads = session.scalars(select(JournalEntry.payload).where(JournalEntry.kind == kind).order_by(JournalEntry.seq))
        return [json.loads(payload)["data"] for payload in payloads]


def plan_rows(workspace) -> list[PlannedAttempt]:
    with workspace.reading() as session:
        return list(session.scalars(select(PlannedAttempt).order_by(PlannedAttempt.planned_at)))


def plan_accompanied(workspace, target_id: int, *days: int) -> list[PlannedTime]:
    """Accompanied attempts at 14:35 (Paris) so many days after the workspace's clock (Sunday 29/11/2026)."""
    noon = workspace.clock.now().replace(hour=13, minute=35)
    times = [PlannedTime(noon + timedelta(days=day), "afternoon", "regular", "accompanied") for day in days]
    save_plan(workspace, target_id, times)
    return times


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb absent (apt-get install xvfb)")
def test_an_accompanied_attempt_end_to_end(demo_workspace, browser, display, tmp_path):
    workspace = demo_workspace
    with SimulatedSite(mode="noslot") as site, alert_channels() as channels:
        case = rdvpref_case(workspace, site)
        [at] = plan_accompanied(workspace, case.target_id, 1)
        settings = WatchSettings(alert_urls=channels.urls, accompanied_window=WINDOW, dashboard_url=DASHBOARD)
        runner = PlanRunner(workspace, browser, CaptureSettings(), settings)

        # The time comes: the watcher makes no capture, it reminds the person, once.
        workspace.clock.set(at.at)
        assert runner.run_due() == 0
        assert runner.run_due() == 0
        [row] = plan_rows(workspace)
        assert (row.status, row.reminded_at) == ("reminded", at.at)
        assert len(channels.mails) == 1 and len(channels.posts) == 1
        text = channels.mail_text()
        assert "Tentative accompagnée à faire maintenant" in channels.posts[0]["title"]
        assert "à commencer avant 15 h 35" in text and "Dossiers concernés : Nanterre" in text
        assert f"« Commencer la tentative accompagnée » sur {DASHBOARD}/dossiers/{case.id}" in text
        assert f"« preuves capture {case.id} --assisted »" in text
        [reminded] = entries(workspace, "attempt.reminded")
        assert (reminded["planned_attempt_id"], reminded["delivered"], reminded["channels"]) == (row.id, 2, 2)

        # Twenty minutes later the person starts it and solves the captcha in the window.
        workspace.clock.set(at.at + timedelta(minutes=20))
        assert [w.planned_id for w in open_windows(workspace, WINDOW, case.target_id)] == [row.id]
        with workspace.reading() as session:
            target = session.get_one(Target, case.target_id)
        with BrowserService(headless=False) as window:
            acting = person_acts(window)
            done = assisted_capture(workspace, target, window, CaptureSettings(assisted_timeout_s=60), WINDOW)
            acting.join(timeout=30)
        assert done.planned_id == row.id
        capture = done.outcome.capture
        assert done.outcome.classification.state is State.NOSLOT and capture.assisted
        assert capture.final_url.endswith(DEMARCHE + "creneau/")
        kinds = [a.kind for a in capture.artefacts]
        assert {"assisted_page_screenshot", "assisted_page_html", "screenshot", "screenshot_annotated"} <= set(kinds)
        assert site.completion_requests() == [r for r in site.requests if "_validerCaptcha" in r.path]
    [row] = plan_rows(workspace)
    assert (row.status, row.capture_id) == ("done", capture.id)
    [recorded] = entries(workspace, "capture.recorded")
    assert recorded["planned_attempt_id"] == row.id and recorded["capture"]["assisted"] is True
    assert open_windows(workspace, WINDOW) == []

    folder = tmp_path / "dossier"
    build_dossier(workspace, case.label, folder)
    assert verify_bundle(workspace, folder).ok and verify_workspace(workspace).ok
    assert sorted(p.name for p in folder.glob("PJ*.pdf"))[0] == "PJ1_Note_de_synthese.pdf"
    assert facts_of(workspace, case.label).missed_accompanied == ()


def test_an_accompanied_attempt_nobody_starts_is_recorded_missed_with_its_time(demo_workspace, site, browser, cli):
    workspace = demo_workspace
    case = rdvpref_case(workspace, site)
    first, second = plan_accompanied(workspace, case.target_id, 1, 2)
    runner = PlanRunner(workspace, browser, CaptureSettings(), WatchSettings(accompanied_window=WINDOW))
    workspace.clock.set(first.at)
    runner.run_due()
    workspace.clock.set(first.at + WINDOW - timedelta(seconds=1))
    runner.run_due()
    assert [r.status for r in plan_rows(workspace)] == ["reminded", "planned"]
    workspace.clock.set(first.at + WINDOW + timedelta(seconds=1))
    runner.run_due()
    assert [r.status for r in plan_rows(workspace)] == ["missed", "planned"]
    [missed] = entries(workspace, "attempt.missed")
    assert missed["planned_at"] == first.at.isoformat() and missed["mode"] == "accompanied"
    assert missed["reason"] == "personne n'a commencé la tentative accompagnée avant 15 h 35"
    # The watcher was not running during the second one's window: it is missed all the same, never dropped.
    workspace.clock.set(second.at + 2 * WINDOW)
    runner.run_due()
    assert [r.status for r in plan_rows(workspace)] == ["missed", "missed"]
    assert entries(workspace, "attempt.reminded")[0]["planned_attempt_id"] == plan_rows(workspace)[0].id
    assert len(entries(workspace, "attempt.reminded")) == 1
    assert case_status(workspace, case)["accompanied_missed"] == 2

    # Counted apart from the attempts made, in `status` and in the facts of the dossier.
    status = cli("status", home=workspace.home)
    assert "0 tentative(s) faite(s)" in status.out
    assert "Tentatives prévues non faites (comptées à part) : 2 accompagnée(s) manquée(s)" in status.out
    [as_json] = json.loads(cli("status", "--json", home=workspace.home).out)
    assert (as_json["accompanied_missed"], as_json["unattended_missed"], as_json["attempts_done"]) == (2, 0, 0)
    with workspace.reading() as session:
        assert missed_accompanied(session, session.get_one(Case, case.id), None, None) == (first.at, second.at)
    assert verify_workspace(workspace).ok


def test_the_unattended_watcher_records_one_captcha_page_per_attempt_and_tells_once(
    demo_workspace, browser, fast_settings
):
    workspace = demo_workspace
    with SimulatedSite(mode="noslot") as site, alert_channels() as channels:
        case = rdvpref_case(workspace, site)
        start = workspace.clock.now() + timedelta(hours=20)
        times = [PlannedTime(start + timedelta(days=n), "morning", "regular") for n in range(3)]
        save_plan(workspace, case.target_id, times)
        runner = PlanRunner(workspace, browser, fast_settings, WatchSettings(alert_urls=channels.urls))
        for planned in times:
            workspace.clock.set(planned.at)
            assert runner.run_due() == 1
        gate_pages = [r for r in site.requests if r.path.endswith("/cgu/")]
        assert len(gate_pages) == 3  # one captcha page per planned attempt, never a loop on it
        assert site.completion_requests() == []
        assert len(channels.mails) == 1 and len(channels.posts) == 1
        assert "demande des tentatives accompagnées" in channels.posts[0]["title"]
        assert "--replace --accompanied" in channels.mail_text()
    with workspace.reading() as session:
        assert set(session.scalars(select(Capture.state))) == {"captcha"}
    assert {r.status for r in plan_rows(workspace)} == {"done"}
    [told] = entries(workspace, "alert.captcha")
    assert told["target_id"] == case.target_id and told["delivered"] == 2
    assert verify_workspace(workspace).ok


def test_a_window_opens_a_quarter_of_an_hour_early_and_closes_after_its_length(demo_workspace, site):
    workspace = demo_workspace
    case = rdvpref_case(workspace, site)
    [at] = plan_accompanied(workspace, case.target_id, 1)
    workspace.clock.set(at.at - timedelta(minutes=75))
    assert open_windows(workspace, WINDOW) == []
    workspace.clock.set(at.at - timedelta(minutes=15))  # a quarter of an hour early: the window is open
    assert [w.planned_id for w in open_windows(workspace, WINDOW)] == [plan_rows(workspace)[0].id]
    workspace.clock.set(at.at + WINDOW)
    [still] = open_windows(workspace, WINDOW)
    assert still.closes == at.at + WINDOW
    workspace.clock.set(at.at + WINDOW + timedelta(seconds=1))
    assert open_windows(workspace, WINDOW) == []


def test_an_assisted_capture_refused_gives_its_planned_attempt_back(demo_workspace, site, browser):
    """Too soon after another attempt on the host: nothing is walked, and the reminded attempt is still to do."""
    workspace = demo_workspace
    case = rdvpref_case(workspace, site)
    [at] = plan_accompanied(workspace, case.target_id, 1)
    workspace.clock.set(at.at)
    PlanRunner(workspace, browser, CaptureSettings(), WatchSettings()).run_due()
    earlier = replace(sample_facts(case.target_id, 1, at.at - timedelta(minutes=3)), url_requested=site.base_url)
    record_capture(workspace, earlier, [NewArtefact("screenshot", "image/png", data=b"png")])
    with workspace.reading() as session:
        target = session.get_one(Target, case.target_id)
    with pytest.raises(PolitenessRefusal):
        assisted_capture(workspace, target, browser, CaptureSettings(), WINDOW)
    [row] = plan_rows(workspace)
    assert (row.status, row.claimed_by, row.capture_id) == ("reminded", None, None)
    assert [w.planned_id for w in open_windows(workspace, WINDOW)] == [row.id]


def test_the_person_acts_in_the_browser_the_attempt_holds_even_just_recycled(workspace):
    """The browser is started afresh between attempts (here after each one): the person, who acts beside the
    attempt and is not counted as one, still finds the page the tool opened, in the new browser."""
    settings = CaptureSettings(min_interval=timedelta(0), assisted_timeout_s=60)
    with SimulatedSite(mode="noslot") as site, BrowserService(recycling=Recycling(after_attempts=1)) as window:
        case = rdvpref_case(workspace, site)
        with workspace.reading() as session:
            target = session.get_one(Target, case.target_id)
        for _ in range(2):
            acting = person_acts(window)
            done = assisted_capture(workspace, target, window, settings, WINDOW)
            acting.join(timeout=30)
            assert done.outcome.classification.state is State.NOSLOT, done.outcome.capture.error
        assert window.restarts == 1
        assert site.completion_requests() == [r for r in site.requests if "_validerCaptcha" in r.path]


def test_a_desktop_notification_is_sent_where_notify_send_exists(tmp_path, monkeypatch):
    """A stand-in `notify-send` on the PATH (a real program, recording its arguments); without a
    session or without the program, nothing is sent and nothing fails."""
    received = tmp_path / "notifications.txt"
    program = tmp_path / "bin" / "notify-send"
    program.parent.mkdir()
    program.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {received}\n', encoding="utf-8")
    program.chmod(0o755)
    message = Message("Tentative accompagnée à faire maintenant", "Pour commencer : …")
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin:/bin")
    monkeypatch.setenv("DISPLAY", ":99")
    assert notify([], message, desktop=True) == AlertResult(0, 0, True)
    assert received.read_text(encoding="utf-8") == (
        "--app-name=Preuves RDV|Tentative accompagnée à faire maintenant|Pour commencer : …|"
    )
    assert notify([], message, desktop=False).desktop is False
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert notify([], message, desktop=True).desktop is False
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert notify([], message, desktop=True).desktop is False
    assert received.read_text(encoding="utf-8").count("|") == 3
