"""RDV Service Public (``rdv.anct.gouv.fr``, used by some prefectures for récépissé renewals).

The pages follow the platform's public templates (betagouv/rdv-service-public, ``app/views/search/*``,
``errors/*``, ``public/maintenance.html``) as rebuilt in the shared samples (tests/fixtures/real_pages/
rdv-service-public/): same texts, same classes. The search is served at the real path, ``/prendre_rdv``, and
under ``/rdvsp/...``.

``/prendre_rdv`` without any parameter is the start page (« Comment ça marche ? »: « créneau » only in its help
steps). By mode: "noslot" (and any mode without slots) the search result without slot — worded for an invitation when
the address carries an ``invitation_token``; "slots" the place choice with each place's next availability, or,
for an address with a ``lieu_id``, the week of slots, whose links lead to the booking wizard
(``/users/rdv_wizard_step/new``, a completion step); "slots_later_week" an empty week with the « Prochaine
disponibilité le … » button; "captcha" a reCAPTCHA gate; "maintenance", "404" and "500" the platform's own pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from urllib.parse import quote

from simsite import errorpages
from simsite.frenchdates import day_name, long_date, next_weekdays
from simsite.markup import BANNER, esc, esc_text, recaptcha_widget
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route

NOSLOT_TEXT = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
NOSLOT_INVITATION_TEXT = "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé."
NEXT_AVAILABILITY_TEXT = "Prochaine disponibilité le"
MOTIF = "Renouvellement de récépissés arrivés à échéance (Sur place)"
WIZARD_PATH = "/users/rdv_wizard_step/new"
PATHS = re.compile(r"^/(?:rdvsp(?:/|$)|prendre_rdv(?:/|$)|users/)")
"""The paths this platform answers (its own error pages included)."""

_PLACES = (("1", "Préfecture — accueil des étrangers"), ("2", "Sous-préfecture"))
_TIMES = (time(9, 0), time(9, 40), time(14, 20))

_STYLE = """
body{margin:0;font:15px Marianne,Arial,sans-serif;color:#1e1e1e;background:#f6f6f6}
.fr-header{background:#fff;border-bottom:1px solid #ddd;padding:14px 32px;font-weight:bold;font-size:18px}
.rdv-background-color-flat-blue-ecume{background:#465f9d;color:#fff;padding:16px 32px}
.fr-container{max-width:900px;margin:0 auto}
.rdv-background-color-alt-grey{padding:24px 32px}
.card{background:#fff;border:1px solid #e3e3e3;margin:0 0 12px}.card-body{padding:14px 18px}
.rdv-font-weight-700{font-weight:700}.row{display:flex;gap:12px;flex-wrap:wrap}.col{flex:1}
.btn{display:inline-block;border:1px solid #0056b3;color:#0056b3;padding:4px 10px;margin:4px;text-decoration:none}
.bg-overlay{background:rgba(255,255,255,.85);padding:12px;text-align:center}
.fr-footer{text-align:center;font-size:12px;color:#666;padding:16px}
"""


def _frame(main: str, title: str = "RDV Service Public") -> str:
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>{esc_text(title)}</title><style>{_STYLE}</style></head>
<body>
{BANNER}
<header role="banner" class="fr-header"><p class="fr-logo">RDV Service Public</p></header>
<main>
{main}
</main>
<footer class="fr-footer main-footer">Agence nationale de la cohésion des territoires</footer>
</body>
</html>
"""


def _search(result: str) -> str:
    """The search page of the prefecture's public link: its motif card, then ``result``."""
    return _frame(f"""<section class="py-2 rdv-background-color-flat-blue-ecume"><div class="fr-container"><h1 class="mb-3">
<span>Prenez rendez-vous avec</span> <span>la préfecture (site simulé)</span></h1></div></section>
<section class="rdv-background-color-alt-grey py-4"><div class="fr-container">
<div class="card card-hoverable"><div class="card-body"><a class="d-block stretched-link" href="/prendre_rdv">
<h2 class="pb-1 mb-1">{MOTIF}</h2>Service des étrangers</a></div></div>
{result}
</div></section>""")


def _noslot(invitation: bool) -> str:
    if not invitation:
        return f'<div class="card"><div class="card-body"><div class="rdv-font-weight-700">{NOSLOT_TEXT}</div></div></div>'
    return f"""<div class="card"><div class="card-body">
<div class="rdv-font-weight-700">{NOSLOT_INVITATION_TEXT}</div>
<div class="rdv-font-weight-700 mb-2">Toutes nos excuses pour cela.</div>
<p>Vous pouvez contacter l'organisation pour demander l'ouverture de créneaux.</p>
</div></div>"""


def _next_availability(day: date, hour: time, href: str) -> str:
    return (f'<a class="btn btn-light" href="{esc(href)}"><div>{NEXT_AVAILABILITY_TEXT}<br>'
            f"<strong>{esc_text(long_date(day))} à {hour:%Hh%M}</strong></div></a>")


def _places(today: date) -> str:
    """The place choice: each place with its next availability (so slots exist)."""
    cards = "\n".join(
        f"""<div class="card mb-3 card-hoverable"><div class="card-body"><div class="row">
<div class="col-md"><h4 class="card-title">{esc_text(name)}</h4></div>
<div class="col-md">{_next_availability(next_weekdays(today, 3 * index)[-1], _TIMES[0], f"/prendre_rdv?lieu_id={place}")}</div>
</div></div></div>"""
        for index, (place, name) in enumerate(_PLACES, start=1)
    )
    return f'<h3 class="rdv-font-weight-700">Sélectionnez un lieu de RDV :</h3>\n<p>{len(_PLACES)} lieux sont disponibles</p>\n{cards}'


def _week(today: date, with_slots: bool) -> str:
    """The week of a place: a column per working day, links to the wizard for each free time."""
    days = next_weekdays(today, 5)
    columns = []
    for day in days:
        links = "".join(
            f'<a class="btn btn-light" aria-label="Choisir le créneau de {hour:%H:%M}" '
            f'href="{WIZARD_PATH}?starts_at={quote(datetime.combine(day, hour).isoformat())}">{hour:%H:%M}</a>'
            for hour in _TIMES
        ) if with_slots and day in days[1:3] else '<p><i class="fa fa-minus"></i></p>'
        columns.append(f'<div class="col"><p><strong>{day_name(day)}</strong><br>{day:%d/%m}</p>{links}</div>')
    overlay = "" if with_slots else (
        f'<div class="bg-overlay">{_next_availability(next_weekdays(today, 15)[-1], _TIMES[0], "/prendre_rdv?date=later")}</div>'
    )
    return f"""<h3 class="rdv-font-weight-700">Sélectionnez un créneau&nbsp;:</h3>
<div class="card mb-3"><div class="card-body"><div id="creneaux-lieu-1"><div class="row">{"".join(columns)}</div>{overlay}</div></div></div>"""


def _error_page(heading: str, code: str, sentence: str) -> str:
    return _frame(f"""<section class="rdv-background-color-alt-grey py-4"><div class="fr-container">
<h1>{heading}</h1>
<p>{code}</p>
<p>{sentence}</p>
</div></section>""", heading)


def maintenance() -> Response:
    return html(_frame("""<div class="fr-container"><h1 class="fr-h1">Service indisponible</h1>
<p class="fr-text--lead">RDV Service Public rencontre un problème, nous travaillons pour le résoudre le plus rapidement possible.</p>
<p>Merci de réessayer plus tard, vous serez bientôt en mesure de réutiliser le service.</p></div>""",
                       "Service Indisponible - RDV Service Public"), status=503)


def not_found() -> Response:
    return html(_error_page("Page introuvable", "Erreur 404",
                            "La page que vous cherchez est introuvable. Veuillez nous excuser pour la gêne occasionnée."),
                status=404)


def internal_error() -> Response:
    return html(_error_page("Erreur inattendue", "Erreur 500",
                            "Désolé, une erreur s'est produite. Notre équipe technique en a été avertie automatiquement."),
                status=500)


ERROR_PAGES = {"maintenance": maintenance, "404": not_found, "500": internal_error}


def _start_page() -> str:
    steps = "".join(
        f'<div class="fr-col-12 fr-col-lg-3"><span class="rdv-color-text-action-high-blue-ecume">{step}</span></div>'
        for step in ("Choisir votre adresse", "Choisir un service", "Choisir un motif", "Choisir un créneau")
    )
    return _frame(f"""<section class="rdv-background-color-alt-grey py-4"><div class="fr-container">
<h2 class="rdv-text-align-center">Comment ça marche ?</h2>
<div class="fr-grid-row fr-grid-row--gutters mt-5">{steps}</div>
</div></section>""")


def _search_page(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    if mode == "overload":
        return errorpages.overload()
    if mode in ERROR_PAGES:
        return ERROR_PAGES[mode]()
    if request.path.startswith("/prendre_rdv") and not request.query:
        return html(_start_page())
    today = datetime.now(UTC).date()
    if mode == "captcha":
        result = f"""<form method="post" action="{esc(request.path)}">
<p>Veuillez confirmer que vous n'êtes pas un robot.</p>
{recaptcha_widget()}
<button type="submit">Continuer</button>
</form>"""
    elif mode.startswith("slots") and mode != "slots_later_week":
        result = _week(today, with_slots=True) if "lieu_id" in request.query else _places(today)
    elif mode == "slots_later_week":
        result = _week(today, with_slots=False)
    else:
        result = _noslot(invitation="invitation_token" in request.query)
    return html(_search(result))


def _wizard(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(_frame("<p>Connectez-vous pour confirmer ce rendez-vous.</p>"))


ROUTES: tuple[Route, ...] = (
    route("GET", r"/(?:rdvsp/)?users/rdv_wizard_step[^/]*(?:/new)?/?", _wizard),
    route("POST", r"/(?:rdvsp/)?users/rdvs/?", _wizard),
    route("GET", r"/rdvsp(/.*)?", _search_page),
    route("POST", r"/rdvsp(/.*)?", _search_page),
    route("GET", r"/prendre_rdv/?", _search_page),
)
