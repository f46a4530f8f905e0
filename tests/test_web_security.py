"""The dashboard against an attacker's requests (issue 15): each test sends, on 127.0.0.1, the
request that got through before, and checks the refusal. Sessions and the login page are in
test_web_sessions.py. See docs/security.md for what each rule protects.
"""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from capture.politeness import PolitenessRefusal, check_interval, host_turn
from evidence.accounts import add_user
from evidence.models import Artefact, Case
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from preuves.web.app import create_app
from preuves.web.exports import KEPT_S
from preuves.web.server import exposure_warning
from preuves.web.settings import WebSettings
from tests.capture_samples import sample_facts
from tests.evidence_helpers import pdf_bytes, record_sample_captures, sample_png
from tests.web_client import Client
from tests.web_helpers import dashboard

pytestmark = pytest.mark.both_databases

PASSWORD = "un mot de passe assez long"
URL = "https://www.val-doise.gouv.fr/booking/create/4963"


def one_case(workspace, label: str = "Dossier 2026-014", organisation: str | None = None) -> Case:
    case, _ = add_case(workspace, label, TargetSpec(URL, "ezbooking", "16162"), organisation=organisation)
    return case


def files_of(workspace, capture_id: int) -> list[int]:
    with workspace.reading() as session:
        return list(session.scalars(select(Artefact.id).where(Artefact.capture_id == capture_id)))


# --- 1. DNS rebinding: only an exact loopback Host ----------------------------------------------


def test_without_accounts_a_rebinding_host_gets_nothing(workspace):
    case = one_case(workspace)
    [capture] = record_sample_captures(workspace, case.target_id, 1)
    with dashboard(workspace, accounts=False) as base:
        port = urlsplit(base).port
        token = Client(base).token(f"/dossiers/{case.id}")
        for host in (f"127.attacker.example:{port}", f"127.0.0.1.nip.io:{port}", f"localhost.attacker.example:{port}",
                     f"127.0.0.2:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1"):
            intruder = Client(base, host=host)
            assert intruder.get("/").status == 403, host
            assert intruder.get(f"/fichiers/{files_of(workspace, capture.id)[0]}").status == 403, host
            refused = intruder.post(f"/dossiers/{case.id}/verifier", {"csrf_token": token})
            assert refused.status == 403 and "tableau de bord sans comptes ne répond" in refused.text, host
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
            assert Client(base, host=host).get("/").status == 200, host


# --- 2. The official-domain rule: the server owner's choice, never a web form's -------------------


def test_the_new_case_form_cannot_lift_the_official_domain_rule(workspace):
    secret = "http://localhost:8091/secret.html"
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    with dashboard(workspace, accounts=True) as base:
        alice = Client(base)
        alice.login("alice", PASSWORD)
        form = {"csrf_token": alice.token("/dossiers/nouveau"), "label": "Interne", "url": secret, "allow_any_domain": "1"}
        refused = alice.post("/dossiers/nouveau", form)
        assert refused.status == 400 and "pas un domaine officiel (*.gouv.fr)" in refused.text
        assert "allow_any_domain" not in alice.get("/dossiers/nouveau").text
    with workspace.reading() as session:
        assert session.scalars(select(Case)).all() == []

    workspace.config["web"] = {"allow_any_domain": True}  # preuves.toml, written by the server's owner
    with dashboard(workspace, accounts=True) as base:
        alice = Client(base)
        alice.login("alice", PASSWORD)
        assert "hors des domaines officiels" in alice.get("/dossiers/nouveau").text
        form = {"csrf_token": alice.token("/dossiers/nouveau"), "label": "Démonstration", "url": secret}
        assert alice.post("/dossiers/nouveau", form).status == 302


def test_two_names_of_one_local_server_share_its_politeness_interval(workspace):
    one, _ = add_case(workspace, "Par son nom", TargetSpec("http://localhost:8091/booking/create/1", "ezbooking", None))
    other, _ = add_case(workspace, "Par son adresse", TargetSpec("http://127.0.0.1:8091/booking/create/1", "ezbooking", None))
    [capture] = record_sample_captures(workspace, one.target_id, 1)
    with time_machine.travel(capture.started_at + timedelta(minutes=3)):
        with pytest.raises(PolitenessRefusal, match="trop récente"):
            check_interval(workspace, "127.0.0.1", timedelta(minutes=10))
        check_interval(workspace, "www.val-doise.gouv.fr", timedelta(minutes=10))  # another server: no wait
    with host_turn(workspace, "localhost"):
        with pytest.raises(PolitenessRefusal, match="déjà en cours"), host_turn(workspace, "127.0.0.1"):
            pass
    assert other.target_id != one.target_id


