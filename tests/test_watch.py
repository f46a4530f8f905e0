"""The watcher: plans performed exactly once, restarts, missed attempts, alerts, status."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from capture.plan import PlannedTime, build_plan, save_plan
from capture.scheduler import DAILY_ANCHOR_LOCK
from capture.watch import PlanRunner, WatchSettings
from evidence.anchor_models import Anchor, AnchorRequest
from evidence.clock import SimulatedClock
from evidence.errors import WorkspaceError
from evidence.models import Capture, JournalEntry, PlannedAttempt
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import CONFIG_NAME, Workspace, open_workspace
from preuves.plan_text import french_moment
from simsite.requestlog import LoggedRequest
from simsite.server import SimulatedSite
from tests.alert_helpers import alert_channels
from tests.polling import wait_for
from tests.tsa_helpers import LocalTsa, make_authority

pytestmark = [pytest.mark.browser, pytest.mark.both_databases]


def classic_target(workspace, site, label="Dupont"):
    case, _ = add_case(
        workspace, label, TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162")
    )
    return case.target_id


def statuses(workspace):
    with workspace.reading() as session:
        return dict(session.execute(select(PlannedAttempt.id, PlannedAttempt.status)).all())


def test_a_real_workspace_refuses_a_simulated_clock(workspace):
    with pytest.raises(WorkspaceError, match="horloge simulée refusée"):
        workspace.use_clock(SimulatedClock(datetime(2026, 1, 5, tzinfo=UTC)))


def test_simulated_weeks_of_attempts_each_done_once(demo_workspace, site, browser, fast_settings):
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    plan = build_plan(datetime(2026, 11, 30).date(), weeks=1, per_day=2, seed=5)
    save_plan(workspace, target_id, plan)
    runner = PlanRunner(workspace, browser, fast_settings, WatchSettings())
    for planned in plan:
        workspace.clock.set(planned.at + timedelta(seconds=30))
        assert runner.run_due() == 1
        assert runner.run_due() == 0  # nothing twice
    assert set(statuses(workspace).values()) == {"done"}
    with workspace.reading() as session:
        captures = list(session.scalars(select(Capture).order_by(Capture.started_at)))
    assert [c.started_at for c in captures] == [p.at + timedelta(seconds=30) for p in plan]
    assert verify_workspace(workspace).ok


def test_attempt_missed_beyond_grace_is_recorded(demo_workspace, site, browser, fast_settings):
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    at = workspace.clock.now() + timedelta(hours=1)
    save_plan(workspace, target_id, [PlannedTime(at, "midday", "regular")])
    workspace.clock.set(at + timedelta(hours=2))
    runner = PlanRunner(workspace, browser, fast_settings, WatchSettings(grace=timedelta(minutes=30)))
    assert runner.run_due() == 0
    assert list(statuses(workspace).values()) == ["missed"]
    with workspace.reading() as session:
        entry = session.scalars(select(JournalEntry).where(JournalEntry.kind == "attempt.missed")).one()
    assert json.loads(entry.payload)["data"]["planned_at"] == at.isoformat()
    assert verify_workspace(workspace).ok


def test_slots_alert_reaches_email_and_webhook(demo_workspace, site, browser, fast_settings):
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    at = workspace.clock.now() + timedelta(minutes=5)
    save_plan(workspace, target_id, [PlannedTime(at, "midday", "regular")])
    workspace.clock.set(at)
    site.mode = "slots"
    with alert_channels() as channels:
        runner = PlanRunner(workspace, browser, fast_settings, WatchSettings(alert_urls=channels.urls))
        assert runner.run_due() == 1
    [_] = channels.mails
    mail = channels.mail()
    assert "Créneaux disponibles" in str(mail["Subject"]) or "Cr=C3=A9neaux" in str(mail["Subject"])
    text = channels.mail_text()
    assert f"{site.base_url}/booking/create/4963/" in text and "Dossiers concernés : Dupont" in text
    assert any(p.get_content_type() == "image/png" for p in mail.walk())
    [posted] = channels.posts
    assert "Réservez vous-même" in posted["message"]
    with workspace.reading() as session:
        entry = session.scalars(select(JournalEntry).where(JournalEntry.kind == "alert.sent")).one()
    assert json.loads(entry.payload)["data"]["delivered"] == 2


@pytest.fixture
def start_watcher(workspace) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start `preuves watch` on the workspace in a process of its own (it inherits
    PREUVES_DATABASE_URL, if set); those a failed test leaves running are killed at the end."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "preuves", "--home", str(workspace.home), "watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        ))
        return started[-1]

    yield start
    for watcher in started:
        if watcher.poll() is None:
            os.killpg(watcher.pid, signal.SIGKILL)
            watcher.communicate()


def _sigterm(watcher: subprocess.Popen) -> None:
    """What `systemctl stop` does to the watcher's unit (KillMode=mixed), or `kill PID`."""
    watcher.send_signal(signal.SIGTERM)


