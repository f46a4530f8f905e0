"""The days a prefecture works: Monday to Friday, except French public holidays.

The holidays come from the maintained `holidays` library. Alsace-Moselle (Bas-Rhin, Haut-Rhin,
Moselle) keeps two more under its local law, Good Friday and 26 December; a prefecture is taken to be
there when its booking host or the case's prefecture names one of these départements or its chef-lieu.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import urlsplit

import holidays

# The `holidays` subdivision codes of Alsace ("6AE": Bas-Rhin and Haut-Rhin) and Moselle ("57").
_LOCAL_LAW = (
    ("6AE", re.compile(r"\b(?:bas|haut)[- ]rhin\b|\bstrasbourg\b|\bcolmar\b")),
    # Not Meurthe-et-Moselle (54), which is under general law.
    ("57", re.compile(r"(?<!et-)(?<!et )\bmoselle\b|\bmetz\b")),
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def local_law_subdivision(url: str, prefecture: str | None) -> str | None:
    """The `holidays` subdivision of Alsace-Moselle the prefecture is in, or None (general law)."""
    where = _plain(f"{urlsplit(url).hostname or ''} {prefecture or ''}").replace(".", " ")
    return next((code for code, names in _LOCAL_LAW if names.search(where)), None)


def public_holidays(first: date, last: date, subdivision: str | None = None) -> dict[date, str]:
    """French public holidays from `first` to `last` (inclusive), with their French names."""
    calendar = holidays.France(years=range(first.year, last.year + 1), subdiv=subdivision, language="fr")
    return {day: name for day, name in sorted(calendar.items()) if first <= day <= last}


def is_working_day(day: date, closed: dict[date, str] | frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in closed
