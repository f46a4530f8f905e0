"""What the simulated site records about each request, and which requests a safe client must never make.

The tool may only walk the harmless first steps of a booking flow. Everything past them (choosing a slot,
answering a captcha, giving personal details, confirming) is a *completion* request: the site still answers
it, so that a faulty client is caught by the tests instead of failing silently, and flags it in the log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

COMPLETION_PATH_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Classic module: /5/<ts> slot choice, /6 captcha, /7, /8 personal details, /9 validation.
    re.compile(r"^/booking/create/[^/]+/[5-9](/|$)"),
    # Classic module: the image/audio captcha served through eZ's AJAX gateway.
    re.compile(r"bookingserver::captcha"),
    # RDV Préfecture: submitting the CaptchEtat code.
    re.compile(r"_validerCaptcha"),
    # RDV Préfecture: personal details and confirmation of a chosen slot.
    re.compile(r"^/rdvpref/reservation/demarche/[^/]+/(informations|confirmation)(/|$)"),
    # RDV Service Public: the booking wizard behind a slot link, and the creation of the appointment.
    re.compile(r"rdv_wizard_step"),
    re.compile(r"/users/rdvs(/|$)"),
)
"""Patterns matched (``re.search``) against the percent-decoded request path."""

NON_TEXT_FIELD_NAMES: frozenset[str] = frozenset(
    {
        "condition",  # classic step 0 checkbox
        "nextButton",  # classic submit buttons
        "manageButton",  # classic step 0 « Annuler, consulter et gérer… » button
        "finishButton",  # classic « Terminer »
        "planning",  # classic counter radio
        "trhId",  # rdvpref slot radio
        "captchaId",  # rdvpref hidden field of the captcha widget
        "selectedMotiveKeyList",  # eAppointment motive checkboxes
    }
)
"""Names of the checkbox, radio, hidden and submit fields of the simulated forms.

Any other submitted field counts as a text field (captcha answer, personal details, search box…): unknown names
are treated as text on purpose, so that a new kind of typing cannot slip through unnoticed.
"""


def is_completion_path(path: str) -> bool:
    """Whether ``path`` (as sent, possibly percent-encoded, without query) is a booking-completion step."""
    decoded = unquote(path)
    return any(pattern.search(decoded) for pattern in COMPLETION_PATH_PATTERNS)


class TextFieldSubmission(NamedTuple):
    """One text field found in a submitted form."""

    path: str
    name: str
    value: str


@dataclass(frozen=True)
class LoggedRequest:
    """One request received by the simulated site (control endpoints excluded).

    ``query`` and ``form`` keep the last value of a repeated name; ``form`` holds the fields of an urlencoded or
    multipart body (empty for other bodies); ``headers`` are the request headers as received.
    """

    time: datetime  # timezone-aware, UTC, taken when the request line was read
    method: str
    path: str  # as sent, without the query string
    query: Mapping[str, str] = field(hash=False)
    form: Mapping[str, str] = field(hash=False)
    client: str  # "host:port" of the peer
    headers: Mapping[str, str] = field(hash=False)

    @property
    def is_completion(self) -> bool:
        return is_completion_path(self.path)

    def text_fields(self) -> list[TextFieldSubmission]:
        return [
            TextFieldSubmission(self.path, name, value)
            for name, value in self.form.items()
            if name not in NON_TEXT_FIELD_NAMES
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "form": dict(self.form),
            "client": self.client,
            "headers": dict(self.headers),
            "completion": self.is_completion,
            "text_fields": [name for _, name, _ in self.text_fields()],
        }
