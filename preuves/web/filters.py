"""Jinja filters of the dashboard: French dates, state labels, short hashes."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from capture.states import State
from evidence.artefact_kinds import artefact_label
from evidence.localtime import PARIS, paris_time
from evidence.net_errors import address_beyond


def state_label(value: str) -> str:
    try:
        return State(value).label
    except ValueError:
        return value


def paris_short(moment: datetime | str | None) -> str:
    """'27/11/2026 09:35', Europe/Paris; takes an ISO string too (as `case_status` gives)."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{moment.astimezone(PARIS):%d/%m/%Y %H:%M}"


def day(value: date | None) -> str:
    return "—" if value is None else f"{value:%d/%m/%Y}"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        state_label=state_label,
        paris_time=lambda moment: "—" if moment is None else paris_time(moment),
        paris_short=paris_short,
        day=day,
        short_hash=lambda sha256: sha256[:12],
        artefact_kind=artefact_label,
        address_beyond=address_beyond,
    )
