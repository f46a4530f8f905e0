"""The booking site's clock beside ours: the best independent evidence of the time of an attempt.

Every attempt reads the site's HTTP `Date` header on the result page and the gap with the local clock at the
same moment. Since December 2026 both are kept in the capture's observations (`PageObservations.server_date`,
`clock_skew_ms`); older attempts have them only in their "environment" file (`clock_vs_server`, written by
`capture.environment.http_date_skew`), which `from_environment` reads.

A gap above `GAP_LIMIT_MS` means the computer's clock was wrong: the times printed in the screenshots are off
by that much, and `status` and the note say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from evidence.observations import PageObservations

GAP_LIMIT_MS = 60_000
ENVIRONMENT_KIND = "environment"


@dataclass(frozen=True)
class ServerTime:
    server_date: datetime  # the site's `Date` header (whole seconds, UTC)
    skew_ms: int  # server minus local clock: positive when the server is ahead


def from_observations(observations: PageObservations) -> ServerTime | None:
    if observations.server_date is None or observations.clock_skew_ms is None:
        return None
    return ServerTime(observations.server_date, observations.clock_skew_ms)


def from_environment(data: bytes) -> ServerTime | None:
    """The server time an attempt's environment file records, if it could be read then."""
    try:
        record = json.loads(data)["clock_vs_server"]
        if record.get("server_date") is None or record.get("skew_ms") is None:
            return None
        return ServerTime(datetime.fromisoformat(record["server_date"]), int(record["skew_ms"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class LargestGap:
    attempt_no: int
    skew_ms: int
    compared: int  # attempts whose server time is known

    @property
    def too_large(self) -> bool:
        return abs(self.skew_ms) > GAP_LIMIT_MS


def largest_gap(times: Iterable[tuple[int, ServerTime | None]]) -> LargestGap | None:
    """The largest gap (in absolute value) over (attempt number, server time) pairs; None if none is known."""
    known = [(number, time) for number, time in times if time is not None]
    if not known:
        return None
    number, time = max(known, key=lambda item: (abs(item[1].skew_ms), -item[0]))
    return LargestGap(number, time.skew_ms, len(known))


def gap_text(milliseconds: int) -> str:
    """A clock gap in words: 'moins d'une seconde', '3 s', '2 min 5 s', '1 h 4 min', '3 jours'.

    The `Date` header has whole seconds, so under one second the clocks agree.
    """
    if abs(milliseconds) < 1000:
        return "moins d'une seconde"
    seconds = round(abs(milliseconds) / 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} jours"


def direction_text(milliseconds: int) -> str:
    """Which clock is ahead, for a gap of a second or more."""
    if abs(milliseconds) < 1000:
        return "les deux horloges concordent"
    return "le serveur en avance sur l'ordinateur" if milliseconds > 0 else "le serveur en retard sur l'ordinateur"


def warning(gap: LargestGap | None) -> str | None:
    """The line `status` and the note print when the computer's clock was more than a minute off."""
    if gap is None or not gap.too_large:
        return None
    return (
        f"l'horloge de l'ordinateur s'écartait de {gap_text(gap.skew_ms)} de celle du serveur de la préfecture "
        f"(tentative n° {gap.attempt_no}) : les heures enregistrées sont décalées d'autant ; "
        "mettez l'ordinateur à l'heure"
    )
