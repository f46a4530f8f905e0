"""APScheduler 3 drives a `PlanRunner` in real time.

Each watcher keeps its jobs in its own memory: the `planned_attempts` table is the truth that
every watcher of a database shares, and each one mirrors from it the attempts due before its next
pass. (APScheduler 3 does not coordinate several schedulers on one job store: two watchers sharing
one in the database both fired each job, and the second to remove it lost its scheduler thread.)
Jobs carry only the workspace folder and the planned attempt's id; the functions below find the
runner of that workspace in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from capture.watch import PlanRunner
from evidence.anchors import AnchorSettings, anchor_if_due
from evidence.errors import PreuvesError
from evidence.locks import exclusive
from evidence.workspace import Workspace

# The runner of each workspace served by this process, by workspace folder.
_RUNNERS: dict[str, PlanRunner] = {}
JOB_PREFIX = "planned-"
_LOG = logging.getLogger(__name__)


def run_planned_job(home: str, planned_id: int) -> None:
    runner = _RUNNERS.get(home)
    if runner is not None and not runner.stopping.is_set():
        runner.run_planned(planned_id)


DAILY_ANCHOR_LOCK = "daily-anchor"
ANCHOR_STATUS_LABELS = {
    "anchored": "journal horodaté", "pending": "en attente", "cancelled": "demande abandonnée",
    "unchanged": "rien de nouveau",
}


def daily_anchor(workspace: Workspace, report: Callable[[str], None]) -> None:
    """The daily timestamp of the journal, if authorities are configured and it is due (see
    `anchor_if_due`), and a new try of the requests left pending.

    Run by each watcher every day and by each `watch --once` pass: of the processes (and, on
    PostgreSQL, machines) sharing a workspace, one at a time does it; the others skip it.
    """
    try:
        settings = AnchorSettings.from_workspace(workspace)
        if not settings.authorities:
            return
        with exclusive(workspace, DAILY_ANCHOR_LOCK) as mine:
            if mine:
                for outcome in anchor_if_due(workspace, settings):
                    label = ANCHOR_STATUS_LABELS.get(outcome.status, outcome.status)
                    detail = (
                        f" ({outcome.error})" if outcome.error
                        else f" (entrées 1 à {outcome.tree_size})" if outcome.status == "anchored" else ""
                    )
                    report(f"Horodatage ({outcome.authority}) : {label}{detail}")
    except PreuvesError as exc:
        report(f"Horodatage impossible : {exc}")


def anchor_job(home: str) -> None:
    """The watcher's daily anchor; on its own executor, so no capture waits on it."""
    runner = _RUNNERS.get(home)
    if runner is not None:
        daily_anchor(runner.workspace, runner.report)


def sync(runner: PlanRunner, scheduler: BackgroundScheduler) -> None:
    """One pass: take over the attempts of dead watchers, schedule what falls due before the next,
    record the accompanied attempts nobody started in their window."""
    runner.free_dead_claims()
    _schedule_pending(runner, scheduler)
    runner.expire_windows()


def _schedule_pending(runner: PlanRunner, scheduler: BackgroundScheduler) -> None:
    """A job for each planned attempt due before the next pass (an accompanied one's job sends its
    reminder); those beyond their grace, or their window, are missed.

    Only the near future is mirrored into the job store: a month-long plan of many cases would
    otherwise cost a committed write per attempt at every start.
    """
    home = str(runner.workspace.home)
    now = runner.workspace.clock.now()
    known = {job.id for job in scheduler.get_jobs()}
    for due in runner.pending(until=now + 2 * runner.settings.poll):
        if runner.too_late(due):
            runner.mark(due.id, "missed", runner.late_reason(due), only_from=("planned",))
            continue
        job_id = f"{JOB_PREFIX}{due.id}"
        if job_id not in known:
            scheduler.add_job(
                run_planned_job, "date", run_date=max(due.planned_at, now), args=[home, due.id],
                id=job_id, replace_existing=True,
            )


def serve(runner: PlanRunner, stop: threading.Event) -> None:
    """Run until `stop` is set, then let the attempts in progress finish.

    The passes run in this thread, not as a scheduler job: the scheduler's shutdown holds its job
    store's lock while it waits for the jobs in progress, and a pass run as a job that was about to
    read or add jobs then waited for that lock forever, so the process never exited (SIGTERM to
    `preuves serve` or `preuves watch` during a pass, `tests/test_stop_signals.py`).
    """
    home = str(runner.workspace.home)
    grace_s = int(runner.settings.grace.total_seconds())
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={
            "default": ThreadPoolExecutor(runner.settings.max_parallel_hosts),
            "anchors": ThreadPoolExecutor(1),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace_s},
        timezone=UTC,
    )

    def on_missed(event: JobExecutionEvent) -> None:
        if event.job_id.startswith(JOB_PREFIX):
            runner.mark(
                int(event.job_id.removeprefix(JOB_PREFIX)), "missed", "heure prévue dépassée", only_from=("planned",)
            )

    _RUNNERS[home] = runner
    runner.reconcile()
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    scheduler.start()
    try:
        _schedule_pending(runner, scheduler)
        scheduler.add_job(
            anchor_job, "cron", hour=23, minute=50, args=[home], id="daily-anchor",
            executor="anchors", replace_existing=True,
        )
        while not stop.wait(runner.settings.poll.total_seconds()):
            try:
                sync(runner, scheduler)
            except Exception:  # as APScheduler did when the pass was a job: logged, the next pass tries again
                _LOG.exception("pass over the plans failed")
    finally:
        runner.stopping.set()
        scheduler.shutdown(wait=True)
        _RUNNERS.pop(home, None)
