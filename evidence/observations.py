"""What an attempt read on the page besides its state: each fact optional, all kept with the capture.

They are evidence like the state (journaled with the capture row) and feed the dossier: the prefecture
server's clock beside ours, the counter and procedure as the site named them, where the decisive text sits in
the screenshot (so an enlarged inset can be checked against the original), the text of a JavaScript dialog,
a block page's kind and reference, the next publication of slots a platform announces.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PageObservations:
    server_date: datetime | None = None
    """The booking site's HTTP `Date` header on the result page (whole seconds, UTC)."""
    clock_skew_ms: int | None = None
    """Server minus local clock, read at the same moment; under 1000 in absolute value the clocks agree."""
    counter_label: str | None = None
    """The counter (guichet) as the site displayed it at the choice step."""
    procedure_label: str | None = None
    """The procedure (démarche) as the site displayed it."""
    decisive_box: tuple[int, int, int, int] | None = None
    """x, y, width, height in pixels of the raw screenshot, of the element holding the decisive text."""
    dialog_text: str | None = None
    """A JavaScript dialog's message (eAppointment says « no slot » only in an alert())."""
    block: str | None = None
    """"blocked" or "rate-limited" when an anti-bot service (Cloudflare) refused the page."""
    block_reference: str | None = None
    """The reference the block page gives (Cloudflare's Ray ID)."""
    next_release: datetime | None = None
    """When the platform announces the next publication of slots (RDV Préfecture)."""

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def to_record(self) -> dict[str, Any]:
        """Plain JSON values, the keys of the facts that were observed only."""
        record: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            record[name] = value
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> PageObservations:
        if not record:
            return cls()
        values = dict(record)
        for name in ("server_date", "next_release"):
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        if values.get("decisive_box") is not None:
            values["decisive_box"] = tuple(values["decisive_box"])
        return cls(**values)

    def to_json(self) -> str | None:
        """The column's text: None when nothing was observed."""
        return None if self.is_empty() else json.dumps(self.to_record(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> PageObservations:
        return cls.from_record(json.loads(text) if text else None)
