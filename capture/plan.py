"""A capture plan that convinces a judge: every weekday, every hour window, weeks long.

Attempts are spread over mornings, middays, afternoons and evenings (Europe/Paris) of every
weekday, plus the moments when prefectures are known to put new slots online (Monday morning,
the 1st and the 15th of the month, early evening). Each time is drawn at random inside its window
so that no pattern shows, never closer than the politeness interval to another, at most a daily
cap. The plan belongs to a target (every case waiting on that page shares it) and is saved in the
database, so what was planned and what was done can be compared.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from evidence import journal
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import PlannedAttempt, Target
from evidence.stats import WINDOWS
from evidence.workspace import Workspace

EARLY_EVENING = (time(17, 30), time(19, 0))
MONDAY_MORNING = (time(8, 0), time(9, 30))
RELEASE_MORNING = (time(8, 0), time(10, 0))
DEFAULT_DAILY_CAP = 6
LAST_PLANNABLE_YEAR = 9000  # far from date.max, so that any plan's last day still exists


@dataclass(frozen=True)
class PlannedTime:
    at: datetime  # aware UTC
    window: str
    reason: str  # "regular", "monday_morning", "month_release", "early_evening"


def _random_moment(rng: random.Random, day: date, start: time, end: time) -> datetime:
    begin = datetime.combine(day, start, PARIS)
    span = (datetime.combine(day, end, PARIS) - begin).total_seconds()
    return (begin + timedelta(seconds=int(rng.uniform(0, span)))).astimezone(UTC)


def build_plan(
    first_day: date,
    *,
    weeks: int = 4,
    per_day: int = 3,
    min_interval: timedelta = timedelta(minutes=10),
    daily_cap: int = DEFAULT_DAILY_CAP,
    seed: int = 0,
    busy: Collection[datetime] = (),
) -> list[PlannedTime]:
    """The attempt times from `first_day` for `weeks` weeks, weekdays only, sorted.

    `busy` are times already planned on the same host for other pages: the new times keep the
    politeness interval from them too.
    """
    if not 1 <= weeks <= 26:
        raise BadInput("nombre de semaines invalide : entre 1 et 26")
    if not 1 <= per_day <= len(WINDOWS):
        raise BadInput(f"tentatives par jour invalides : entre 1 et {len(WINDOWS)}")
    if first_day.year > LAST_PLANNABLE_YEAR:
        raise BadInput(f"date de début invalide : {first_day:%d/%m/%Y} (au plus tard en {LAST_PLANNABLE_YEAR})")
    rng = random.Random(seed)
    busy_sorted = sorted(busy)
    planned: list[PlannedTime] = []
    weekday_index = 0
    for offset in range(weeks * 7):
        day = first_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        # Rotate the windows from one weekday to the next so that all of them are used.
        rotation = [WINDOWS[(weekday_index + i) % len(WINDOWS)] for i in range(per_day)]
        weekday_index += 1
        day_times = [
            PlannedTime(_random_moment(rng, day, start, end), name, "regular")
            for name, _label, start, end in rotation
        ]
        extras = []
        if day.weekday() == 0:
            extras.append(("morning", "monday_morning", MONDAY_MORNING))
        if day.day in (1, 15):
            extras.append(("morning", "month_release", RELEASE_MORNING))
        if day.weekday() in (1, 3):
            extras.append(("evening", "early_evening", EARLY_EVENING))
        for window, reason, (start, end) in extras:
            day_times.append(PlannedTime(_random_moment(rng, day, start, end), window, reason))
        planned += _spaced(sorted(day_times, key=lambda p: p.at), min_interval, busy_sorted)[:daily_cap]
    return planned


def _spaced(day_times: list[PlannedTime], min_interval: timedelta, busy: list[datetime]) -> list[PlannedTime]:
    """Push each time later until it is at least `min_interval` after the previous one and at
    least `min_interval` away from every busy time of the host."""
    spaced: list[PlannedTime] = []
    for planned in day_times:
        at = planned.at
        if spaced and at - spaced[-1].at < min_interval:
            at = spaced[-1].at + min_interval
        for other in busy:  # sorted: one pass pushes past each conflict in turn
            if abs(at - other) < min_interval:
                at = other + min_interval
        spaced.append(PlannedTime(at, planned.window, planned.reason))
    return spaced


def busy_on_host(workspace: Workspace, target_id: int) -> list[datetime]:
    """The future planned attempts of the other pages on the same host as this target."""
    with workspace.reading() as session:
        host = session.get_one(Target, target_id).host
        return list(
            session.scalars(
                select(PlannedAttempt.planned_at).join(Target).where(
                    Target.host == host, Target.id != target_id, PlannedAttempt.status == "planned",
                    PlannedAttempt.planned_at >= workspace.clock.now(),
                )
            )
        )


def save_plan(workspace: Workspace, target_id: int, times: list[PlannedTime]) -> int:
    """Replace the target's future planned attempts by these; returns how many were cancelled."""
    now = workspace.clock.now()
    with workspace.writing() as session:
        cancelled = session.execute(
            update(PlannedAttempt)
            .where(
                PlannedAttempt.target_id == target_id,
                PlannedAttempt.status == "planned",
                PlannedAttempt.planned_at >= now,
            )
            .values(status="cancelled")
        ).rowcount
        existing = set(
            session.scalars(
                select(PlannedAttempt.planned_at).where(PlannedAttempt.target_id == target_id)
            )
        )
        rows = [
            PlannedAttempt(
                target_id=target_id, planned_at=p.at, window=p.window, reason=p.reason,
                status="planned", created_at=now,
            )
            for p in times
            if p.at > now and p.at not in existing
        ]
        session.add_all(rows)
        session.flush()
        journal.append(
            session,
            "plan.created",
            {
                "target_id": target_id,
                "cancelled_future_attempts": cancelled,
                "planned": [{"id": r.id, "at": r.planned_at.isoformat(), "reason": r.reason} for r in rows],
            },
            now,
        )
    return cancelled


def saved_plan(workspace: Workspace, target_id: int) -> list[PlannedAttempt]:
    with workspace.reading() as session:
        return list(
            session.scalars(
                select(PlannedAttempt)
                .where(PlannedAttempt.target_id == target_id, PlannedAttempt.status != "cancelled")
                .order_by(PlannedAttempt.planned_at)
            )
        )