# --- 6. A page watched by two organisations ----------------------------------------------------


def test_an_organisation_sees_a_shared_page_only_from_its_first_case_on_it(workspace):
    with time_machine.travel(datetime(2026, 11, 1, 9, tzinfo=UTC), tick=False):
        add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
        add_user(workspace, "bruno", PASSWORD, "Cabinet Leroy")
        theirs = one_case(workspace, "Dossier Cimade", "Cimade Cergy")
    earlier = record_sample_captures(workspace, theirs.target_id, 2)  # 2 and 3 November
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=UTC), tick=False):
        mine = one_case(workspace, "Dossier Leroy", "Cabinet Leroy")
    assert mine.target_id == theirs.target_id  # one page, one schedule of attempts
    later = record_capture(
        workspace, sample_facts(mine.target_id, 3, datetime(2026, 11, 11, 8, tzinfo=UTC)),
        [NewArtefact("screenshot", "image/png", data=sample_png())],
    )
    with dashboard(workspace, accounts=True) as base:
        bruno, alice = Client(base), Client(base)
        bruno.login("bruno", PASSWORD)
        alice.login("alice", PASSWORD)
        page = bruno.get(f"/dossiers/{mine.id}").text
        assert re.findall(r'data-capture="(\d+)"', page) == [str(later.id)]
        assert "1 tentative(s)" in page and "1 faite(s)" in bruno.get("/").text
        for capture in earlier:
            assert bruno.get(f"/tentatives/{capture.id}").status == 404
            for artefact in files_of(workspace, capture.id):
                assert bruno.get(f"/fichiers/{artefact}").status == 404
        shared = bruno.get(f"/tentatives/{later.id}")
        assert shared.status == 200 and "Dossier Leroy" in shared.text and "Dossier Cimade" not in shared.text
        assert len(re.findall(r"data-capture=", alice.get(f"/dossiers/{theirs.id}").text)) == 3
        assert "Dossier Leroy" not in alice.get(f"/tentatives/{later.id}").text


# --- 7. Slow clients -----------------------------------------------------------------------------


def half_open(base: str, count: int) -> list[socket.socket]:
    """Connections that start a request and never finish it (slowloris)."""
    address = urlsplit(base)
    sockets = []
    for _ in range(count):
        connection = socket.create_connection((address.hostname, address.port), timeout=10)
        connection.sendall(f"GET / HTTP/1.1\r\nHost: {address.netloc}\r\nX-Slow: ".encode())
        sockets.append(connection)
    return sockets


def test_half_open_connections_do_not_starve_the_dashboard(workspace):
    with dashboard(workspace, accounts=False) as base:
        slow = half_open(base, 150)
        try:
            started = time.monotonic()
            assert Client(base, timeout_s=10).get("/").status == 200
            assert time.monotonic() - started < 5
        finally:
            for connection in slow:
                connection.close()


def test_an_idle_half_open_connection_is_closed_after_the_channel_timeout(workspace):
    with dashboard(workspace, accounts=False, channel_timeout=1, cleanup_interval=1) as base:
        [slow] = half_open(base, 1)
        with slow:
            slow.settimeout(15)
            assert slow.recv(1) == b""  # closed by the server, without an answer


# --- 8. The lesser holes ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["99999999999999999999999", "2147483648"])
def test_an_id_out_of_range_is_not_found(workspace, number):
    case = one_case(workspace)
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        for path in (f"/dossiers/{number}", f"/tentatives/{number}", f"/fichiers/{number}",
                     f"/fichiers/{number}/vignette.jpg"):
            reply = client.get(path)
            assert reply.status == 404 and "Page introuvable." in reply.text, path
        token = client.token(f"/dossiers/{case.id}")
        assert client.post(f"/dossiers/{number}/verifier", {"csrf_token": token}).status == 404
        assert client.get(f"/dossiers/{case.id}?page={number}").status == 200


