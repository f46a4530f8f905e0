"""Times as French courts read them: Europe/Paris, with the UTC offset written out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utc_offset_text(moment: datetime) -> str:
    """'UTC+01:00' in winter, 'UTC+02:00' in summer."""
    offset = moment.astimezone(PARIS).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def paris_time(moment: datetime) -> str:
    """'27/11/2026 09:35:12 (UTC+01:00)'."""
    return f"{moment.astimezone(PARIS):%d/%m/%Y %H:%M:%S} ({utc_offset_text(moment)})"
