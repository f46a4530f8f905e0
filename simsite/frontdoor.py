"""What answers in front of the booking site, whatever the page asked for: an anti-bot service (Cloudflare), a
proxy (nginx, HAProxy), or a site-wide maintenance or error page. RDV Service Public shows its own error pages
(see ``simsite/rdvsp.py``); "hang" (no answer at all) is the server's own business.
"""

from __future__ import annotations

from collections.abc import Callable

from simsite import cloudflare, errorpages, rdvsp
from simsite.response import Response

_ANTI_BOT: dict[str, Callable[[str], Response]] = {
    "blocked": cloudflare.blocked,
    "rate_limited": cloudflare.rate_limited,
    "challenge": cloudflare.challenge,
}
_PROXIES: dict[str, Callable[[], Response]] = {
    "502": errorpages.bad_gateway,
    "503": lambda: errorpages.haproxy(503),
    "504": lambda: errorpages.haproxy(504),
}
_SITE_WIDE: dict[str, Callable[[], Response]] = {
    "maintenance": errorpages.maintenance,
    "404": errorpages.not_found,
    "500": errorpages.internal_error,
}
MODES = (*_ANTI_BOT, *_PROXIES, *_SITE_WIDE)


def answer(mode: str, path: str, host: str) -> Response | None:
    """The page sent in front of the site in ``mode`` for ``path``, or None when the site itself answers."""
    if mode in _ANTI_BOT:
        return _ANTI_BOT[mode](host)
    if mode in _PROXIES:
        return _PROXIES[mode]()
    if mode in _SITE_WIDE and not rdvsp.PATHS.match(path):
        return _SITE_WIDE[mode]()
    return None
