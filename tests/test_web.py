"""The web dashboard (`preuves serve`), driven in a real Chromium against the simulated site.

One person on 127.0.0.1 (no accounts) creates a case, makes an attempt, sees it in the timeline,
adds a letter, builds and downloads the bundle and runs verify; then the access rules of a
dashboard with accounts: login, organisations, CSRF.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from weasyprint import HTML

from evidence import journal
from evidence.account_models import Organisation, User
from evidence.accounts import add_user, organisation_of
from evidence.models import Artefact, Capture, Case, JournalEntry
from evidence.records import TargetSpec, add_case, find_case
from evidence.verify import verify_workspace
from tests.evidence_helpers import record_sample_captures, sample_png
from tests.web_helpers import chromium, dashboard, page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.both_databases]

PASSWORD = "un mot de passe assez long"


def wait_for_job(page: Page) -> None:
    expect(page.locator("#job[data-finished=oui]")).to_be_visible(timeout=60_000)


def kinds(workspace) -> list[str]:
    with workspace.reading() as session:
        return list(session.scalars(select(JournalEntry.kind).order_by(JournalEntry.seq)))


def test_local_dashboard_from_new_case_to_downloaded_bundle(workspace, site, browser, fast_settings, page, tmp_path):
    workspace.config["web"] = {"allow_any_domain": True}  # the simulated site is on 127.0.0.1
    with dashboard(workspace, accounts=False, settings=fast_settings, browser=browser) as base:
        page.goto(base)
        expect(page.get_by_text("Aucun dossier pour l'instant")).to_be_visible()
        # The page names its (empty) icon, so a browser asks for no /favicon.ico (a 404 in every log otherwise).
        expect(page.locator('link[rel="icon"]')).to_have_attribute("href", "data:,")

        # A new case, on the simulated classic prefecture module.
        page.get_by_role("link", name="Nouveau dossier").click()
        page.get_by_label("Nom du dossier").fill("Dupont titre de séjour")
        page.get_by_label("Adresse de la page de prise de rendez-vous").fill(f"{site.base_url}/booking/create/4963")
        page.get_by_label("Guichet").fill("16162")
        page.get_by_role("button", name="Créer le dossier").click()
        expect(page.get_by_role("heading", name=re.compile("Dupont titre de séjour"))).to_be_visible()
        case_url = page.url

        # An attempt now: the job page follows it to its end.
        page.get_by_role("button", name="Faire une tentative maintenant").click()
        wait_for_job(page)
        expect(page.get_by_text("Tentative enregistrée : aucun créneau")).to_be_visible()
        page.get_by_role("link", name="Voir la tentative").click()
        with workspace.reading() as session:
            capture = session.scalars(select(Capture)).one()
            original = session.scalars(
                select(Artefact).where(Artefact.capture_id == capture.id, Artefact.kind == "screenshot")
            ).one()
        expect(page.locator("[data-sha256]")).to_have_text(original.sha256)
        page.wait_for_function(
            "([image, width]) => image.complete && image.naturalWidth === width",
            arg=[page.locator("img").element_handle(), fast_settings.viewport[0]],
        )

        # The timeline shows it as a thumbnail that opens the full capture.
        page.goto(case_url)
        tiles = page.locator("[data-capture]")
        expect(tiles).to_have_count(1)
        expect(tiles.first).to_contain_text("aucun créneau")
        thumbnail = tiles.first.locator("img").element_handle()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=thumbnail)
        tiles.first.click()
        expect(page.get_by_role("heading", name=re.compile("Tentative n° 1"))).to_be_visible()

        # A letter, uploaded with its proof of sending.
        page.goto(case_url)
        letter = tmp_path / "demande-rdv.pdf"
        HTML(string="<p>Demande de rendez-vous</p>").write_pdf(letter)
        page.get_by_label("Fichier du courrier").set_input_files(letter)
        page.get_by_label("Sens").select_option("sent")
        page.get_by_label("Moyen").select_option("lrar")
        page.get_by_label("Date (lue").fill("2026-11-02")
        page.get_by_label("Objet").fill("Demande de rendez-vous")
        page.get_by_label("Reçu par la préfecture le").fill("2026-11-04")
        page.get_by_label("Preuves d'envoi").set_input_files(
            {"name": "accuse.png", "mimeType": "image/png", "buffer": sample_png("Accusé")}
        )
        page.get_by_role("button", name="Enregistrer le courrier").click()
        expect(page.get_by_text("Courrier n° 1 du 02/11/2026 enregistré.")).to_be_visible()
        expect(page.locator("#courriers + table")).to_contain_text("demande-rdv.pdf")
        expect(page.locator("#courriers + table")).to_contain_text("reçu le 04/11/2026")

        # The bundle: progress page, then the zip.
        page.get_by_role("button", name="Constituer le dossier pour Télérecours").click()
        wait_for_job(page)
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Télécharger le dossier (zip)").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        names = {Path(name).name for name in archive.namelist()}
        assert {"Inventaire_des_pieces.pdf", "dossier-complet.pdf", "manifest.json", "SHA256SUMS"} <= names
        assert any(name.startswith("PJ1_") for name in names)
        assert any("courrier" in name.lower() or "demande" in name.lower() for name in names if name.startswith("PJ"))

        # Verify, from the page.
        page.goto(case_url)
        page.get_by_role("button", name="Vérifier les preuves").click()
        wait_for_job(page)
        expect(page.get_by_text("INTACT — rien n'a été modifié ni supprimé.")).to_be_visible()

    assert {"case.created", "capture.recorded", "letter.recorded"} <= set(kinds(workspace))
    assert verify_workspace(workspace).ok


def test_a_letter_of_an_unknown_format_is_refused_and_nothing_is_stored(workspace, page, tmp_path):
    case, _ = add_case(workspace, "Martin", TargetSpec("https://www.val-doise.gouv.fr/booking/create/4963", "ezbooking", "16162"))
    with workspace.reading() as session:
        head = journal.head(session)
    with dashboard(workspace, accounts=False) as base:
        page.goto(f"{base}/dossiers/{case.id}")
        page.get_by_label("Fichier du courrier").set_input_files(
            {"name": "lettre.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf at all"}
        )
        page.get_by_label("Date (lue").fill("2026-11-02")
        page.get_by_role("button", name="Enregistrer le courrier").click()
        expect(page.get_by_text(re.compile("Courrier refusé : .*format non reconnu"))).to_be_visible()
    with workspace.reading() as session:
        assert journal.head(session) == head


def test_an_upload_over_the_cap_is_refused(workspace, page):
    (workspace.home / "preuves.toml").write_text("[letters]\nmax_file_mb = 1\n", encoding="utf-8")
    workspace.config["letters"] = {"max_file_mb": 1}
    case, _ = add_case(workspace, "Martin", TargetSpec("https://www.val-doise.gouv.fr/booking/create/4963", "ezbooking", "16162"))
    with dashboard(workspace, accounts=False) as base:
        page.goto(f"{base}/dossiers/{case.id}")
        page.get_by_label("Fichier du courrier").set_input_files(
            {"name": "gros.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (8 * 2**20)}
        )
        page.get_by_role("button", name="Enregistrer le courrier").click()
        expect(page.get_by_text(re.compile("Fichier trop volumineux. Un envoi ne peut dépasser 6 Mo."))).to_be_visible()
        page.goto(f"{base}/dossiers/{case.id}")
        page.get_by_label("Fichier du courrier").set_input_files(
            {"name": "moyen.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (2 * 2**20)}
        )
        page.get_by_role("button", name="Enregistrer le courrier").click()
        expect(page.get_by_text(re.compile("Courrier refusé : .*trop volumineux"))).to_be_visible()
    assert "letter.recorded" not in kinds(workspace)


def test_without_accounts_only_a_loopback_host_is_answered(workspace):
    with dashboard(workspace, accounts=False) as base:
        address = urlsplit(base)
        for host, expected in ((address.netloc, 200), ("preuves.example:80", 403)):
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
            connection.request("GET", "/", headers={"Host": host})
            assert connection.getresponse().status == expected
            connection.close()


# --- with accounts: login, organisations, CSRF ------------------------------------------------


@pytest.fixture
def two_organisations(workspace) -> dict[str, int]:
    """Alice (Cimade Cergy) and Bruno (Cabinet Leroy), one case each, Bruno's with one capture."""
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    add_user(workspace, "bruno", PASSWORD, "Cabinet Leroy")
    url = "https://www.val-doise.gouv.fr/booking/create/4963"
    theirs, _ = add_case(workspace, "Dossier Cimade", TargetSpec(url, "ezbooking", "16161"), organisation="Cimade Cergy")
    other, _ = add_case(workspace, "Dossier Leroy", TargetSpec(url, "ezbooking", "16162"), organisation="Cabinet Leroy")
    [capture] = record_sample_captures(workspace, other.target_id, 1, screenshot=sample_png())
    return {"alice_case": theirs.id, "bruno_case": other.id, "bruno_capture": capture.id}


