"""The figures a judge reads at a glance: how many attempts, over how many days and weeks, at which hours.

All in Europe/Paris local time: the judge compares them with the applicant's account and with the
times printed in the screenshots.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from dossier_builder.french import WEEKDAYS
from dossier_builder.outcomes import OFFLINE
from evidence.localtime import PARIS
from evidence.stats import NIGHT, WINDOWS, capture_stats, window_of

STATE_ORDER = ("noslot", "slots", "captcha", "error", OFFLINE, "unknown")
# The note counts attempts in the same hour windows as `preuves case show` and the requête.
WINDOW_LABELS = tuple((name, label) for name, label, _start, _end in WINDOWS) + (
    (NIGHT, "en dehors de ces plages"),
)


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = lundi
    hour: int
    count: int
    shade: str  # fill colour, darker for more attempts


@dataclass(frozen=True)
class Statistics:
    attempts: int
    first: datetime
    last: datetime
    distinct_days: int
    distinct_weeks: int
    distinct_weekdays: int
    distinct_hours: int
    weekdays: tuple[int, ...]  # the weekdays with an attempt, 0 = lundi
    earliest: time  # the earliest and latest time of day of an attempt, Paris
    latest: time
    span_days: int  # calendar days from the first attempt to the last, both included
    by_state: tuple[tuple[str, int], ...]
    by_window: tuple[tuple[str, int], ...]
    by_weekday: tuple[tuple[str, int], ...]
    heatmap: tuple[HeatCell, ...]  # 7 × 24 cells, weekday-major
    heat_max: int


def _shade(count: int, top: int) -> str:
    """White for none, then from light to dark blue (print-friendly, readable in grey)."""
    if count == 0:
        return "#ffffff"
    strength = 0.25 + 0.75 * count / top
    light, dark = (222, 235, 247), (8, 48, 107)
    return "#" + "".join(f"{round(a + (b - a) * strength):02x}" for a, b in zip(light, dark, strict=True))


def compute(times: Sequence[datetime], states: Sequence[str]) -> Statistics:
    """Statistics of attempts given their start times (aware) and states, in the same order."""
    if not times:
        raise ValueError("statistics need at least one attempt")
    # The shared figures come from evidence.stats, so the note says what `preuves status` says.
    shared = capture_stats(zip(times, states, strict=True))
    local = [moment.astimezone(PARIS) for moment in times]
    days: set[date] = {moment.date() for moment in local}
    grid = Counter((moment.weekday(), moment.hour) for moment in local)
    top = max(grid.values())
    state_counts = Counter(states)
    ordered_states = [s for s in STATE_ORDER if s in state_counts] + sorted(
        s for s in state_counts if s not in STATE_ORDER
    )
    weekday_counts = Counter(moment.weekday() for moment in local)
    windows = Counter(window_of(moment) for moment in times)
    return Statistics(
        attempts=shared.attempts,
        first=shared.first,
        last=shared.last,
        distinct_days=shared.distinct_days,
        distinct_weeks=shared.distinct_weeks,
        distinct_weekdays=len(weekday_counts),
        distinct_hours=len({moment.hour for moment in local}),
        weekdays=tuple(sorted(weekday_counts)),
        earliest=min(moment.time() for moment in local),
        latest=max(moment.time() for moment in local),
        span_days=(max(days) - min(days)).days + 1,
        by_state=tuple((state, state_counts[state]) for state in ordered_states),
        by_window=tuple((label, windows[name]) for name, label in WINDOW_LABELS),
        by_weekday=tuple((WEEKDAYS[day], weekday_counts[day]) for day in range(7)),
        heatmap=tuple(
            HeatCell(day, hour, grid[(day, hour)], _shade(grid[(day, hour)], top))
            for day in range(7)
            for hour in range(24)
        ),
        heat_max=top,
    )
