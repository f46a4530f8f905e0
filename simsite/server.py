"""The HTTP server of the simulated booking site: modes, request log and control endpoints.

Standard library only (``http.server.ThreadingHTTPServer``), so that the demo can run it from an installed wheel.
Each request is handled in its own daemon thread; a request in "hang" mode waits until :meth:`SimulatedSite.stop`
without holding up other requests or the shutdown.
"""

from __future__ import annotations

import socketserver
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from urllib.parse import parse_qsl, unquote, urlsplit

from simsite import (
    eappointment,
    errorpages,
    ezbooking,
    frontdoor,
    helppages,
    home,
    hostile,
    rdvpref,
    rdvsp,
    routing,
    traps,
)
from simsite.requestlog import LoggedRequest, TextFieldSubmission
from simsite.response import Response, json_response

MODES: tuple[str, ...] = (
    "noslot", "noslot_week", "noslot_unpublished", "slots", "slots_mobile", "slots_later_week", "captcha",
    "overload", *frontdoor.MODES, "hang",
)
"""What the booking pages show. Each platform's own pages (a platform shows its nearest page for a mode it lacks,
see its module): "noslot" no slot — RDV Préfecture has two more ways to say it, "noslot_week" an empty week and
"noslot_unpublished" nothing published yet, with the next publication —, "slots" slots this week,
"slots_mobile" on a phone's layout, "slots_later_week" in a later week only, "captcha" a captcha gate,
"overload" the « Service surchargé » page. In front of every page: Cloudflare's block, rate limit and challenge
("blocked", "rate_limited", "challenge"), a proxy's error ("502", "503", "504"), a site-wide page
("maintenance", "404", "500"; RDV Service Public's own on its paths); or no answer at all ("hang")."""

CONTROL_PREFIX = "/__sim/"
"""Paths under this prefix drive the site from another process; they are not logged and ignore the mode."""

_ROUTES = (
    home.ROUTES + helppages.ROUTES + ezbooking.ROUTES + rdvpref.ROUTES + rdvsp.ROUTES + eappointment.ROUTES
    + traps.ROUTES + hostile.ROUTES
)


class UnknownModeError(ValueError):
    """The requested mode is not one of MODES."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        self.mode = mode


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UnknownModeError(mode)
    return mode


class SimulatedSite:
    """The simulated site, served on ``host:port`` (port 0 = any free port) from a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``mode`` can be changed at any time, from
    any thread, or from another process with ``POST /__sim/mode`` (``mode=slots``).
    """

    def __init__(
        self,
        mode: str = "noslot",
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: Callable[[LoggedRequest], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._mode = _check_mode(mode)
        # What the `Date` header says: a demo on a simulated clock gives the site the same clock.
        self.clock = clock
        self._host = host
        self._port = port
        self._on_request = on_request
        self._lock = threading.Lock()
        self._requests: list[LoggedRequest] = []
        self._stopping = threading.Event()
        self._server: _SiteServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        _check_mode(mode)
        with self._lock:
            self._mode = mode

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running (or last run) server."""
        if self._base_url is None:
            raise RuntimeError("the simulated site has not been started")
        return self._base_url

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._requests)

    def completion_requests(self) -> list[LoggedRequest]:
        """Logged requests to a booking-completion path (see ``COMPLETION_PATH_PATTERNS``)."""
        return [request for request in self.requests if request.is_completion]

    def submitted_text_fields(self) -> list[TextFieldSubmission]:
        """Every submitted form field that is not a known checkbox, radio, hidden or submit field."""
        return [field for request in self.requests for field in request.text_fields()]

    def start(self) -> SimulatedSite:
        if self._server is not None:
            raise RuntimeError("the simulated site is already running")
        self._stopping.clear()
        server = _SiteServer((self._host, self._port), self)
        host, port = server.server_address[:2]
        self._base_url = f"http://{host}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"simsite:{port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release hanging requests; returns quickly even in "hang" mode. Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SimulatedSite:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _record(self, request: LoggedRequest) -> None:
        with self._lock:
            self._requests.append(request)
        if self._on_request is not None:
            self._on_request(request)

    def _wait_for_stop(self) -> None:
        self._stopping.wait()

    def _control(self, method: str, path: str, form: Mapping[str, str], query: Mapping[str, str]) -> Response:
        if path == CONTROL_PREFIX + "mode" and method == "POST":
            requested = form.get("mode", query.get("mode", ""))
            try:
                self.mode = requested
            except UnknownModeError as error:
                return json_response({"error": str(error), "modes": list(MODES)}, status=400)
            return json_response({"mode": requested})
        if path == CONTROL_PREFIX + "mode" and method == "GET":
            return json_response({"mode": self.mode})
        if path == CONTROL_PREFIX + "log" and method == "GET":
            return json_response({"mode": self.mode, "requests": [request.to_json() for request in self.requests]})
        return json_response({"error": f"unknown control endpoint {method} {path}"}, status=404)


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], site: SimulatedSite) -> None:
        self.site = site
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), a DNS lookup we neither need nor want.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away (its own timeout, a closed browser page): nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """Fields of an urlencoded or multipart body (last value wins); other bodies have no fields."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                fields[name] = part.get_filename() or (payload or b"").decode("utf-8", "replace")
        return fields
    return {}


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    server_version = "simsite/1"

    # The Server header of the answer being sent (Cloudflare's pages name their own).
    _server_header: str | None = None

    def version_string(self) -> str:
        return self._server_header or self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        clock = self.server.site.clock
        if timestamp is None and clock is not None:
            return format_datetime(clock().astimezone(UTC), usegmt=True)
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the site keeps its own structured log."""

    def _dispatch(self) -> None:
        received = datetime.now(UTC)
        site = self.server.site
        target = urlsplit(self.path)
        path = target.path or "/"
        query = dict(parse_qsl(target.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        form = _parse_form(self.headers.get("Content-Type", ""), body)
        if path.startswith(CONTROL_PREFIX):
            self._send(site._control(self.command, path, form, query))
            return
        request = LoggedRequest(
            time=received,
            method=self.command,
            path=path,
            query=MappingProxyType(query),
            form=MappingProxyType(form),
            client=f"{self.client_address[0]}:{self.client_address[1]}",
            headers=MappingProxyType({name.lower(): value for name, value in self.headers.items()}),
        )
        site._record(request)
        mode = site.mode
        if mode == "hang":
            site._wait_for_stop()  # then close the connection without a word
            return
        in_front = frontdoor.answer(mode, unquote(path), self.headers.get("Host", self.server.server_name))
        if in_front is not None:
            self._send(in_front)
            return
        found = routing.find(_ROUTES, self.command, unquote(path))
        self._send(found[0](request, mode, found[1]) if found else errorpages.not_found())

    def _send(self, response: Response) -> None:
        headers = [(name, value) for name, value in response.headers if name.lower() != "server"]
        self._server_header = next((value for name, value in response.headers if name.lower() == "server"), None)
        self.send_response(response.status)  # also sends Server and Date
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
