"""Run the saved plans unattended.

The `planned_attempts` table is the truth: a planned attempt is claimed (planned → running)
before it runs, and marked done in the same transaction as its capture (see
`evidence.records.record_capture`). A restart therefore neither loses nor duplicates an attempt:
rows left "running" by a killed process had no capture committed, so they go back to "planned";
one still within its grace time runs once, one beyond it is recorded as missed. Several watchers
may share one database (PostgreSQL): each claim, each give-back and each mark is one conditional
UPDATE, so that two of them never both take or both record the same planned attempt.

An accompanied attempt (a captcha guards the page at every visit) is not performed here: at its
time the watcher reminds the person, through every channel, once (planned → reminded), and records it
as missed when its window closes with nobody having started it (see `capture.accompanied`). An
unattended attempt that meets a captcha is recorded once, like any attempt, and the user is told once
per plan that the page needs accompanied attempts.

APScheduler 3 fires the attempts (see `capture.scheduler`; one thread per host in parallel up to a
limit); `run_due` does the same work in one pass for `--once` (cron, systemd timers) and for the
demo's simulated clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from capture.accompanied import WAITING_STATUSES, window_closes
from capture.alerts import AlertResult, Message, captcha_message, notify, reminder_message, slots_message
from capture.attempt import AttemptOutcome, capture_target
from capture.block_alert import alert_block_episode
from capture.chromium import BrowserService
from capture.claims import BACK_TO_PLAN, claimer_identity, owner_died
from capture.politeness import PolitenessRefusal
from capture.settings import CaptureSettings
from capture.states import State
from evidence import journal
from evidence.clock import SimulatedClock
from evidence.errors import BadInput, PreuvesError
from evidence.localtime import PARIS
from evidence.models import Case, JournalEntry, PlannedAttempt, Target
from evidence.workspace import Workspace

POLL_SECONDS = 60
STALE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class WatchSettings:
    max_parallel_hosts: int = 4
    grace: timedelta = timedelta(minutes=30)
    alert_urls: tuple[str, ...] = ()
    # How often a running watcher reads the plans again: new plans, attempts of dead watchers.
    poll: timedelta = timedelta(seconds=POLL_SECONDS)
    # How long after its time an accompanied attempt may still be started.
    accompanied_window: timedelta = timedelta(minutes=60)
    desktop: bool = False  # a desktop notification too, where one is available
    dashboard_url: str | None = None  # where a reminder's « start » button is

    @classmethod
    def from_config(cls, watch: dict[str, Any], alerts: dict[str, Any]) -> WatchSettings:
        try:
            parallel = int(watch.get("max_parallel_hosts", 4))
            grace = int(watch.get("grace_minutes", 30))
            poll = int(watch.get("poll_seconds", POLL_SECONDS))
            window = int(watch.get("accompanied_window_minutes", 60))
            urls = tuple(str(u) for u in alerts.get("urls", []))
            desktop = alerts.get("desktop", True)
            dashboard = alerts.get("dashboard_url") or None
        except (TypeError, ValueError) as exc:
            raise BadInput(f"preuves.toml, section [watch] ou [alerts] : valeur invalide ({exc})") from exc
        if not 1 <= parallel <= 32 or not 1 <= grace <= 24 * 60 or not 1 <= poll <= 3600 or not 5 <= window <= 12 * 60:
            raise BadInput(
                "preuves.toml : max_parallel_hosts (1–32), grace_minutes (1–1440), poll_seconds (1–3600) "
                "ou accompanied_window_minutes (5–720) invalide"
            )
        if not isinstance(desktop, bool):
            raise BadInput("preuves.toml : desktop doit valoir true ou false")
        return cls(
            parallel, timedelta(minutes=grace), urls, timedelta(seconds=poll), timedelta(minutes=window),
            desktop, str(dashboard).rstrip("/") if dashboard else None,
        )


@dataclass(frozen=True)
class Due:
    """A planned attempt still to perform (or, accompanied, to remind of)."""

    id: int
    planned_at: datetime
    mode: str


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
        self.identity = claimer_identity()
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
            lambda row: owner_died(row.claimed_by) or row.claimed_at is None or row.claimed_at < stale_before
        )

    def free_dead_claims(self) -> int:
        """While watching, give back the attempts of a watcher of this machine that has died since.

        Age alone proves nothing here: a live watcher holds its claim while it waits for its turn
        on a host, possibly longer than `stale_after`.
        """
        return self._free_claims(lambda row: owner_died(row.claimed_by))

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
                        .values(status=BACK_TO_PLAN, claimed_by=None, claimed_at=None)
                        .execution_options(synchronize_session=False)
                    ).rowcount
        return freed

    def pending(self, until: datetime | None = None) -> list[Due]:
        """Planned attempts of active cases' targets (up to `until`, if given), oldest first."""
        active_targets = select(Case.target_id).where(Case.active.is_(True))
        query = select(PlannedAttempt.id, PlannedAttempt.planned_at, PlannedAttempt.mode).where(
            PlannedAttempt.status == "planned", PlannedAttempt.target_id.in_(active_targets)
        )
        if until is not None:
            query = query.where(PlannedAttempt.planned_at <= until)
        with self.workspace.reading() as session:
            rows = session.execute(query.order_by(PlannedAttempt.planned_at))
            return [Due(row.id, row.planned_at, row.mode) for row in rows]

    def too_late(self, due: Due) -> bool:
        """Beyond its grace (unattended) or its window (accompanied): the attempt is missed."""
        allowed = self.settings.accompanied_window if due.mode == "accompanied" else self.settings.grace
        return self.workspace.clock.now() - due.planned_at > allowed

    def late_reason(self, due: Due) -> str:
        if due.mode == "accompanied":
            return "fenêtre de la tentative accompagnée close avant tout rappel (surveillance arrêtée)"
        return "heure prévue dépassée de plus que le délai de grâce"

    def mark(self, planned_id: int, status: str, reason: str, *, only_from: tuple[str, ...] | None = None) -> None:
        """A planned attempt that will not be performed: missed or failed, with the reason.

        `only_from` limits the change to rows in these statuses (an accompanied attempt a person
        is performing right now is not missed)."""
        now = self.workspace.clock.now()
        with self.workspace.writing() as session:
            condition = PlannedAttempt.status.not_in(("done", status))
            if only_from is not None:
                condition = PlannedAttempt.status.in_(only_from)
            changed = session.execute(
                update(PlannedAttempt).where(PlannedAttempt.id == planned_id, condition).values(status=status)
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
                    "mode": planned.mode,
                    "reason": reason,
                },
                now,
            )
        self.report(f"Tentative planifiée n° {planned_id} : {STATUS_WORDS.get(status, status)} ({reason})")

    def expire_windows(self) -> int:
        """Record as missed the accompanied attempts whose window closed with nobody having started them."""
        opened_before = self.workspace.clock.now() - self.settings.accompanied_window
        with self.workspace.reading() as session:
            rows = session.execute(
                select(PlannedAttempt.id, PlannedAttempt.planned_at).where(
                    PlannedAttempt.mode == "accompanied", PlannedAttempt.status.in_(WAITING_STATUSES),
                    PlannedAttempt.planned_at < opened_before,
                )
            ).all()
        for row in rows:
            closes = window_closes(row.planned_at, self.settings.accompanied_window)
            self.mark(row.id, "missed", f"personne n'a commencé la tentative accompagnée avant {paris_hm(closes)}",
                      only_from=WAITING_STATUSES)
        return len(rows)

    def next_due(self) -> Due | None:
        """The next planned attempt of an active case, if any."""
        upcoming = [due for due in self.pending() if due.planned_at >= self.workspace.clock.now()]
        return upcoming[0] if upcoming else None

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
        """Perform (or remind of, or mark missed) every attempt due now; return how many captures were made."""
        done = 0
        for due in self.pending(until=self.workspace.clock.now()):
            if self.stopping.is_set():
                break
            if due.mode == "accompanied" and self.too_late(due):
                self.mark(due.id, "missed", self.late_reason(due), only_from=("planned",))
            elif self.run_planned(due.id) is not None:
                done += 1
        self.expire_windows()
        return done

    def run_planned(self, planned_id: int) -> AttemptOutcome | None:
        with self.workspace.reading() as session:
            mode = session.scalar(select(PlannedAttempt.mode).where(PlannedAttempt.id == planned_id))
        if mode == "accompanied":
            self.remind(planned_id)
            return None
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
        if outcome is not None and outcome.classification.state is State.CAPTCHA:
            self._captcha_alert_once(outcome, target)
        elif outcome is not None and outcome.classification.block is not None:
            urls = list(self.settings.alert_urls)
            if alert_block_episode(self.workspace, outcome.capture, target, urls, self.capture_settings):
                self.report(f"{target.host} refuse les tentatives : pause automatique, alerte envoyée.")
        return outcome

    # -- accompanied attempts and telling the user ----------------------------------------------

    def remind(self, planned_id: int) -> AlertResult | None:
        """Tell the person an accompanied attempt is due, once (planned → reminded); None if another did."""
        now = self.workspace.clock.now()
        with self.workspace.writing() as session:
            taken = session.execute(
                update(PlannedAttempt)
                .where(PlannedAttempt.id == planned_id, PlannedAttempt.status == "planned")
                .values(status="reminded", reminded_at=now)
            ).rowcount
            planned = session.get(PlannedAttempt, planned_id)
        if not taken or planned is None:
            return None
        if now - planned.planned_at > self.settings.accompanied_window:
            self.mark(planned_id, "missed", "rappel impossible : fenêtre déjà close", only_from=WAITING_STATUSES)
            return None
        closes = window_closes(planned.planned_at, self.settings.accompanied_window)
        cases = self._cases_of(planned.target_id)
        message = reminder_message([label for _, label in cases], planned.planned_at, closes, self._how_to_start(cases))
        result = self._tell("attempt.reminded", message, {
            "planned_attempt_id": planned_id, "target_id": planned.target_id,
            "planned_at": planned.planned_at.isoformat(), "window_closes": closes.isoformat(),
        })
        self.report(
            f"Tentative accompagnée n° {planned_id} à commencer avant {paris_hm(closes)} : rappel envoyé "
            f"sur {result.delivered}/{result.channels} canal(aux){' et sur le bureau' if result.desktop else ''}."
        )
        return result

    def _how_to_start(self, cases: list[tuple[int, str]]) -> str:
        case_id = cases[0][0] if cases else 0
        command = f"la commande « preuves capture {case_id} --assisted »"
        if self.settings.dashboard_url:
            return (f"le bouton « Commencer la tentative accompagnée » sur "
                    f"{self.settings.dashboard_url}/dossiers/{case_id}, ou {command}")
        return command

    def _captcha_alert_once(self, outcome: AttemptOutcome, target: Target) -> None:
        """Tell the user, once per plan of the target, that its unattended attempts stop on a captcha."""
        if self._told_of_captcha_since_plan(target.id):
            return
        capture = outcome.capture
        message = captcha_message([label for _, label in self._cases_of(target.id)], target.url)
        result = self._tell("alert.captcha", message, {"capture_id": capture.id, "target_id": target.id})
        self.report(
            f"Captcha sur {target.host} : cette page demande des tentatives accompagnées "
            f"(message envoyé sur {result.delivered}/{result.channels} canal(aux))."
        )

    def _told_of_captcha_since_plan(self, target_id: int) -> bool:
        with self.workspace.reading() as session:
            entries = session.scalars(
                select(JournalEntry.payload)
                .where(JournalEntry.kind.in_(("alert.captcha", "plan.created")))
                .order_by(JournalEntry.seq.desc())
            )
            for payload in entries:
                entry = json.loads(payload)
                if entry["data"].get("target_id") == target_id:
                    return entry["kind"] == "alert.captcha"
        return False

    def _cases_of(self, target_id: int) -> list[tuple[int, str]]:
        with self.workspace.reading() as session:
            return [
                (row.id, row.label)
                for row in session.execute(
                    select(Case.id, Case.label).where(Case.target_id == target_id, Case.active.is_(True)).order_by(Case.id)
                )
            ]

    def _tell(self, kind: str, message: Message, facts: dict[str, Any], screenshot: Any = None) -> AlertResult:
        """Send a message through every channel, and journal that it was sent (and where it arrived)."""
        result = notify(list(self.settings.alert_urls), message, attachment=screenshot, desktop=self.settings.desktop)
        with self.workspace.writing() as session:
            journal.append(
                session, kind,
                {**facts, "channels": result.channels, "delivered": result.delivered, "desktop": result.desktop},
                self.workspace.clock.now(),
            )
        return result

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
                .values(status=BACK_TO_PLAN, claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
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
        labels = [label for _, label in self._cases_of(target.id)]
        screenshot = next(
            (self.workspace.home / a.blob_path for a in capture.artefacts if a.kind == "screenshot_annotated"),
            None,
        )
        result = self._tell("alert.sent", slots_message(capture, labels), {"capture_id": capture.id}, screenshot)
        self.report(f"Créneaux ! Alerte envoyée sur {result.delivered}/{result.channels} canal(aux).")


STATUS_WORDS = {"missed": "manquée", "failed": "échouée"}


def paris_hm(moment: datetime) -> str:
    return f"{moment.astimezone(PARIS):%H h %M}"