def _ctrl_c(watcher: subprocess.Popen) -> None:
    """What Ctrl-C in a terminal does: SIGINT to every process of the foreground process group."""
    os.killpg(watcher.pid, signal.SIGINT)


def _stop(*watchers: subprocess.Popen, send: Callable[[subprocess.Popen], None] = _sigterm) -> list[str]:
    """Stop watchers (by default as systemd would); return their error outputs, checked clean."""
    for watcher in watchers:
        send(watcher)
    errors = [watcher.communicate(timeout=60)[1] for watcher in watchers]
    for watcher, err in zip(watchers, errors, strict=True):
        assert watcher.returncode == 0 and "Surveillance arrêtée." in err, err
        assert "Traceback" not in err, err
    return errors


def _count(workspace, model, *where) -> int:
    with workspace.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _done(workspace: Workspace) -> int:
    return _count(workspace, PlannedAttempt, PlannedAttempt.status == "done")


def _claims_of(workspace: Workspace, watcher: subprocess.Popen) -> dict[int, str]:
    """{planned attempt id: status} of the attempts the watcher process has claimed."""
    with workspace.reading() as session:
        return dict(session.execute(
            select(PlannedAttempt.id, PlannedAttempt.status)
            .where(PlannedAttempt.claimed_by.contains(f":{watcher.pid}:"))
        ).all())


@contextmanager
def _sites_on_own_hosts(count: int, page_delay_s: float = 0) -> Iterator[list[SimulatedSite]]:
    """Simulated sites, each on a host of its own (127.0.0.20 onwards): the watchers' politeness
    interval (never under 2 minutes outside the tests' own settings) allows one attempt per host.
    With `page_delay_s`, each booking page is answered that long after its request is logged:
    an attempt then lasts a few seconds, well within its time limit."""

    def slow_down(request: LoggedRequest) -> None:
        if request.path.startswith("/booking/"):
            time.sleep(page_delay_s)

    sites = [
        SimulatedSite(host=f"127.0.0.{20 + n}", on_request=slow_down if page_delay_s else None).start()
        for n in range(count)
    ]
    try:
        yield sites
    finally:
        for site in sites:
            site.stop()


@pytest.fixture
def six_sites() -> Iterator[list[SimulatedSite]]:
    with _sites_on_own_hosts(6) as sites:
        yield sites


def _plan_one_attempt_per_site(
    workspace: Workspace, sites: list[SimulatedSite], spacing_s: int, lead_s: int = 6
) -> None:
    """One case per site, its attempt `lead_s` seconds from now (by default, time for a watcher to
    start; a watcher started later performs at once what fell due, well within its grace)."""
    start = datetime.now(UTC) + timedelta(seconds=lead_s)
    for n, site in enumerate(sites):
        target_id = classic_target(workspace, site, label=f"Cas {n}")
        save_plan(workspace, target_id, [PlannedTime(start + timedelta(seconds=spacing_s * n), "midday", "regular")])


def _assert_each_planned_attempt_done_once(workspace: Workspace, planned: int) -> None:
    with workspace.reading() as session:
        capture_ids = list(session.scalars(select(PlannedAttempt.capture_id).where(PlannedAttempt.status == "done")))
    assert len(capture_ids) == planned and None not in capture_ids
    assert _count(workspace, Capture) == planned  # no capture beside the plan's own: none done twice
    reopened = open_workspace(workspace.home)
    try:
        assert verify_workspace(reopened).ok
    finally:
        reopened.close()


