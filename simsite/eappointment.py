"""The Val-de-Marne eAppointment site (``/eAppointmentpref94/…``), used until its move to RDV Préfecture.

What public bots tell of it: a motive step with checkboxes ``selectedMotiveKeyList`` and a button
``#nextButtonId`` « Continuer »; the site then asks its server (a DWR call) and, when nothing is free, says so
only in a JavaScript ``alert()`` — « Aucun rendez-vous n'est possible pour les motifs selectionnnés ou le créneau
horaire séléctionné. » (the site's spelling) —, otherwise it shows step 3, a calendar whose free days are links
(``a.ui-state-default``). The postal-code step that comes first on the real site is left out (the tool never
types). Texts marked « simulated » have no known real wording.

By mode: the "slots…" modes answer that days are free, "overload" shows the « Service surchargé » page, every
other mode answers with the no-slot dialog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from simsite import errorpages
from simsite.frenchdates import next_weekdays
from simsite.markup import BANNER, esc_text
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route

PAGE_PATH = "/eAppointmentpref94/element/jsp/specific/pref94.jsp"
AVAILABILITY_PATH = "/eAppointmentpref94/dwr/call/plaincall/AjaxSelectionFormFeeder.getDisponibilites.dwr"
NOSLOT_DIALOG = "Aucun rendez-vous n'est possible pour les motifs selectionnnés ou le créneau horaire séléctionné."
NO_MOTIVE_DIALOG = "Veuillez sélectionner au moins un motif."  # simulated
MOTIVES: tuple[tuple[str, str], ...] = (
    ("1", "Retrait de titres ( Après réception du SMS )"),
    ("2", "Dépôt de demande de titre de séjour"),
)

_STYLE = """
body{margin:0;font:14px Arial,sans-serif;color:#222;background:#f2f2f2}
#page{width:900px;margin:0 auto;background:#fff;padding:20px 30px;min-height:500px}
h1{font-size:22px;color:#1f3f7a}h3{color:#1f3f7a}fieldset{border:1px solid #ccc;margin:12px 0;padding:8px 16px}
.btn{background:#1f3f7a;color:#fff;border:0;padding:6px 14px;margin:8px 4px 0 0}
.ui-datepicker-calendar td{padding:4px 8px;text-align:center}.ui-state-disabled{color:#bbb}
"""


def _page(step_title: str, content: str, script: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Préfecture du Val-de-Marne - Prise de rendez-vous</title>
<style>{_STYLE}</style></head>
<body>{BANNER}
<div id="page"><h1>Préfecture du Val-de-Marne</h1>
<h3>{esc_text(step_title)}</h3>
{content}
</div>
<script>{script}</script>
</body></html>
"""


_MOTIVE_SCRIPT = f"""
document.getElementById("nextButtonId").addEventListener("click", function () {{
  var chosen = Array.prototype.map.call(
    document.querySelectorAll('input[name="selectedMotiveKeyList"]:checked'), function (box) {{ return box.value; }});
  if (!chosen.length) {{ alert({json.dumps(NO_MOTIVE_DIALOG)}); return; }}
  fetch("{AVAILABILITY_PATH}", {{method: "POST", headers: {{"Content-Type": "text/plain"}},
                                   body: "callCount=1\\nc0-param0=" + chosen.join(",")}})
    .then(function (answer) {{ return answer.text(); }})
    .then(function (reply) {{
      if (reply.indexOf('"disponible":true') >= 0) {{ window.location.href = "{PAGE_PATH}?etape=3"; }}
      else {{ alert({json.dumps(NOSLOT_DIALOG)}); }}
    }});
}});
"""


def _motives() -> str:
    boxes = "\n".join(
        f'<p><input type="checkbox" name="selectedMotiveKeyList" id="motive{key}" value="{key}">'
        f'<label for="motive{key}">{esc_text(label)}</label></p>'
        for key, label in MOTIVES
    )
    return f"""<form id="form1" method="post" action="{PAGE_PATH}">
<fieldset><legend>Veuillez sélectionner le ou les motifs de votre rendez-vous.</legend>
{boxes}
</fieldset>
<input type="button" class="btn btn-primary" value="Retour"> <input type="button" id="nextButtonId" class="btn btn-primary" value="Continuer">
</form>"""


def _calendar() -> str:
    """Step 3: a month whose next working days are free (links), the others not."""
    today = datetime.now(UTC).date()
    free = next_weekdays(today, 3)
    cells = "".join(
        f'<td><a class="ui-state-default" href="#">{day.day}</a></td>' if day in free[1:] else
        f'<td class="ui-datepicker-unselectable ui-state-disabled"><span class="ui-state-default">{day.day}</span></td>'
        for day in free
    )
    return f"""<p>Veuillez sélectionner la date puis l'heure souhaitée.</p>
<div class="ui-datepicker"><table class="ui-datepicker-calendar"><tr>{cells}</tr></table></div>
<input type="button" class="btn btn-primary" value="Retour">"""


def _motive_page(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    if mode == "overload":
        return errorpages.overload()
    if request.query.get("etape") == "3":
        return html(_page("3/4 : Lieu, date et heure", _calendar()))
    return html(_page("2/4 : Choix du motif", _motives(), _MOTIVE_SCRIPT))


def _availability(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    answer = json.dumps({"disponible": mode.startswith("slots")}, separators=(",", ":"))
    return Response(200, f"//#DWR-INSERT\n//#DWR-REPLY\ndwr.engine._remoteHandleCallback('1','0',{answer});\n".encode(),
                    "text/javascript; charset=utf-8")


ROUTES: tuple[Route, ...] = (
    route("GET", re.escape(PAGE_PATH), _motive_page),
    route("POST", re.escape(AVAILABILITY_PATH), _availability),
)
