"""Dates as the simulated pages print them (French names, no locale dependency)."""

from __future__ import annotations

from datetime import date, timedelta

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def day_name(day: date) -> str:
    """« lundi »."""
    return _DAYS[day.weekday()]


def long_date(day: date) -> str:
    """« lundi 13 mai 2024 »."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    """« lun. 13/05 », as a column heading of a week table."""
    return f"{_DAYS[day.weekday()][:3]}. {day:%d/%m}"


def next_weekdays(after: date, count: int) -> list[date]:
    """The ``count`` working days (Monday–Friday) strictly after ``after``."""
    days: list[date] = []
    day = after
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days