def test_sigkill_mid_plan_then_restart_loses_and_duplicates_nothing(workspace, six_sites, start_watcher):
    """Six attempts on six hosts, a few seconds apart; the watcher is killed after the first ones."""
    _plan_one_attempt_per_site(workspace, six_sites, spacing_s=2)
    watcher = start_watcher()
    assert wait_for(lambda: _count(workspace, Capture) >= 2, 60), watcher.communicate(timeout=5)
    os.killpg(watcher.pid, signal.SIGKILL)
    watcher.wait()
    assert _count(workspace, Capture) < 6
    restarted = start_watcher()
    finished = wait_for(lambda: _done(workspace) == 6, 90)
    errors = _stop(restarted)
    assert finished, errors
    _assert_each_planned_attempt_done_once(workspace, 6)


SEVERAL_WATCHERS = pytest.mark.only_database(
    "postgresql", reason="several watchers on one database is the PostgreSQL set-up (SQLite serialises writers)"
)


@SEVERAL_WATCHERS
def test_two_watchers_perform_one_plan_each_attempt_once(workspace, six_sites, start_watcher):
    """Both watchers schedule all six attempts, due at the same moment, and fire each at once:
    one of them claims it."""
    _plan_one_attempt_per_site(workspace, six_sites, spacing_s=0)
    watchers = [start_watcher(), start_watcher()]
    finished = wait_for(lambda: _done(workspace) == 6, 90)
    errors = _stop(*watchers)
    assert finished, errors
    _assert_each_planned_attempt_done_once(workspace, 6)


@SEVERAL_WATCHERS
def test_a_watcher_killed_mid_attempt_leaves_it_to_the_other(workspace, six_sites, start_watcher):
    """The first watcher hangs in the first site's attempt; the second, already watching, does the
    others, and takes that one over at its next pass once the first is killed."""
    (workspace.home / CONFIG_NAME).write_text("[watch]\nmax_parallel_hosts = 1\npoll_seconds = 1\n")
    sites = six_sites[:3]
    sites[0].mode = "hang"
    _plan_one_attempt_per_site(workspace, sites, spacing_s=1)
    first = start_watcher()
    assert wait_for(lambda: list(_claims_of(workspace, first).values()) == ["running"], 60)
    [held] = _claims_of(workspace, first)
    second = start_watcher()
    assert wait_for(lambda: "done" in _claims_of(workspace, second).values(), 60)
    assert _claims_of(workspace, first) == {held: "running"}  # a live watcher's claim is left alone
    # The site recovers before the kill: the second watcher, which may take the attempt over at
    # once, must not walk into the hang itself (its stop would then wait out the attempt's limit).
    sites[0].mode = "noslot"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    finished = wait_for(lambda: _done(workspace) == 3, 60)
    errors = _stop(second)
    assert finished, errors
    assert set(_claims_of(workspace, second)) == set(statuses(workspace))
    _assert_each_planned_attempt_done_once(workspace, 3)


def test_status_warns_while_evidence_is_weak(demo_workspace, site_on_demo_clock, browser, fast_settings, cli):
    site = site_on_demo_clock
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    monday_9h = datetime(2026, 11, 30, 8, tzinfo=UTC)
    plan = [PlannedTime(monday_9h + timedelta(days=n), "morning", "regular") for n in range(3)]
    save_plan(workspace, target_id, plan)
    runner = PlanRunner(workspace, browser, fast_settings, WatchSettings())
    for planned in plan:
        workspace.clock.set(planned.at)
        runner.run_due()
    result = cli("status", "--json", home=workspace.home)
    assert result.code == 0
    [status] = json.loads(result.out)
    assert status["attempts_done"] == 3 and status["distinct_days"] == 3 and status["distinct_weeks"] == 1
    assert status["per_state"] == {"noslot": 3}
    assert status["warnings"] == [
        "moins de 3 semaines distinctes (1)",
        "moins de 10 tentatives (3)",
        "moins de 3 plages horaires couvertes de 8 h à 21 h (1)",
        "aucun courrier envoyé à la préfecture",
    ]


