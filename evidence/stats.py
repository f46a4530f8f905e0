"""The figures a judge reads at a glance: attempts, distinct days and weeks, hour windows, states.

Case law (REFERENCE §1) rejects attempts made within one week, or too few of them; these figures,
and the warnings derived from them, say whether a case's evidence is strong enough yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from evidence.localtime import PARIS

# Hour windows of the day, Europe/Paris: (name, French label, start, end).
WINDOWS: tuple[tuple[str, str, time, time], ...] = (
    ("morning", "matin (8 h – 11 h)", time(8, 0), time(11, 0)),
    ("midday", "mi-journée (11 h – 14 h)", time(11, 0), time(14, 0)),
    ("afternoon", "après-midi (14 h – 17 h 30)", time(14, 0), time(17, 30)),
    ("evening", "soir (17 h 30 – 21 h)", time(17, 30), time(21, 0)),
)
NIGHT = "night"

# Below these, the evidence is weak (REFERENCE §1: at least three weeks, varied days and hours).
MIN_WEEKS = 3
MIN_ATTEMPTS = 10
MIN_WINDOWS = 3


def window_of(moment: datetime) -> str:
    """The hour window (Europe/Paris) a moment falls in; "night" outside them."""
    local = moment.astimezone(PARIS).time()
    for name, _label, start, end in WINDOWS:
        if start <= local < end:
            return name
    return NIGHT


@dataclass(frozen=True)
class CaptureStats:
    attempts: int = 0
    distinct_days: int = 0
    distinct_weeks: int = 0
    windows: tuple[str, ...] = ()
    per_state: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None

    def weaknesses(self, letters_sent: int) -> list[str]:
        """Why the evidence would not yet convince a judge (French, one line each)."""
        found = []
        if self.distinct_weeks < MIN_WEEKS:
            found.append(f"moins de {MIN_WEEKS} semaines distinctes ({self.distinct_weeks})")
        if self.attempts < MIN_ATTEMPTS:
            found.append(f"moins de {MIN_ATTEMPTS} tentatives ({self.attempts})")
        covered = len([w for w in self.windows if w != NIGHT])
        if covered < MIN_WINDOWS:  # the night is no window: said, as `status` lists it among the hours covered
            day = f"de {WINDOWS[0][2].hour} h à {WINDOWS[-1][3].hour} h"
            found.append(f"moins de {MIN_WINDOWS} plages horaires couvertes {day} ({covered})")
        if letters_sent == 0:
            found.append("aucun courrier envoyé à la préfecture")
        return found


def capture_stats(started: Iterable[tuple[datetime, str]]) -> CaptureStats:
    """Figures over (start time, state) pairs of attempts."""
    moments: list[datetime] = []
    states: Counter[str] = Counter()
    for moment, state in started:
        moments.append(moment)
        states[state] += 1
    if not moments:
        return CaptureStats()
    local = [m.astimezone(PARIS) for m in moments]
    order = [name for name, *_ in WINDOWS] + [NIGHT]
    return CaptureStats(
        attempts=len(moments),
        distinct_days=len({m.date() for m in local}),
        distinct_weeks=len({m.isocalendar()[:2] for m in local}),
        windows=tuple(sorted({window_of(m) for m in moments}, key=order.index)),
        per_state=dict(sorted(states.items())),
        first=min(moments),
        last=max(moments),
    )
