"""Hostile or broken pages: what a booking site (or something posing as one) may throw at the tool.

On the simulated site (``ROUTES``, under ``/piege/``):

- an endless chain of redirects;
- a page that shows dialogs without end (alert, confirm, prompt) and one that refuses to be left
  (``beforeunload``) on the booking module's first step;
- a download served as the page itself;
- a page that opens popups (one on the site, one off-site);
- a 50 MB page;
- a page that rewrites its own address with ``history.pushState`` to a slot link, without loading it.

Two things the site's request model cannot express get a small server of their own
(``SideServer``): a page whose body streams slowly and never ends, and a site served over HTTPS
with a self-signed certificate (``self_signed_certificate``).
"""

from __future__ import annotations

import http.server
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import TracebackType

from simsite.ezbooking import NOSLOT_TEXT
from simsite.markup import BANNER
from simsite.requestlog import LoggedRequest
from simsite.response import HTML, Response, html
from simsite.routing import Route, route

GIANT_PAGE_BYTES = 50 * 1024 * 1024
OFFSITE_URL = "http://hors-site.invalid/pistage"
"""Where the popup page tries to go: a host the tool must never contact (``.invalid`` never resolves)."""

# The no-slot result as the booking module shows it: in its own form (a quote elsewhere would be no result).
NOSLOT_RESULT = (
    f'<div id="inner_Booking"><h2>Vérification de disponibilité</h2><form id="FormBookingCreate">{NOSLOT_TEXT}'
    "</form></div>"
)


def _page(title: str, body: str, script: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body>{BANNER}{body}
<script>{script}</script>
</body></html>
"""


def _endless_redirect(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    following = int(params["n"]) + 1
    return Response(302, b"", HTML, (("Location", f"/piege/redirection-sans-fin/{following}"),))


def _endless_dialogs(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    script = """
var n = 0;
for (;;) { n += 1; alert("Alerte n° " + n); confirm("Confirmer ?"); prompt("Votre nom ?"); }
"""
    return html(_page("Dialogues sans fin", "<h2>Dialogues sans fin</h2>", script))


def _stay_on_page(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    """The booking module's first step, but the page asks « leave this page? » when the tool moves on."""
    booking_id = params["id"]
    body = f"""<h2>Prise de rendez-vous</h2>
<form id="FormBookingCreate" action="/booking/create/{booking_id}/0" method="post">
<p><input type="checkbox" name="condition" id="condition">
<label for="condition">Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer
le processus de prise de rendez-vous.</label></p>
<p><input type="submit" name="nextButton" value="Effectuer une demande de rendez-vous"></p>
</form>"""
    script = """
window.addEventListener("beforeunload", function (e) { e.preventDefault(); e.returnValue = "Quitter ?"; });
"""
    return html(_page("Prise de rendez-vous", body, script))


def _download(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    headers = (("Content-Disposition", 'attachment; filename="rendez-vous.pdf"'),)
    return Response(200, b"%PDF-1.4\n% not a real PDF\n", "application/pdf", headers)


def _popups(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    body = NOSLOT_RESULT
    script = f"""
window.open("/piege/fenetres/ouverte", "_blank");
window.open("{OFFSITE_URL}", "_blank");
"""
    return html(_page("Fenêtres surgissantes", body, script))


def _opened(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return html(_page("Fenêtre ouverte", "<h2>Une fenêtre que personne n'a demandée</h2>"))


@cache
def giant_page() -> bytes:
    """A visible page of about 50 MB of text (built once)."""
    paragraph = "<p>" + "Rendez-vous, préfecture, créneau, guichet. " * 40 + "</p>\n"
    head = _page("Page géante", "<h2>Page géante</h2>").split("<script>")[0]
    count = (GIANT_PAGE_BYTES - len(head)) // len(paragraph.encode("utf-8"))
    return (head + paragraph * count + "</body></html>\n").encode("utf-8")


def _giant(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return Response(200, giant_page(), HTML)


def _rewritten_address(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    """Shows a neutral page, then makes the address bar show a slot link that was never requested."""
    fake = f"/booking/create/{params['id']}/5/1767600000"
    script = f'history.pushState({{}}, "", "{fake}");'
    return html(_page("Adresse réécrite", "<h2>Page ordinaire</h2><p>Rien à signaler.</p>", script))


ROUTES: tuple[Route, ...] = (
    route("GET", r"/piege/redirection-sans-fin/(?P<n>\d+)", _endless_redirect),
    route("GET", r"/piege/dialogues-sans-fin", _endless_dialogs),
    route("GET", r"/piege/quitter/booking/create/(?P<id>\d+)", _stay_on_page),
    route("GET", r"/piege/telechargement", _download),
    route("GET", r"/piege/fenetres", _popups),
    route("GET", r"/piege/fenetres/ouverte", _opened),
    route("GET", r"/piege/page-geante", _giant),
    route("GET", r"/piege/adresse-reecrite/(?P<id>\d+)", _rewritten_address),
)


# ----------------------------------------------------------------------------- a server of its own


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 (made with the openssl command); returns (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=127.0.0.1/O=Prefecture simulee", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class SideServer:
    """A small server on 127.0.0.1: ``/sans-fin`` streams a page that never ends, any other path
    answers a short no-slot page. With a certificate it speaks HTTPS only.

    ``requests`` lists the paths of the HTTP requests it received (a refused TLS handshake sends none).
    """

    STREAM_PATH = "/sans-fin"
    STREAM_PERIOD_S = 0.2

    def __init__(self, certificate: tuple[Path, Path] | None = None) -> None:
        self._certificate = certificate
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[str] = []
        self._server: _SideHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the side server is not running")
        host, port = self._server.server_address[:2]
        return f"{'https' if self._certificate else 'http'}://{host}:{port}"

    @property
    def requests(self) -> list[str]:
        with self._lock:
            return list(self._requests)

    def start(self) -> SideServer:
        server = _SideHTTPServer(("127.0.0.1", 0), self)
        if self._certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._certificate)
            server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="simsite-side", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SideServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _record(self, path: str) -> None:
        with self._lock:
            self._requests.append(path)


class _SideHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: SideServer) -> None:
        self.owner = owner
        super().__init__(address, _SideHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup of the host name
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away or refused the certificate is no error of ours."""


class _SideHandler(http.server.BaseHTTPRequestHandler):
    server: _SideHTTPServer
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes: no length announced

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""

    def do_GET(self) -> None:
        owner = self.server.owner
        owner._record(self.path)
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Cache-Control", "no-store")
        if self.path != SideServer.STREAM_PATH:
            body = _page("Vérification de disponibilité", NOSLOT_RESULT)
            self.send_header("Content-Length", str(len(body.encode("utf-8"))))
            self.end_headers()
            self.wfile.write(body.encode("utf-8"))
            return
        self.end_headers()
        self.wfile.write(
            f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Chargement</title></head>'
            f"<body>{BANNER}<h2>Chargement sans fin</h2>\n".encode()
        )
        line = 0
        while not owner._stopping.wait(SideServer.STREAM_PERIOD_S):
            line += 1
            try:
                self.wfile.write(f"<p>ligne {line}</p>\n".encode())
                self.wfile.flush()
            except OSError:
                return  # the browser gave up