def test_two_watchers_racing_for_one_attempt_perform_it_once(demo_workspace, site, browser, fast_settings):
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    at = workspace.clock.now() + timedelta(minutes=1)
    save_plan(workspace, target_id, [PlannedTime(at, "midday", "regular")])
    workspace.clock.set(at)
    [planned_id] = statuses(workspace)
    runners = [PlanRunner(workspace, browser, fast_settings, WatchSettings()) for _ in range(2)]
    start = threading.Barrier(2)
    results: list = []

    def race(runner: PlanRunner) -> None:
        start.wait()
        results.append(runner.run_planned(planned_id))

    threads = [threading.Thread(target=race, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result is None for result in results) == [False, True]
    assert _count(workspace, Capture) == 1 and statuses(workspace) == {planned_id: "done"}


def test_reconcile_frees_only_claims_of_dead_watchers(demo_workspace, site, browser, fast_settings):
    workspace = demo_workspace
    target_id = classic_target(workspace, site)
    now = workspace.clock.now()
    save_plan(workspace, target_id, [PlannedTime(now + timedelta(minutes=m), "midday", "regular") for m in (1, 2, 3)])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owners = {
        1: f"{socket.gethostname()}:{os.getpid()}:alive000",  # this very process: alive
        2: f"{socket.gethostname()}:{dead.stdout.strip()}:dead0000",  # exited
        3: "another-machine:4242:far00000",  # unknown: only the claim's age decides
    }
    with workspace.writing() as session:
        for planned in session.scalars(select(PlannedAttempt)):
            planned.status, planned.claimed_by, planned.claimed_at = "running", owners[planned.id], now
    runner = PlanRunner(workspace, browser, fast_settings, WatchSettings())
    assert runner.reconcile() == 1
    assert statuses(workspace) == {1: "running", 2: "planned", 3: "running"}
    workspace.clock.set(now + runner.stale_after + timedelta(seconds=1))
    assert runner.reconcile() == 2
    assert set(statuses(workspace).values()) == {"planned"}


def test_watch_once_does_what_is_due_and_exits(cli, workspace, site):
    target_id = classic_target(workspace, site)
    now = datetime.now(UTC)
    with workspace.writing() as session:
        for at, window in ((now - timedelta(minutes=1), "midday"), (now + timedelta(days=1), "midday")):
            session.add(PlannedAttempt(
                target_id=target_id, planned_at=at, window=window, reason="regular", status="planned",
                created_at=now,
            ))
    result = cli("watch", "--once", home=workspace.home)
    assert result.code == 0, result.err
    assert "1 tentative(s) faite(s)." in result.err
    assert f"Prochaine tentative : {french_moment(now + timedelta(days=1))} (automatique ; Dupont)." in result.err
    assert sorted(statuses(workspace).values()) == ["done", "planned"]
    assert _count(workspace, Capture) == 1


@pytest.fixture(scope="module")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalTsa, Path]]:
    """A real local timestamp authority (`openssl ts -reply`) and its root certificate."""
    keys = make_authority(tmp_path_factory.mktemp("tsa"))
    with LocalTsa(keys) as server:
        yield server, keys.ca_file


def _use_tsa(workspace: Workspace, local_tsa: tuple[LocalTsa, Path]) -> LocalTsa:
    """Name the local authority in the workspace's [anchors] section; return it."""
    server, ca_file = local_tsa
    config = workspace.home / CONFIG_NAME
    entry = f'tsa = [{{ name = "TSA de test", url = "{server.url}", ca_file = "{ca_file}" }}]\n'
    config.write_text(config.read_text(encoding="utf-8").replace("[anchors]\n", "[anchors]\n" + entry, 1))
    return server


def _anchored_sizes(workspace: Workspace) -> list[int]:
    with workspace.reading() as session:
        return list(session.scalars(select(Anchor.tree_size).order_by(Anchor.id)))


def test_watch_once_anchors_the_journal_once_a_day(cli, workspace, site, local_tsa):
    """A timer's passes, minutes apart: the first anchors, the next only if a day has passed."""
    classic_target(workspace, site)
    tsa = _use_tsa(workspace, local_tsa)
    asked = tsa.requests
    first = cli("watch", "--once", home=workspace.home)
    assert first.code == 0 and "Horodatage (TSA de test) : journal horodaté" in first.err, first.err
    second = cli("watch", "--once", home=workspace.home)
    assert second.code == 0 and "Horodatage" not in second.err, second.err
    [size] = _anchored_sizes(workspace)
    assert tsa.requests == asked + 1
    # A day later, the journal has grown: the next pass anchors it again.
    with workspace.writing() as session:
        for request in session.scalars(select(AnchorRequest)):
            request.queued_at -= timedelta(hours=21)
    classic_target(workspace, site, label="Martin")
    assert cli("watch", "--once", home=workspace.home).code == 0
    assert _anchored_sizes(workspace) == [size, _count(workspace, JournalEntry) - 1]  # all but its own entry
    assert tsa.requests == asked + 2


