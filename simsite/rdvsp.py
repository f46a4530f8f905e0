"""A generic RDV Service Public page (``rdv.anct.gouv.fr``, used by some prefectures for récépissé renewals).

Only its no-slot sentence is known from real sources; the rest is a plain stand-in. Any ``/rdvsp/...`` path (and
``/prendre_rdv``, the real site's search path) is a search-result page. Slot links lead, as on the real site, to
the booking wizard (``/rdvsp/users/rdv_wizard_step1``), a completion step. In "captcha" mode the result page is
replaced by a reCAPTCHA gate; "slots_later_week" shows slots two weeks ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

from simsite import errorpages
from simsite.frenchdates import long_date, next_weekdays
from simsite.markup import BANNER, esc, esc_text, recaptcha_widget
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route

NOSLOT_TEXT = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
WIZARD_PATH = "/rdvsp/users/rdv_wizard_step1"

_STYLE = """
body{margin:0;font:15px Arial,sans-serif;color:#1e1e1e;background:#f6f6f6}
.navbar{background:#fff;border-bottom:1px solid #ddd;padding:14px 32px;font-weight:bold;font-size:18px}
.container{max-width:820px;margin:24px auto;background:#fff;padding:24px 32px;border:1px solid #e3e3e3}
.alert{background:#fff4e5;border:1px solid #f0c36d;padding:12px 16px}
.slot{display:inline-block;border:1px solid #0056b3;color:#0056b3;padding:4px 10px;margin:4px;text-decoration:none}
footer{text-align:center;font-size:12px;color:#666;padding:16px}
"""


def _page(content: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>RDV Service Public</title><style>{_STYLE}</style></head>
<body>
{BANNER}
<nav class="navbar">RDV Service Public</nav>
<div class="container">
  <h1>Prendre rendez-vous</h1>
  <p>Motif : <strong>Renouvellement de récépissé</strong> — Préfecture</p>
{content}
</div>
<footer>Agence nationale de la cohésion des territoires</footer>
</body>
</html>
"""


def _slot_list(days_ahead: int) -> str:
    today = datetime.now(UTC).date()
    days = next_weekdays(today + timedelta(days=days_ahead), 2)
    blocks = []
    for day in days:
        links = " ".join(
            f'<a class="slot" href="{WIZARD_PATH}?starts_at={quote(datetime.combine(day, hour).isoformat())}">'
            f"{hour:%H:%M}</a>"
            for hour in (time(9, 0), time(9, 40), time(14, 20))
        )
        blocks.append(f"  <h3>{esc_text(long_date(day))}</h3>\n  <p>{links}</p>")
    return "\n".join(blocks)


def _search(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    if mode == "overload":
        return errorpages.overload()
    if mode == "captcha":
        content = f"""  <form method="post" action="{esc(request.path)}">
    <p>Veuillez confirmer que vous n'êtes pas un robot.</p>
    {recaptcha_widget()}
    <button type="submit">Continuer</button>
  </form>"""
    elif mode == "slots":
        content = _slot_list(days_ahead=0)
    elif mode == "slots_later_week":
        content = _slot_list(days_ahead=14)
    else:
        content = f'  <div class="alert"><p>{NOSLOT_TEXT}</p></div>'
    return html(_page(content))


def _wizard(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(_page("  <p>Connectez-vous pour confirmer ce rendez-vous.</p>"))


ROUTES: tuple[Route, ...] = (
    route("GET", r"/rdvsp/users/rdv_wizard_step\d*/?", _wizard),
    route("POST", r"/rdvsp/users/rdvs/?", _wizard),
    route("GET", r"/rdvsp(/.*)?", _search),
    route("POST", r"/rdvsp(/.*)?", _search),
    route("GET", r"/prendre_rdv/?", _search),
)
