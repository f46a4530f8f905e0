"""Turning command-line text into values, with one clear French line when it cannot be done."""

from __future__ import annotations

from datetime import date

from evidence.errors import BadInput

# The years a date typed by a user can be in (a birth, a letter, a permit's expiry, a plan):
# 0001-01-01 or 9999-12-31 is a slip of the keyboard, and would be printed as it is in a letter.
YEARS = range(1900, 2101)


def parse_day(text: str, what: str = "date") -> date:
    """'2026-11-27' (or '27/11/2026') → date."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text)
    except (ValueError, OverflowError):
        raise BadInput(f"{what} invalide : {text!r} (attendu AAAA-MM-JJ ou JJ/MM/AAAA)") from None
    if parsed.year not in YEARS:
        raise BadInput(f"{what} invalide : {text!r} (année entre {YEARS[0]} et {YEARS[-1]} attendue)")
    return parsed