def test_a_server_path_never_shows_in_a_message(workspace):
    case = one_case(workspace)
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        form = {"csrf_token": client.token(f"/dossiers/{case.id}"), "direction": "sent", "channel": "lrar"}
        client.post_files(f"/dossiers/{case.id}/courriers", form, {"file": ("courrier.txt", b"pas un PDF")})
        page = client.get(f"/dossiers/{case.id}").text
    assert "Courrier refusé : courrier.txt : format non reconnu" in page
    assert str(workspace.home) not in page and "upload-" not in page


def build(client: Client, case_id: int) -> str:
    """Start a dossier build; wait for its job; return the download link."""
    job = client.post(f"/dossiers/{case_id}/constituer", {"csrf_token": client.token(f"/dossiers/{case_id}")})
    deadline = time.monotonic() + 120
    while 'data-finished="oui"' not in (page := client.get(job.location).text):
        assert time.monotonic() < deadline, "the dossier job did not finish"
        time.sleep(0.5)
    link = re.search(r'href="(/travaux/[^"]+/dossier\.zip)"', page)
    assert link, re.sub(r"\s+", " ", page)[-600:]
    return link.group(1)


def test_two_builds_in_one_second_and_each_archive_downloaded_once(workspace):
    case = one_case(workspace)
    record_sample_captures(workspace, case.target_id, 2, screenshot=sample_png())
    exports = workspace.home / "exports"
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=UTC), tick=False):  # one second for both
            links = [build(client, case.id), build(client, case.id)]
        assert len(set(links)) == 2 and len(list(exports.glob("*.zip"))) == 2
        first = client.get(links[0])
        assert first.status == 200 and first.body.startswith(b"PK")
        assert len(list(exports.glob("*.zip"))) == 1  # gone from the server once downloaded
        again = client.get(links[0])
        assert again.status == 404 and "déjà été téléchargé" in again.text

    forgotten = next(exports.glob("*.zip"))
    old = time.time() - KEPT_S - 60
    os.utime(forgotten, (old, old))
    create_app(workspace, accounts=False).extensions["preuves"].close()  # a server starting sweeps
    assert list(exports.iterdir()) == []


def test_behind_an_https_proxy_the_cookie_is_secure_and_the_client_address_is_the_forwarded_one(workspace):
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    workspace.config["web"] = {"public_url": "https://preuves.example.org", "trusted_proxy": "127.0.0.1"}
    with dashboard(workspace, accounts=True) as base:
        reply = Client(base).get("/connexion")
        assert "Secure" in reply.headers["Set-Cookie"] and "HttpOnly" in reply.headers["Set-Cookie"]
        # Five wrong passwords through the proxy for one client lock that client only.
        stranger = Client(base)
        token = stranger.token("/connexion")
        for _ in range(5):
            stranger.post("/connexion", {"csrf_token": token, "username": "alice", "password": "faux faux faux"},
                          headers={"X-Forwarded-For": "203.0.113.7"})
        locked = stranger.post("/connexion", {"csrf_token": token, "username": "alice", "password": PASSWORD},
                               headers={"X-Forwarded-For": "203.0.113.7"})
        assert locked.status == 429
        colleague = Client(base)
        token = colleague.token("/connexion")
        welcome = colleague.post("/connexion", {"csrf_token": token, "username": "alice", "password": PASSWORD},
                                 headers={"X-Forwarded-For": "203.0.113.8"})
        assert welcome.status == 302


def test_serving_accounts_to_the_network_without_https_warns():
    warning = exposure_warning("0.0.0.0", True, WebSettings())
    assert warning is not None and "circulent en clair" in warning and "public_url" in warning
    assert exposure_warning("0.0.0.0", True, WebSettings(public_url="https://preuves.example.org")) is None
    assert exposure_warning("127.0.0.1", True, WebSettings()) is None


def test_a_new_pdf_letter_still_goes_through_the_upload_limit(workspace):
    case = one_case(workspace)
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        form = {"csrf_token": client.token(f"/dossiers/{case.id}"), "direction": "sent", "channel": "lrar",
                "date": "2026-11-02"}
        reply = client.post_files(f"/dossiers/{case.id}/courriers", form, {"file": ("demande.pdf", pdf_bytes())})
        assert reply.status == 302
        assert "Courrier n° 1 du 02/11/2026 enregistré." in client.get(f"/dossiers/{case.id}").text
