"""Accompanied attempts: on a page guarded by a captcha at every visit, a person solves it, the tool records.

A planned accompanied attempt has a window, from `EARLY_START` before its time to the configured
length after it. The watcher reminds the person when its time comes (`capture.watch`) and records it
as missed when the window closes with nobody having started it. A person who starts an assisted
capture while a window is open (`preuves capture CASE --assisted`, the dashboard's button) performs
that planned attempt: the capture claims its plan row as a watcher would, so it is done once.

Nothing here reads or answers the captcha: the person does, in the visible window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from capture.attempt import AttemptOutcome, capture_target
from capture.chromium import BrowserService
from capture.claims import BACK_TO_PLAN, claimer_identity
from capture.settings import CaptureSettings
from evidence.models import PlannedAttempt, Target
from evidence.workspace import Workspace

EARLY_START = timedelta(minutes=15)
WAITING_STATUSES = ("planned", "reminded")


@dataclass(frozen=True)
class OpenWindow:
    """An accompanied attempt a person may start now."""

    planned_id: int
    target_id: int
    planned_at: datetime
    closes: datetime


def window_closes(planned_at: datetime, length: timedelta) -> datetime:
    return planned_at + length


def open_windows(workspace: Workspace, length: timedelta, target_id: int | None = None) -> list[OpenWindow]:
    """The accompanied attempts whose window is open now (of one target, if given), earliest first."""
    now = workspace.clock.now()
    query = select(PlannedAttempt.id, PlannedAttempt.target_id, PlannedAttempt.planned_at).where(
        PlannedAttempt.mode == "accompanied",
        PlannedAttempt.status.in_(WAITING_STATUSES),
        PlannedAttempt.planned_at <= now + EARLY_START,
        PlannedAttempt.planned_at >= now - length,
    )
    if target_id is not None:
        query = query.where(PlannedAttempt.target_id == target_id)
    with workspace.reading() as session:
        rows = session.execute(query.order_by(PlannedAttempt.planned_at)).all()
    return [OpenWindow(row.id, row.target_id, row.planned_at, window_closes(row.planned_at, length)) for row in rows]


def _claim(workspace: Workspace, target_id: int, length: timedelta, identity: str) -> int | None:
    """Take the target's open accompanied attempt for this capture; None when none is open."""
    for window in open_windows(workspace, length, target_id):
        with workspace.writing() as session:
            taken = session.execute(
                update(PlannedAttempt)
                .where(PlannedAttempt.id == window.planned_id, PlannedAttempt.status.in_(WAITING_STATUSES))
                .values(status="running", claimed_by=identity, claimed_at=workspace.clock.now())
            ).rowcount
        if taken:
            return window.planned_id
    return None


def _give_back(workspace: Workspace, planned_id: int, identity: str) -> None:
    with workspace.writing() as session:
        session.execute(
            update(PlannedAttempt)
            .where(PlannedAttempt.id == planned_id, PlannedAttempt.status == "running",
                   PlannedAttempt.claimed_by == identity)
            .values(status=BACK_TO_PLAN, claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class AccompaniedOutcome:
    outcome: AttemptOutcome
    planned_id: int | None  # the planned attempt it performed, if a window was open


def assisted_capture(
    workspace: Workspace, target: Target, browser: BrowserService, settings: CaptureSettings, window: timedelta
) -> AccompaniedOutcome:
    """An assisted capture now: the person acts in `browser`'s window, the tool records; it performs
    the target's planned accompanied attempt whose window is open, if any."""
    identity = claimer_identity()
    planned_id = _claim(workspace, target.id, window, identity)
    try:
        outcome = capture_target(
            workspace, target, browser, settings, assisted=True,
            planned_attempt_id=planned_id, claimed_by=identity if planned_id is not None else None,
        )
    except BaseException:
        if planned_id is not None:
            _give_back(workspace, planned_id, identity)
        raise
    return AccompaniedOutcome(outcome, planned_id)
