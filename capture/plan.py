"""A capture plan that convinces a judge: every working day, every hour window, weeks long.

Each working day (Monday to Friday, French public holidays excepted: see `working_days`) gets exactly
the number of attempts asked for, spread over mornings, middays, afternoons and evenings
(Europe/Paris) by rotating the windows from one day to the next. The moments when prefectures are
known to put new slots online (Monday morning, the 1st and the 15th of the month, early evening) and
the publication time a platform announced take the place of one of the day's attempts — they are
counted within the number, never added on top. Each time is drawn at random inside its window so that
no pattern shows, and kept at least the politeness interval from the others on the same host.

An accompanied plan (a person solves a captcha at each attempt) has the same spread, at times a
person reads easily (multiples of five minutes). The plan belongs to a target (every case waiting on
that page shares it) and is saved in the database, so what was planned and what was done can be
compared; replacing a plan is explicit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from capture.platforms import get_platform
from capture.working_days import is_working_day, local_law_subdivision, public_holidays
from evidence import journal
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import Capture, PlannedAttempt, Target
from evidence.observations import PageObservations
from evidence.stats import WINDOWS, window_of
from evidence.workspace import Workspace

EARLY_EVENING = (time(17, 30), time(19, 0))
MONDAY_MORNING = (time(8, 0), time(9, 30))
RELEASE_MORNING = (time(8, 0), time(10, 0))
# An attempt "just after" an announced publication: late enough for the slots to be online.
AFTER_ANNOUNCEMENT = (timedelta(minutes=2), timedelta(minutes=10))
LAST_PLANNABLE_YEAR = 9000  # far from date.max, so that any plan's last day still exists
MODES = ("unattended", "accompanied")
STEP = {"unattended": timedelta(seconds=1), "accompanied": timedelta(minutes=5)}
# Plan rows still ahead: a plan holding any of them is only replaced on request.
UPCOMING_STATUSES = ("planned", "reminded")


class PlanExists(BadInput):
    """The target already has a plan ahead: replacing it must be asked for."""


@dataclass(frozen=True)
class PlannedTime:
    at: datetime  # aware UTC
    window: str
    reason: str  # "regular", "monday_morning", "month_release", "early_evening", "announced_release"
    mode: str = "unattended"


@dataclass(frozen=True)
class _Release:
    """A moment slots are put online: an attempt of the day moves into [earliest, latest]."""

    reason: str
    earliest: datetime
    latest: datetime


def _ceil(moment: datetime, step: timedelta) -> datetime:
    """The first multiple of `step` (since the epoch) at or after `moment` (Paris offsets are whole hours)."""
    seconds = step.total_seconds()
    stamp = moment.timestamp()
    return datetime.fromtimestamp(-(-stamp // seconds) * seconds, UTC)


def _random_between(rng: random.Random, begin: datetime, end: datetime, step: timedelta) -> datetime:
    """A moment drawn in [begin, end), on a multiple of `step`."""
    first = _ceil(begin, step)
    return first + step * rng.randrange(max(int((end - first) / step), 1))


DAY_HOURS = (8, 21)  # the four hour windows (evidence.stats.WINDOWS); outside them is night


def parse_hours(text: str) -> tuple[int, int]:
    """'9-18' or '9h-18h' → (9, 18): the hours (Europe/Paris) a person can be there."""
    found = re.fullmatch(r"\s*(\d{1,2})\s*h?\s*-\s*(\d{1,2})\s*h?\s*", text)
    hours = (int(found.group(1)), int(found.group(2))) if found else None
    if hours is None or not 0 <= hours[0] < hours[1] <= 24:
        raise BadInput(f"heures invalides : {text!r} (attendu par exemple 9-18, de 0 à 24)")
    return hours


def _clock(hour: int) -> time:
    return time(23, 59, 59) if hour == 24 else time(hour)


def day_windows(hours: tuple[int, int] = DAY_HOURS) -> list[tuple[str, time, time]]:
    """The hour windows within the person's hours: each cut to them, the first and the last stretched
    to them when more is asked for (early morning, night), those left under half an hour dropped."""
    first, last = _clock(hours[0]), _clock(hours[1])
    windows = []
    for index, (name, _label, start, end) in enumerate(WINDOWS):
        begin = first if index == 0 else max(start, first)
        finish = last if index == len(WINDOWS) - 1 else min(end, last)
        if datetime.combine(date.min, finish) - datetime.combine(date.min, begin) >= timedelta(minutes=30):
            windows.append((name, begin, finish))
    return windows


def _day_releases(day: date, announced: datetime | None, hours: tuple[int, int]) -> list[_Release]:
    """The release moments of a day within the person's hours, the most telling first."""
    releases = []
    if announced is not None and announced.astimezone(PARIS).date() == day:
        releases.append(_Release("announced_release", announced + AFTER_ANNOUNCEMENT[0], announced + AFTER_ANNOUNCEMENT[1]))
    fixed = []
    if day.weekday() == 0:
        fixed.append(("monday_morning", MONDAY_MORNING))
    if day.day in (1, 15):
        fixed.append(("month_release", RELEASE_MORNING))
    if day.weekday() in (1, 3):
        fixed.append(("early_evening", EARLY_EVENING))
    for reason, (start, end) in fixed:
        releases.append(_Release(reason, datetime.combine(day, start, PARIS), datetime.combine(day, end, PARIS)))
    opens, closes = datetime.combine(day, _clock(hours[0]), PARIS), datetime.combine(day, _clock(hours[1]), PARIS)
    return [
        _Release(r.reason, max(r.earliest, opens), min(r.latest, closes))
        for r in releases if max(r.earliest, opens) < min(r.latest, closes)
    ]


