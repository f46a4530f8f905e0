"""Error pages, as real servers send them (plus the simulated-site banner)."""

from __future__ import annotations

from simsite.markup import BANNER
from simsite.response import Response, html

# Body of the real page saved from https://www.val-doise.gouv.fr/booking/create/11343/1 (medsadok07/prefecture-bot
# 1.htm, see tests/fixtures/): only the « saved from » comment is dropped and the banner added.
OVERLOAD_PAGE = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>
<body>{BANNER}<h1>Service surchargé</h1>
Le service que vous avez demandé est actuellement surchargé et/ou il n'y plus de créneaux de rendez-vous disponibles pour le moment.
<br>
Veuillez réitérer votre demande ultérieurement.



</body></html>"""


def _nginx_page(status_line: str) -> str:
    return f"""<html>
<head><title>{status_line}</title></head>
<body>
{BANNER}
<center><h1>{status_line}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def overload() -> Response:
    return html(OVERLOAD_PAGE)


def bad_gateway() -> Response:
    return html(_nginx_page("502 Bad Gateway"), status=502)


def not_found() -> Response:
    return html(_nginx_page("404 Not Found"), status=404)


# HAProxy's built-in error pages (the body HAProxy sends, plus the banner).
_HAPROXY = {
    503: ("503 Service Unavailable", "No server is available to handle this request."),
    504: ("504 Gateway Time-out", "The server didn't respond in time."),
}


def haproxy(status: int) -> Response:
    heading, sentence = _HAPROXY[status]
    return html(f"<html><body>{BANNER}<h1>{heading}</h1>\n{sentence}\n</body></html>\n", status=status)


def internal_error() -> Response:
    return html(_nginx_page("500 Internal Server Error"), status=500)


def maintenance() -> Response:
    """A prefecture site's maintenance notice (simulated wording)."""
    return html(f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Site indisponible</title></head>
<body>{BANNER}<h1>Site indisponible</h1>
<p>Le site est en maintenance. Merci de revenir plus tard.</p>
</body></html>
""", status=503)
