"""Dates and words as a French court document writes them, independent of the system locale."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from dossier_builder.outcomes import OFFLINE
from evidence.letters import CHANNELS
from evidence.localtime import PARIS, utc_offset_text

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

STATE_LABELS = {
    "noslot": "aucun créneau",
    "slots": "créneaux proposés",
    "captcha": "arrêt au captcha",
    "error": "erreur du site",
    OFFLINE: "connexion impossible",
    "unknown": "page non reconnue",
}


def _day(value: int) -> str:
    return "1er" if value == 1 else str(value)


def long_date(value: date) -> str:
    """'2 novembre 2026', '1er décembre 2026'."""
    return f"{_day(value.day)} {MONTHS[value.month - 1]} {value.year}"


def date_range(first: date, last: date) -> str:
    """'du 2 au 8 novembre 2026', 'du 28 septembre au 4 octobre 2026', 'le 2 novembre 2026'."""
    if first == last:
        return f"le {long_date(first)}"
    if (first.year, first.month) == (last.year, last.month):
        return f"du {_day(first.day)} au {long_date(last)}"
    if first.year == last.year:
        return f"du {_day(first.day)} {MONTHS[first.month - 1]} au {long_date(last)}"
    return f"du {long_date(first)} au {long_date(last)}"


def paris_short(moment: datetime) -> str:
    """'27/11/2026 09:35 (UTC+01:00)' — the chronology's column."""
    return f"{moment.astimezone(PARIS):%d/%m/%Y %H:%M} ({utc_offset_text(moment)})"


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def channel_label(channel: str) -> str:
    return CHANNELS.get(channel, channel)


def ascii_title(text: str) -> str:
    """'Captures d'écran du 2 au 8 novembre 2026' → 'Captures_d_ecran_du_2_au_8_novembre_2026'.

    Télérecours wants titles without accents nor `% / & .`; letters, digits, `-` and `_` only.
    """
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9-]+", "_", plain).strip("_")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 tentative', '3 tentatives'."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def number(value: int) -> str:
    """'1 000' with a narrow no-break space, as French typography writes it."""
    return f"{value:,}".replace(",", "\u202f")


@dataclass(frozen=True)
class Noun:
    """A counted noun (with the words that agree with it): 'aucune réponse reçue', '1 réponse reçue',
    '2 réponses reçues'. French puts none in the singular, with « aucun » or « aucune »."""

    singular: str
    plural: str
    feminine: bool = False

    def count(self, value: int) -> str:
        if value == 0:
            return f"{'aucune' if self.feminine else 'aucun'} {self.singular}"
        return f"{number(value)} {self.singular if value == 1 else self.plural}"


def agree(value: int, singular: str, plural_form: str) -> str:
    """The verb or adjective that agrees with a count: singular for none or one ('aucune n'a', '1 a')."""
    return plural_form if value > 1 else singular


def _joined(parts: list[str]) -> str:
    """'a', 'a et b', 'a, b et c'."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} et {parts[-1]}"


def weekday_span(days: Iterable[int]) -> str:
    """The weekdays covered, as a judge reads them: 'du lundi au vendredi', 'le lundi et le jeudi',
    'du lundi au mercredi et le samedi', 'tous les jours de la semaine' (0 = lundi)."""
    present = sorted(set(days))
    if not present:
        raise ValueError("no weekday")
    if len(present) == 7:
        return "tous les jours de la semaine"
    runs: list[list[int]] = []
    for day in present:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"du {WEEKDAYS[run[0]]} au {WEEKDAYS[run[-1]]}")
        else:
            parts += [f"le {WEEKDAYS[day]}" for day in run]
    return _joined(parts)


def clock_time(value: time) -> str:
    """'8 h 21', '20 h 05', '9 h' — a time of day as French prose writes it."""
    return f"{value.hour} h" if value.minute == 0 else f"{value.hour} h {value.minute:02d}"


def hour_span(first: time, last: time) -> str:
    """'de 8 h 21 à 20 h 55', or 'à 9 h 30' when both are the same minute."""
    first, last = first.replace(second=0, microsecond=0), last.replace(second=0, microsecond=0)
    if first == last:
        return f"à {clock_time(first)}"
    return f"de {clock_time(first)} à {clock_time(last)}"