def _take_place(times: list[PlannedTime], at: datetime, reason: str) -> None:
    """Move one regular attempt of the day to `at`: the one of the same window, else the day's last."""
    regular = [i for i, planned in enumerate(times) if planned.reason == "regular"]
    if not regular:
        return  # every attempt of the day is already at a release moment
    window = window_of(at)
    same = [i for i in regular if times[i].window == window]
    index = same[0] if same else regular[-1]
    times[index] = PlannedTime(at, window, reason, times[index].mode)


@dataclass(frozen=True)
class PlanResult:
    """A saved plan, and what the person must be told about how it was made."""

    times: list[PlannedTime]
    per_day: int
    mode: str
    closed: dict[date, str] = field(default_factory=dict)  # public holidays skipped in the span
    announced: datetime | None = None  # the publication time an attempt follows, if any
    cancelled: int = 0  # future attempts of the previous plan
    hours: tuple[int, int] = DAY_HOURS


def _check(first_day: date, weeks: int, per_day: int, mode: str | None, hours: tuple[int, int]) -> None:
    if not 1 <= weeks <= 26:
        raise BadInput("nombre de semaines invalide : entre 1 et 26")
    windows = len(day_windows(hours))
    if not 1 <= per_day <= windows:
        within = "" if hours == DAY_HOURS else f" dans ces heures ({hours[0]} h – {hours[1]} h)"
        raise BadInput(f"tentatives par jour invalides : entre 1 et {windows}{within}")
    if first_day.year > LAST_PLANNABLE_YEAR:
        raise BadInput(f"date de début invalide : {first_day:%d/%m/%Y} (au plus tard en {LAST_PLANNABLE_YEAR})")
    if mode is not None and mode not in MODES:
        raise BadInput(f"type de tentatives inconnu : {mode!r}")