def login(page: Page, username: str, password: str) -> None:
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_with_accounts_a_user_sees_only_their_organisation(workspace, two_organisations, page):
    ids = two_organisations
    with dashboard(workspace, accounts=True) as base:
        # No session: every page leads to the login page, and back after it.
        response = page.goto(f"{base}/dossiers/{ids['alice_case']}")
        assert urlsplit(page.url).path == "/connexion" and response.ok
        login(page, "alice", "mauvais mot de passe !")
        expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
        login(page, "alice", PASSWORD)
        expect(page.get_by_role("heading", name=re.compile("Dossier Cimade"))).to_be_visible()
        expect(page.locator("header")).to_contain_text("alice · Cimade Cergy")

        page.goto(base)
        expect(page.locator("table")).to_contain_text("Dossier Cimade")
        expect(page.locator("table")).not_to_contain_text("Dossier Leroy")
        # Another organisation's case, its attempt and its files do not exist for Alice.
        with workspace.reading() as session:
            files = session.scalars(select(Artefact.id).where(Artefact.capture_id == ids["bruno_capture"])).all()
        for path in (
            f"/dossiers/{ids['bruno_case']}",
            f"/tentatives/{ids['bruno_capture']}",
            *(f"/fichiers/{artefact}" for artefact in files),
        ):
            assert page.goto(base + path).status == 404, path
        # Starting work on it is refused as well (with a valid token).
        token = page.goto(f"{base}/dossiers/{ids['alice_case']}") and page.locator("input[name=csrf_token]").first.get_attribute("value")
        refused = page.request.post(f"{base}/dossiers/{ids['bruno_case']}/verifier", form={"csrf_token": token})
        assert refused.status == 404

        page.get_by_role("button", name="Se déconnecter").click()
        page.goto(base)
        assert urlsplit(page.url).path == "/connexion"


