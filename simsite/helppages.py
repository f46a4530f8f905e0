"""Help pages that quote the platforms' no-slot sentences to explain them, as official sites do (REFERENCE.md §4).

A quote is never a booking result: the tool must call these pages « indéterminé ». One is a prefecture's
« Foire aux questions » (its sentences in an article), the other a help page on the RDV Préfecture host (the
sentences even sit in the component's own ``q-pa-md`` boxes: only the address tells it is no slot page).
"""

from __future__ import annotations

from collections.abc import Mapping

from simsite.markup import BANNER
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route

FAQ_PATH = "/Demarches/Foire-aux-questions"
RDVPREF_HELP_PATH = "/rdvpref/aide/"


def _page(title: str, article: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font:15px Arial,sans-serif">
{BANNER}
<header><p>Les services de l'État (site simulé)</p><nav><a href="/">Accueil</a> &gt; Foire aux questions</nav></header>
<main id="main"><article class="faq">
{article}
</article></main>
</body></html>
"""


def _faq(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(_page("Foire aux questions", """<h1>Foire aux questions : prendre rendez-vous</h1>
<h2>Le site affiche « Vérification de disponibilité ». Que faire ?</h2>
<p>Si le message « Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer
ultérieurement. » s'affiche, tous les rendez-vous proposés sont pris. De nouveaux créneaux sont ouverts chaque
semaine.</p>
<div class="card"><div class="card-body"><p>Sur RDV Service Public, « Malheureusement, aucun créneau correspondant à
votre recherche n'a été trouvé. » signifie que le motif choisi n'a plus de créneau.</p></div></div>"""))


def _rdvpref_help(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(_page("RDV Préfecture - Aide", """<h1>Aide : les messages de la page des créneaux</h1>
<div class="text-center q-pa-md">« Aucun créneau disponible à partir de cette date. Veuillez réessayer
ultérieurement. » : tous les créneaux publiés sont réservés.</div>
<div class="text-center q-pa-md">« Aucun créneau disponible sur cette semaine » : la semaine affichée est
complète.</div>"""))


ROUTES: tuple[Route, ...] = (
    route("GET", FAQ_PATH, _faq),
    route("GET", RDVPREF_HELP_PATH, _rdvpref_help),
)
