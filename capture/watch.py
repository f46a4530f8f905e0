"""Run the saved plans unattended.

The `planned_attempts` table is the truth: a planned attempt is claimed (planned → running)
before it runs, and marked done in the same transaction as its capture (see
`evidence.records.record_capture`). A restart therefore neither loses nor duplicates an attempt:
rows left "running" by a killed process had no capture committed, so they go back to "planned";
one still within its grace time runs once, one beyond it is recorded as missed. Several watchers
may share one database (PostgreSQL): each claim, each give-back and each mark is one conditional
UPDATE, so that two of them never both take or both record the same planned attempt.

APScheduler 3 fires the attempts (see `capture.scheduler`; one thread per host in parallel up to a
limit); `run_due` does the same work in one pass for `--once` (cron, systemd timers) and for the
demo's simulated clock.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from capture.alerts import send_slots_alert
from capture.attempt import AttemptOutcome, capture_target
from capture.block_alert import alert_block_episode
from capture.chromium import BrowserService
from capture.politeness import PolitenessRefusal
from capture.settings import CaptureSettings
from capture.states import State
from evidence import journal
from evidence.clock import SimulatedClock
from evidence.errors import BadInput, PreuvesError
from evidence.models import Case, PlannedAttempt, Target
from evidence.workspace import Workspace

POLL_SECONDS = 60
STALE_MARGIN = timedelta(minutes=5)


def _owner_died(claimed_by: str | None) -> bool:
    """Whether the watcher named in a claim is a process of this machine that no longer runs."""
    host, _, rest = (claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's watcher: only its claim's age tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class WatchSettings:
    max_parallel_hosts: int = 4
    grace: timedelta = timedelta(minutes=30)
    alert_urls: tuple[str, ...] = ()
    # How often a running watcher reads the plans again: new plans, attempts of dead watchers.
    poll: timedelta = timedelta(seconds=POLL_SECONDS)

    @classmethod
    def from_config(cls, watch: dict[str, Any], alerts: dict[str, Any]) -> WatchSettings:
        try:
            parallel = int(watch.get("max_parallel_hosts", 4))
            grace = int(watch.get("grace_minutes", 30))
            poll = int(watch.get("poll_seconds", POLL_SECONDS))
            urls = tuple(str(u) for u in alerts.get("urls", []))
        except (TypeError, ValueError) as exc:
            raise BadInput(f"preuves.toml, section [watch] ou [alerts] : valeur invalide ({exc})") from exc
        if not 1 <= parallel <= 32 or not 1 <= grace <= 24 * 60 or not 1 <= poll <= 3600:
            raise BadInput(
                "preuves.toml : max_parallel_hosts (1–32), grace_minutes (1–1440) "
                "ou poll_seconds (1–3600) invalide"
            )
        return cls(parallel, timedelta(minutes=grace), urls, timedelta(seconds=poll))


class PlanRunner:
    """Performs planned attempts for one workspace, whoever fires them."""

    def __init__(
        self,
        workspace: Workspace,
        browser: BrowserService,
        capture_settings: CaptureSettings,
        settings: WatchSettings,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.workspace = workspace
        self.browser = browser
        self.capture_settings = capture_settings
        self.settings = settings
        self.report = report
        self.stopping = threading.Event()
        # Who claims attempts: this process, told apart from other watchers on the same database.
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stale_after = timedelta(seconds=capture_settings.attempt_timeout_s) + STALE_MARGIN
        self._host_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- state of the plan -------------------------------------------------------------------

    def reconcile(self) -> int:
        """At start, give back to the plan the attempts whose watcher died mid-attempt.

        Nothing of such an attempt was committed (its capture and its "done" are one
        transaction), so running it again duplicates nothing. A claim is given back when its
        owner is a dead process of this machine, or when it is older than any attempt can last.
        """
        stale_before = self.workspace.clock.now() - self.stale_after
        return self._free_claims(
            lambda row: _owner_died(row.claimed_by) or row.claimed_at is None or row.claimed_at < stale_before
        )

    def free_dead_claims(self) -> int:
        """While watching, give back the attempts of a watcher of this machine that has died since.

        Age alone proves nothing here: a live watcher holds its claim while it waits for its turn
        on a host, possibly longer than `stale_after`.
        """
        return self._free_claims(lambda row: _owner_died(row.claimed_by))

    def _free_claims(self, abandoned: Callable[[PlannedAttempt], bool]) -> int:
        freed = 0
        with self.workspace.writing() as session:
            for row in session.scalars(select(PlannedAttempt).where(PlannedAttempt.status == "running")).all():
                if abandoned(row):
                    # Only if still held by that claim: on PostgreSQL another watcher may have
                    # given it back and taken it since this transaction's read.
                    freed += session.execute(
                        update(PlannedAttempt)
                        .where(
                            PlannedAttempt.id == row.id,
                            PlannedAttempt.status == "running",
                            PlannedAttempt.claimed_by.is_not_distinct_from(row.claimed_by),
                        )
                        .values(status="planned", claimed_by=None, claimed_at=None)
                        .execution_options(synchronize_session=False)
                    ).rowcount
        return freed

    def pending(self, until: datetime | None = None) -> list[tuple[int, datetime]]:
        """Planned attempts of active cases' targets (up to `until`, if given), oldest first."""
        active_targets = select(Case.target_id).where(Case.active.is_(True))
        query = select(PlannedAttempt.id, PlannedAttempt.planned_at).where(
            PlannedAttempt.status == "planned", PlannedAttempt.target_id.in_(active_targets)
        )
        if until is not None:
            query = query.where(PlannedAttempt.planned_at <= until)
        with self.workspace.reading() as session:
            rows = session.execute(query.order_by(PlannedAttempt.planned_at))
            return [(row.id, row.planned_at) for row in rows]

    def mark(self, planned_id: int, status: str, reason: str) -> None:
        """A planned attempt that will not be performed: missed or failed, with the reason."""
        now = self.workspace.clock.now()
        with self.workspace.writing() as session:
            changed = session.execute(
                update(PlannedAttempt)
                .where(PlannedAttempt.id == planned_id, PlannedAttempt.status.not_in(("done", status)))
                .values(status=status)
            ).rowcount
            if not changed:
                return  # unknown, done, or already marked (by another watcher, maybe)
            planned = session.get(PlannedAttempt, planned_id)
            assert planned is not None
            journal.append(
                session,
                f"attempt.{status}",
                {
                    "planned_attempt_id": planned_id,
                    "target_id": planned.target_id,
                    "planned_at": planned.planned_at.isoformat(),
                    "reason": reason,
                },
                now,
            )
        self.report(f"Tentative planifiée n° {planned_id} : {status} ({reason})")

    def _claim(self, planned_id: int) -> tuple[PlannedAttempt, Target] | None:
        with self.workspace.writing() as session:
            claimed = session.execute(
                update(PlannedAttempt)
                .where(PlannedAttempt.id == planned_id, PlannedAttempt.status == "planned")
                .values(status="running", claimed_by=self.identity, claimed_at=self.workspace.clock.now())
            ).rowcount
            if not claimed:
                return None  # done, missed, or taken by another run
            planned = session.get(PlannedAttempt, planned_id)
            assert planned is not None
            target = session.get(Target, planned.target_id)
            assert target is not None
            session.expunge_all()
            return planned, target

    # -- performing ----------------------------------------------------------------------------

    def run_due(self) -> int:
        """Perform (or mark missed) every attempt due now; return how many captures were made."""
        done = 0
        for planned_id, planned_at in self.pending(until=self.workspace.clock.now()):
            if self.stopping.is_set():
                break
            if self.run_planned(planned_id) is not None:
                done += 1
        return done

    def run_planned(self, planned_id: int) -> AttemptOutcome | None:
        claimed = self._claim(planned_id)
        if claimed is None:
            return None
        planned, target = claimed
        if self.workspace.clock.now() - planned.planned_at > self.settings.grace:
            self.mark(planned_id, "missed", "heure prévue dépassée de plus que le délai de grâce")
            return None
        with self._host_lock(target.host):
            outcome = self._attempt(planned, target)
        if outcome is not None and outcome.classification.state is State.SLOTS:
            self._alert(outcome, target)
        elif outcome is not None and outcome.classification.block is not None:
            urls = list(self.settings.alert_urls)
            if alert_block_episode(self.workspace, outcome.capture, target, urls, self.capture_settings):
                self.report(f"{target.host} refuse les tentatives : pause automatique, alerte envoyée.")
        return outcome

    def _attempt(self, planned: PlannedAttempt, target: Target) -> AttemptOutcome | None:
        deadline = planned.planned_at + self.settings.grace
        while not self.stopping.is_set():
            try:
                outcome = capture_target(
                    self.workspace, target, self.browser, self.capture_settings,
                    planned_attempt_id=planned.id, claimed_by=self.identity,
                )
            except PolitenessRefusal as refusal:
                retry_at = refusal.retry_at or self.workspace.clock.now() + timedelta(seconds=30)
                if retry_at > deadline:
                    self.mark(planned.id, "missed", str(refusal))
                    return None
                self._wait_until(retry_at)
                continue
            except PreuvesError as exc:
                self.mark(planned.id, "failed", str(exc))
                return None
            self.report(
                f"Tentative n° {outcome.capture.attempt_no} sur {target.host} : "
                f"{outcome.classification.state.label}"
            )
            return outcome
        # Stopped while waiting for the host: the attempt stays plannable for the next run.
        with self.workspace.writing() as session:
            session.execute(
                update(PlannedAttempt)
                .where(PlannedAttempt.id == planned.id, PlannedAttempt.status == "running")
                .values(status="planned", claimed_by=None, claimed_at=None)
            )
        return None

    def _wait_until(self, moment: datetime) -> None:
        clock = self.workspace.clock
        if isinstance(clock, SimulatedClock):
            clock.set(max(moment, clock.now()))
        else:
            self.stopping.wait(max((moment - clock.now()).total_seconds(), 0))

    def _host_lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _alert(self, outcome: AttemptOutcome, target: Target) -> None:
        capture = outcome.capture
        with self.workspace.reading() as session:
            labels = list(
                session.scalars(select(Case.label).where(Case.target_id == target.id).order_by(Case.id))
            )
        screenshot = next(
            (self.workspace.home / a.blob_path for a in capture.artefacts if a.kind == "screenshot_annotated"),
            None,
        )
        result = send_slots_alert(list(self.settings.alert_urls), capture, labels, screenshot)
        with self.workspace.writing() as session:
            journal.append(
                session,
                "alert.sent",
                {"capture_id": capture.id, "channels": result.channels, "delivered": result.delivered},
                self.workspace.clock.now(),
            )
        self.report(f"Créneaux ! Alerte envoyée sur {result.delivered}/{result.channels} canal(aux).")
