"""Local simulated prefecture booking site, used by the test suite and by the demo.

It reproduces, with their real strings and markup, the pages the tool observes: the classic prefecture booking
module (``/booking/create/<id>/<step>``), RDV Préfecture (``/rdvpref/...``), RDV Service Public (``/prendre_rdv``
and ``/rdvsp/...``), the Val-de-Marne eAppointment (``/eAppointmentpref94/...``), and what may stand in front of
any of them: Cloudflare's block, rate-limit and challenge pages, proxies' error pages.
Every page carries a visible « site simulé » banner so that a demo capture can never pass for a real one.
"""

from simsite.requestlog import (
    COMPLETION_PATH_PATTERNS,
    NON_TEXT_FIELD_NAMES,
    LoggedRequest,
    TextFieldSubmission,
    is_completion_path,
)
from simsite.server import CONTROL_PREFIX, MODES, SimulatedSite, UnknownModeError

__all__ = [
    "COMPLETION_PATH_PATTERNS",
    "CONTROL_PREFIX",
    "MODES",
    "NON_TEXT_FIELD_NAMES",
    "LoggedRequest",
    "SimulatedSite",
    "TextFieldSubmission",
    "UnknownModeError",
    "is_completion_path",
]