def build_plan(
    first_day: date,
    *,
    weeks: int = 4,
    per_day: int = 3,
    min_interval: timedelta = timedelta(minutes=10),
    seed: int = 0,
    busy: Collection[datetime] = (),
    mode: str = "unattended",
    closed: Mapping[date, str] | None = None,
    announced: datetime | None = None,
    hours: tuple[int, int] = DAY_HOURS,
    taken: Collection[datetime] = (),
) -> list[PlannedTime]:
    """The attempt times from `first_day` for `weeks` weeks, working days only, sorted.

    `closed` are the public holidays (computed for the span if not given); `busy` are times already
    planned on the same host for other pages: the new times keep the politeness interval from them
    too. `announced`, a publication time the platform gave, gets an attempt just after it — on a day
    without attempts (a weekend), one more, the only one of that day. `hours` are those a person can
    be there (Europe/Paris): by default the day's four windows, 8 h to 21 h, never the night.
    `taken` are the instants of the page's earlier plan rows (a replaced plan's too), which one page
    cannot hold twice: a time falling on one moves a step later.
    """
    _check(first_day, weeks, per_day, mode, hours)
    last_day = first_day + timedelta(days=weeks * 7 - 1)
    closed = dict(closed) if closed is not None else public_holidays(first_day, last_day)
    if announced is not None and not first_day <= announced.astimezone(PARIS).date() <= last_day:
        announced = None
    rng = random.Random(seed)
    step = STEP[mode]
    busy_sorted = sorted(busy)
    taken_set = set(taken)
    planned: list[PlannedTime] = []
    windows = day_windows(hours)
    working_index = 0
    for offset in range(weeks * 7):
        day = first_day + timedelta(days=offset)
        if is_working_day(day, closed):
            # Rotate the windows from one working day to the next so that all of them are used.
            rotation = [windows[(working_index + i) % len(windows)] for i in range(per_day)]
            working_index += 1
            moments = [
                _random_between(rng, datetime.combine(day, start, PARIS), datetime.combine(day, end, PARIS), step)
                for _name, start, end in rotation
            ]
            day_times = [PlannedTime(at, window_of(at), "regular", mode) for at in moments]
        else:
            day_times = []
        for release in _day_releases(day, announced, hours):
            at = _random_between(rng, release.earliest, release.latest, step)
            if day_times:
                _take_place(day_times, at, release.reason)
            elif release.reason == "announced_release":  # a weekend or a holiday: this one attempt only
                day_times.append(PlannedTime(at, window_of(at), release.reason, mode))
        planned += _spaced(sorted(day_times, key=lambda p: p.at), min_interval, busy_sorted, step, taken_set)
    return planned


def _spaced(
    day_times: list[PlannedTime], min_interval: timedelta, busy: list[datetime], step: timedelta,
    taken: set[datetime],
) -> list[PlannedTime]:
    """Push each time later until it is at least `min_interval` after the previous one, at least
    `min_interval` away from every busy time of the host, and on no taken instant."""
    spaced: list[PlannedTime] = []
    for planned in day_times:
        at = planned.at
        if spaced and at - spaced[-1].at < min_interval:
            at = _ceil(spaced[-1].at + min_interval, step)
        while True:
            for other in busy:  # sorted: one pass pushes past each conflict in turn
                if abs(at - other) < min_interval:
                    at = _ceil(other + min_interval, step)
            if at not in taken:
                break
            at += step
        spaced.append(PlannedTime(at, planned.window, planned.reason, planned.mode))
    return spaced


# --- a target's plan in the workspace ---------------------------------------------------------


def planned_instants(workspace: Workspace, target_id: int) -> list[datetime]:
    """Every instant the page's plans ever held, whatever became of the attempt."""
    with workspace.reading() as session:
        return list(session.scalars(select(PlannedAttempt.planned_at).where(PlannedAttempt.target_id == target_id)))


def busy_on_host(workspace: Workspace, target_id: int) -> list[datetime]:
    """The future planned attempts of the other pages on the same host as this target."""
    with workspace.reading() as session:
        host = session.get_one(Target, target_id).host
        return list(
            session.scalars(
                select(PlannedAttempt.planned_at).join(Target).where(
                    Target.host == host, Target.id != target_id, PlannedAttempt.status.in_(UPCOMING_STATUSES),
                    PlannedAttempt.planned_at >= workspace.clock.now(),
                )
            )
        )


def announced_release(workspace: Workspace, target_id: int) -> datetime | None:
    """The next publication of slots the platform announced in the target's latest attempt, if still ahead."""
    with workspace.reading() as session:
        latest = session.scalars(
            select(Capture.observations).where(Capture.target_id == target_id)
            .order_by(Capture.started_at.desc()).limit(1)
        ).first()
    release = PageObservations.from_json(latest).next_release
    return release if release is not None and release > workspace.clock.now() else None