HOLD_LOCK = """
import sys
from evidence.locks import exclusive
from evidence.workspace import open_workspace
workspace = open_workspace(sys.argv[1])
with exclusive(workspace, sys.argv[2]) as mine:
    print(mine, flush=True)
    sys.stdin.read()
"""


def test_watch_once_leaves_the_anchor_to_the_process_holding_its_lock(cli, workspace, site, local_tsa):
    """While another process (a watcher, another pass) does the anchor, a pass skips it."""
    classic_target(workspace, site)
    tsa = _use_tsa(workspace, local_tsa)
    asked = tsa.requests
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(workspace.home), DAILY_ANCHOR_LOCK],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as holder:
        assert holder.stdout.readline() == "True\n"
        skipped = cli("watch", "--once", home=workspace.home)
        holder.stdin.close()
    assert skipped.code == 0 and "Horodatage" not in skipped.err, skipped.err
    assert _anchored_sizes(workspace) == [] and tsa.requests == asked
    assert cli("watch", "--once", home=workspace.home).code == 0
    assert len(_anchored_sizes(workspace)) == 1


PAGE_DELAY_S = 0.5  # five booking pages an attempt: about 3 s each


def _booking_requests(site: SimulatedSite) -> list[LoggedRequest]:
    return [request for request in site.requests if request.path.startswith("/booking/")]


def test_a_stop_signal_lets_the_attempt_in_progress_finish(workspace, start_watcher):
    _stop_in_an_attempt(workspace, start_watcher, _sigterm)


@pytest.mark.only_database("sqlite", reason="the stop that follows is SIGTERM's, tested on both databases above")
def test_ctrl_c_lets_the_attempt_in_progress_finish(workspace, start_watcher):
    _stop_in_an_attempt(workspace, start_watcher, _ctrl_c)


def _stop_in_an_attempt(
    workspace: Workspace, start_watcher: Callable[[], subprocess.Popen], send: Callable[[subprocess.Popen], None]
) -> None:
    """The signal comes while the watcher is on the first page of a slow site: the watcher
    finishes the attempt, records it, then exits with 0."""
    with _sites_on_own_hosts(1, page_delay_s=PAGE_DELAY_S) as sites:
        _plan_one_attempt_per_site(workspace, sites, spacing_s=0, lead_s=2)
        watcher = start_watcher()
        assert wait_for(lambda: _booking_requests(sites[0]), 60), watcher.communicate(timeout=5)
        signalled = datetime.now(UTC)
        [err] = _stop(watcher, send=send)
        pages = _booking_requests(sites[0])
    assert "Arrêt demandé : fin de la tentative en cours…" in err
    _assert_each_planned_attempt_done_once(workspace, 1)
    # The attempt went on after the signal, to the booking module's last step, and was recorded as it ended.
    assert pages[0].time < signalled
    assert pages[-1].path == "/booking/create/4963/2" and pages[-1].time > signalled, pages
    with workspace.reading() as session:
        assert session.scalar(select(Capture.state)) == "noslot"


def _most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The largest number of (start, end) spans in progress at one moment."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, change in events:  # at one instant an end (-1) sorts before a start (+1)
        running += change
        most = max(most, running)
    return most


def test_different_hosts_in_parallel_up_to_the_configured_limit(workspace, start_watcher):
    """Three hosts, their attempts all due at once, two allowed in parallel: the sites' logs show
    two attempts at the same time, and the third only once one of them has ended."""
    (workspace.home / CONFIG_NAME).write_text("[watch]\nmax_parallel_hosts = 2\n")
    with _sites_on_own_hosts(3, page_delay_s=PAGE_DELAY_S) as sites:
        _plan_one_attempt_per_site(workspace, sites, spacing_s=0, lead_s=2)
        watcher = start_watcher()
        finished = wait_for(lambda: _done(workspace) == 3, 60)
        errors = _stop(watcher)
        assert finished, errors
        # From an attempt's first booking page to the answer to its last one.
        spans = [
            (pages[0].time, pages[-1].time + timedelta(seconds=PAGE_DELAY_S))
            for pages in (_booking_requests(site) for site in sites)
        ]
    assert _most_at_once(spans) == 2, spans
    _assert_each_planned_attempt_done_once(workspace, 3)
