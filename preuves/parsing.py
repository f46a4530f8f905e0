"""Turning command-line text into values, with one clear French line when it cannot be done."""

from __future__ import annotations

from datetime import date

from evidence.errors import BadInput


def parse_day(text: str, what: str = "date") -> date:
    """'2026-11-27' (or '27/11/2026') → date."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{what} invalide : {text!r} (attendu AAAA-MM-JJ ou JJ/MM/AAAA)") from None
