"""What an attempt showed, as the dossier says it: its recorded state, except for an error of the attempt's
own connection (no name resolution, no network, a proxy down: evidence.net_errors). Such an attempt reached no
server and shows nothing of the booking site: it is said apart, never as the site's error, and the letters do
not count it among the failed attempts. The recorded state itself is unchanged."""

from __future__ import annotations

from evidence.net_errors import connection_failed

OFFLINE = "offline"


def outcome_of(state: str, http_status: int | None, error: str | None) -> str:
    if state == "error" and http_status is None and connection_failed(error):
        return OFFLINE
    return state