def test_a_form_without_its_csrf_token_is_refused(workspace, two_organisations, page):
    case_id = two_organisations["alice_case"]
    with dashboard(workspace, accounts=True) as base:
        page.goto(f"{base}/connexion")
        login(page, "alice", PASSWORD)
        page.goto(f"{base}/dossiers/{case_id}")
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        before = len(kinds(workspace))
        for form in ({}, {"csrf_token": "x" * len(token)}):
            refused = page.request.post(f"{base}/dossiers/{case_id}/verifier", form=form, max_redirects=0)
            assert refused.status == 403
            assert "jeton de sécurité" in refused.text()
            refused = page.request.post(
                f"{base}/dossiers/nouveau", form={**form, "label": "Intrus", "url": "https://www.val-doise.gouv.fr/x"}
            )
            assert refused.status == 403
        accepted = page.request.post(f"{base}/dossiers/{case_id}/verifier", form={"csrf_token": token}, max_redirects=0)
        assert accepted.status == 302 and "/travaux/" in accepted.headers["location"]
    assert len(kinds(workspace)) == before
    with workspace.reading() as session:
        assert "Intrus" not in [case.label for case in session.scalars(select(Case))]


def test_cases_created_on_the_dashboard_belong_to_the_user_organisation(workspace, two_organisations, page):
    with dashboard(workspace, accounts=True) as base:
        page.goto(f"{base}/connexion")
        login(page, "bruno", PASSWORD)
        page.get_by_role("link", name="Nouveau dossier").click()
        page.get_by_label("Nom du dossier").fill("Nouveau Leroy")
        page.get_by_label("Adresse de la page de prise de rendez-vous").fill(
            "https://www.val-doise.gouv.fr/booking/create/4963"
        )
        page.get_by_label("Guichet").fill("16163")
        page.get_by_role("button", name="Créer le dossier").click()
        expect(page.get_by_text("Dossier « Nouveau Leroy » créé.")).to_be_visible()
    with workspace.reading() as session:
        case = find_case(session, "Nouveau Leroy")  # labels are sealed: read, not matched in SQL
        leroy = session.scalars(select(Organisation.id).where(Organisation.name == "Cabinet Leroy")).one()
        assert organisation_of(session, case.id) == leroy
        entry = json.loads(session.scalars(select(JournalEntry.payload).order_by(JournalEntry.seq.desc())).first())
    assert entry["kind"] == "case.created" and entry["data"]["organisation"] == "Cabinet Leroy"


