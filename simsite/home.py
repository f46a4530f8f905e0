"""The site's index page: links to each simulated flow, handy when the site runs standalone."""

from __future__ import annotations

from collections.abc import Mapping

from simsite.markup import BANNER, esc_text
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route

ENTRY_POINTS: tuple[tuple[str, str], ...] = (
    ("/booking/create/11343", "Module de réservation classique des préfectures (conditions, guichet, résultat)"),
    ("/rdvpref/reservation/demarche/3720/cgu/", "RDV Préfecture : code de sécurité (CaptchEtat)"),
    ("/rdvpref/reservation/demarche/3720/creneau/", "RDV Préfecture : choix du créneau"),
    ("/prendre_rdv?public_link_organisation_id=2458", "RDV Service Public : recherche de créneau"),
    ("/prendre_rdv?public_link_organisation_id=2458&lieu_id=1", "RDV Service Public : semaine d'un lieu"),
    ("/eAppointmentpref94/element/jsp/specific/pref94.jsp", "eAppointment (Val-de-Marne) : choix du motif"),
)


def _home(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    links = "\n".join(
        f'<li><a href="{path}">{esc_text(label)}</a> — <code>{path}</code></li>' for path, label in ENTRY_POINTS
    )
    return html(f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Site simulé de prise de rendez-vous</title></head>
<body style="font:15px Arial,sans-serif">
{BANNER}
<h1>Site simulé de prise de rendez-vous en préfecture</h1>
<p>Mode actuel : <strong>{esc_text(mode)}</strong></p>
<ul>
{links}
</ul>
</body></html>
""")


ROUTES: tuple[Route, ...] = (route("GET", r"/", _home),)
