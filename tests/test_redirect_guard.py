"""A server's redirect passes the network guard hop by hop (capture/redirect_guard.py), with a real Chromium
against servers of ours: the booking site on 127.0.0.1, an « other site » on 127.0.0.2 (another host for the
guard, which judges host names). A refused hop never leaves the browser: the host it points to receives
nothing, and the attempt is recorded as stopped, naming the refused address."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from capture.attempt import AttemptOutcome, capture_target
from capture.settings import CaptureSettings
from capture.states import State
from evidence.models import Target
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><html lang='fr'><body><h1>Prise de rendez-vous</h1>%s</body></html>"


class Host:
    """An HTTP server of ours on one loopback address. A path given in `redirects` is answered with that
    status and `Location`, any other with a short page (`pages` may give its body); `requests` lists the paths
    received, in order."""

    def __init__(self, address: str) -> None:
        self.redirects: dict[str, tuple[int, str]] = {}
        self.pages: dict[str, bytes] = {}
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                host.requests.append(self.path)
                if self.path in host.redirects:
                    status, location = host.redirects[self.path]
                    self.send_response(status)
                    self.send_header("Location", location)
                    body = b""
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    body = PAGE % host.pages.get(self.path, b"")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((address, 0), Handler)
        self.base_url = f"http://{address}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def booking_site() -> Iterator[Host]:
    host = Host("127.0.0.1")
    yield host
    host.close()


@pytest.fixture
def other_site() -> Iterator[Host]:
    host = Host("127.0.0.2")
    yield host
    host.close()


@pytest.fixture
def settings() -> CaptureSettings:
    return CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=12)


def attempt(workspace, browser, settings, url: str, platform: str = "generic", counter: str | None = None
            ) -> tuple[AttemptOutcome, dict]:
    """One recorded attempt on a new case, and the facts it recorded (environnement.json)."""
    case, _ = add_case(workspace, "Dupont", TargetSpec(url, platform, counter))
    with workspace.reading() as session:
        target = session.scalars(select(Target).where(Target.id == case.target_id)).one()
    outcome = capture_target(workspace, target, browser, settings)
    [environment] = [a for a in outcome.capture.artefacts if a.kind == "environment"]
    return outcome, json.loads(workspace.blobs.read(environment.sha256))


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_to_another_host_is_refused_before_it_leaves(
    workspace, browser, settings, booking_site, other_site, status
):
    booking_site.redirects["/depart"] = (status, f"{other_site.base_url}/arrivee")
    outcome, facts = attempt(workspace, browser, settings, f"{booking_site.base_url}/depart")
    refused = f"{other_site.base_url}/arrivee"
    assert other_site.requests == []
    assert booking_site.requests == ["/depart"]
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error == (
        f"redirection vers un autre site refusée : {refused} (demandée par {booking_site.base_url}/depart)"
    )
    assert facts["refused_redirects"] == [{"from": f"{booking_site.base_url}/depart", "to": refused,
                                          "page_itself": True}]
    assert facts["blocked_offsite_requests"] == [refused]
    assert verify_workspace(workspace).ok


def test_a_chain_that_leaves_the_site_at_its_second_hop_is_refused_there(
    workspace, browser, settings, booking_site, other_site
):
    booking_site.redirects["/un"] = (302, "/deux")
    booking_site.redirects["/deux"] = (307, f"{other_site.base_url}/trois")
    outcome, facts = attempt(workspace, browser, settings, f"{booking_site.base_url}/un")
    assert other_site.requests == []
    assert booking_site.requests == ["/un", "/deux"]
    assert outcome.capture.error == (
        f"redirection vers un autre site refusée : {other_site.base_url}/trois "
        f"(demandée par {booking_site.base_url}/deux)"
    )
    assert [hop["to"] for hop in facts["refused_redirects"]] == [f"{other_site.base_url}/trois"]


# Each platform with completion requests: the case's address, the path its walk opens first, a completion path.
COMPLETIONS = [
    ("ezbooking", "/booking/create/4963", "16162", "/booking/create/4963", "/booking/create/4963/5/1767600000"),
    ("rdvpref", "/rdvpref/reservation/demarche/77/", None, "/rdvpref/reservation/demarche/77/cgu/",
     "/rdvpref/reservation/demarche/77/informations/"),
    ("eappointment94", "/eAppointmentpref94/booking", None, "/eAppointmentpref94/booking",
     "/eAppointmentpref94/dwr/call/plaincall/AjaxAppointment.confirmAppointment.dwr"),
    ("anct", "/prendre_rdv", None, "/prendre_rdv", "/users/rdvs"),
]


@pytest.mark.parametrize(("platform", "address", "counter", "first", "completion"), COMPLETIONS,
                         ids=[row[0] for row in COMPLETIONS])
def test_a_redirect_to_a_completion_address_is_refused(
    workspace, browser, settings, booking_site, platform, address, counter, first, completion
):
    booking_site.redirects[first] = (302, completion)
    outcome, facts = attempt(workspace, browser, settings, booking_site.base_url + address, platform, counter)
    assert booking_site.requests == [first]
    assert outcome.classification.state is State.ERROR
    assert outcome.capture.error == f"requête de réservation bloquée : {booking_site.base_url}{completion}"
    assert facts["blocked_completion_requests"] == [booking_site.base_url + completion]
    assert facts["refused_redirects"] == [
        {"from": booking_site.base_url + first, "to": booking_site.base_url + completion, "page_itself": True}
    ]


def test_an_image_redirected_to_another_host_is_refused_and_the_page_recorded(
    workspace, browser, settings, booking_site, other_site
):
    """Like an image asked of another host at once: refused, listed, and the walk goes on."""
    booking_site.pages["/page"] = b"<p>Bienvenue</p><img src='/image.png' alt=''>"
    booking_site.redirects["/image.png"] = (302, f"{other_site.base_url}/pistage.png")
    outcome, facts = attempt(workspace, browser, settings, f"{booking_site.base_url}/page")
    assert other_site.requests == []
    assert "/image.png" in booking_site.requests
    assert outcome.capture.error is None
    assert outcome.capture.final_url == f"{booking_site.base_url}/page"
    assert facts["refused_redirects"] == [
        {"from": f"{booking_site.base_url}/image.png", "to": f"{other_site.base_url}/pistage.png",
         "page_itself": False}
    ]


def test_a_redirect_within_the_site_is_followed_and_recorded_normally(workspace, browser, settings, site,
                                                                       booking_site):
    """To the simulated prefecture's no-slot page: the same host (another port), which the guard lets through."""
    booking_site.redirects["/ancienne-adresse"] = (301, f"{site.base_url}/booking/create/4963/2")
    outcome, facts = attempt(workspace, browser, settings, f"{booking_site.base_url}/ancienne-adresse")
    assert outcome.classification.state is State.NOSLOT, outcome.capture.error
    assert outcome.capture.error is None
    assert outcome.capture.final_url == f"{site.base_url}/booking/create/4963/2"
    assert facts["refused_redirects"] == [] and facts["blocked_offsite_requests"] == []
    assert {"screenshot", "screenshot_annotated", "html", "mhtml", "har", "environment"} <= {
        a.kind for a in outcome.capture.artefacts
    }
    assert verify_workspace(workspace).ok