def first_plannable_day(workspace: Workspace, asked: date | None) -> date:
    """The plan's first day: today unless asked; a day already past is refused."""
    today = workspace.clock.now().astimezone(PARIS).date()
    if asked is not None and asked < today:
        raise BadInput(f"date de début passée : {asked:%d/%m/%Y} (au plus tôt aujourd'hui, {today:%d/%m/%Y})")
    return asked or today


def plan_target(
    workspace: Workspace,
    target_id: int,
    *,
    first_day: date | None = None,
    weeks: int = 4,
    per_day: int = 3,
    mode: str | None = None,
    min_interval: timedelta = timedelta(minutes=10),
    seed: int = 0,
    replace: bool = False,
    hours: tuple[int, int] = DAY_HOURS,
) -> PlanResult:
    """Make and save the target's plan: the platform's kind of attempts unless `mode` is given, the
    public holidays of the prefecture's place, an attempt after an announced publication."""
    start = first_plannable_day(workspace, first_day)
    _check(start, weeks, per_day, mode, hours)
    with workspace.reading() as session:
        target = session.get_one(Target, target_id)
        url, prefecture, platform = target.url, target.prefecture, target.platform
    last_day = start + timedelta(days=7 * weeks - 1)
    closed = public_holidays(start, last_day, local_law_subdivision(url, prefecture))
    mode = mode or get_platform(platform).attempt_mode
    announced = announced_release(workspace, target_id)
    times = build_plan(
        start, weeks=weeks, per_day=per_day, min_interval=min_interval, seed=seed,
        busy=busy_on_host(workspace, target_id), mode=mode, closed=closed, announced=announced, hours=hours,
        taken=planned_instants(workspace, target_id),
    )
    cancelled = save_plan(workspace, target_id, times, replace=replace)
    followed = announced if any(t.reason == "announced_release" for t in times) else None
    skipped = {day: name for day, name in closed.items() if day.weekday() < 5}
    return PlanResult(times, per_day, mode, skipped, followed, cancelled, hours)


def upcoming_count(workspace: Workspace, target_id: int) -> int:
    with workspace.reading() as session:
        return len(
            session.scalars(
                select(PlannedAttempt.id).where(
                    PlannedAttempt.target_id == target_id, PlannedAttempt.status.in_(UPCOMING_STATUSES),
                    PlannedAttempt.planned_at >= workspace.clock.now(),
                )
            ).all()
        )


def save_plan(workspace: Workspace, target_id: int, times: list[PlannedTime], *, replace: bool = False) -> int:
    """Save these times as the target's plan; returns how many future attempts of the old one were cancelled.

    A target with attempts still ahead keeps them unless `replace` is given (then they are cancelled,
    in the same transaction as the new ones are added).
    """
    now = workspace.clock.now()
    with workspace.writing() as session:
        ahead = (
            PlannedAttempt.target_id == target_id,
            PlannedAttempt.status.in_(UPCOMING_STATUSES),
            PlannedAttempt.planned_at >= now,
        )
        if not replace and session.scalars(select(PlannedAttempt.id).where(*ahead).limit(1)).first() is not None:
            raise PlanExists("un plan est déjà en cours pour cette page : ajoutez --replace pour le remplacer")
        cancelled = session.execute(
            update(PlannedAttempt)
            .where(PlannedAttempt.target_id == target_id, PlannedAttempt.status == "planned", PlannedAttempt.planned_at >= now)
            .values(status="cancelled")
        ).rowcount
        existing = set(
            session.scalars(
                select(PlannedAttempt.planned_at).where(PlannedAttempt.target_id == target_id)
            )
        )
        rows = [
            PlannedAttempt(
                target_id=target_id, planned_at=p.at, window=p.window, reason=p.reason, mode=p.mode,
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
                "planned": [
                    {"id": r.id, "at": r.planned_at.isoformat(), "reason": r.reason, "mode": r.mode} for r in rows
                ],
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
