"""Dates and words as a French court document writes them, independent of the system locale."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

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