# --- the command line: `preuves serve` and `preuves user` --------------------------------------


def test_user_add_stores_an_argon2_hash_and_journals_no_secret(cli, workspace, monkeypatch):
    def add(*args: str, password: str = PASSWORD):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return cli("user", "add", *args, "--password-stdin", home=workspace.home)

    assert add("alice", "--organisation", "Cimade Cergy").code == 0
    short = add("bruno", "--organisation", "Cimade Cergy", password="court")
    assert (short.code, short.err.strip()) == (2, "Erreur : mot de passe refusé : 12 caractères au moins")
    twice = add("alice", "--organisation", "Autre")
    assert twice.code == 2 and "existe déjà" in twice.err
    listed = cli("user", "list", home=workspace.home)
    assert "alice" in listed.out and "Cimade Cergy" in listed.out
    with workspace.reading() as session:
        stored = session.scalars(select(User.password_hash)).one()
        payloads = "\n".join(session.scalars(select(JournalEntry.payload)))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in payloads and stored not in payloads and '"user":"alice"' in payloads


def test_serve_refuses_a_public_address_without_accounts(cli, workspace):
    result = cli("serve", "--host", "0.0.0.0", home=workspace.home)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "Erreur : écoute sur 0.0.0.0 refusée sans comptes : créez-en un d'abord "
        "(« preuves user add NOM --organisation ORG »)"
    ]


def test_preuves_serve_answers_and_stops_cleanly_on_sigterm(workspace):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "preuves", "--home", str(workspace.home), "serve", "--port", str(port)],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200 and "Dossiers" in response.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "preuves serve did not start"
                time.sleep(0.2)
        # Many requests at once, as a case page's thumbnails make: waiting in waitress's queue is no fault.
        def answered(_: int) -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                return response.status

        with ThreadPoolExecutor(max_workers=32) as requests:
            assert set(requests.map(answered, range(64))) == {200}
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=15)
        assert server.returncode == 0
    finally:
        server.kill()
        server.communicate()
    # Only the tool's own French lines: the libraries' progress notes (APScheduler's jobs, WeasyPrint's
    # steps, in English) stay out of the person's terminal.
    assert log.splitlines() == [
        f"Tableau de bord local, sans comptes : http://127.0.0.1:{port}/  (Ctrl-C pour arrêter)",
        "Surveillance des plans dans ce processus (0 tentative(s) prévue(s)).",
        "Arrêt de la surveillance : fin de la tentative en cours…",
        "Tableau de bord arrêté.",
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_assisted_attempt_needs_a_screen_and_a_local_dashboard(workspace, page, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    url = "https://www.val-doise.gouv.fr/booking/create/4963"
    local, _ = add_case(workspace, "Dossier local", TargetSpec(url, "ezbooking", "16160"))
    with dashboard(workspace, accounts=False) as base:
        page.goto(f"{base}/dossiers/{local.id}")
        page.get_by_role("button", name="Tentative assistée (captcha)").click()
        expect(page.get_by_text("mode assisté : aucun écran disponible (variable DISPLAY absente)")).to_be_visible()
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    case, _ = add_case(workspace, "Dossier Cimade", TargetSpec(url, "ezbooking", "16161"), organisation="Cimade Cergy")
    with dashboard(workspace, accounts=True) as base:
        page.goto(f"{base}/connexion")
        login(page, "alice", PASSWORD)
        page.goto(f"{base}/dossiers/{case.id}")
        expect(page.get_by_role("button", name="Faire une tentative maintenant")).to_be_visible()
        expect(page.get_by_role("button", name="Tentative assistée (captcha)")).to_have_count(0)
    assert "capture.recorded" not in kinds(workspace)
