"""Pages that try to push the tool where it must never go, or get in its way.

- a page whose script jumps to a slot link (a booking-completion path): the tool must block the
  request at the network layer, so it never reaches this server's log;
- a page that opens dialogs, a popup and a download: the tool dismisses, closes and refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping

from simsite.markup import BANNER
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html
from simsite.routing import Route, route


def _slot_jump(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    target = f"/booking/create/{params['id']}/5/1767600000"
    return html(f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Redirection</title></head>
<body>{BANNER}<p>Un instant…</p>
<script>setTimeout(function () {{ window.location.href = "{target}"; }}, 50);</script>
</body></html>
""")


def _interruptions(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Interruptions</title></head>
<body>{BANNER}<h2>Page pleine d'interruptions</h2>
<a id="download" href="data:application/octet-stream;base64,UHJldXZlcw==" download="fichier.bin">fichier</a>
<script>
alert("Alerte !");
confirm("Confirmer ?");
window.open("/", "_blank");
document.getElementById("download").click();
window.addEventListener("beforeunload", function (e) {{ e.preventDefault(); e.returnValue = ""; }});
</script>
</body></html>
""")


ROUTES: tuple[Route, ...] = (
    route("GET", r"/piege/saut-vers-creneau/(?P<id>\d+)", _slot_jump),
    route("GET", r"/piege/interruptions", _interruptions),
)
