"""The plan on the dashboard: made and replaced from the case page, accompanied attempts due now shown
with their button, and `preuves serve` following the plans itself (unless --no-watch)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from evidence.models import Capture, PlannedAttempt
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import CONFIG_NAME
from tests.alert_helpers import free_port
from tests.polling import wait_for
from tests.web_helpers import chromium, dashboard, page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.both_databases]

RDVPREF = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1922/"


def planned(workspace) -> list[PlannedAttempt]:
    with workspace.reading() as session:
        return list(session.scalars(select(PlannedAttempt).order_by(PlannedAttempt.planned_at)))


def test_the_case_page_makes_the_plan_then_replaces_it_only_when_asked(workspace, page):
    case, _ = add_case(workspace, "Cergy", TargetSpec("https://www.val-doise.gouv.fr/booking/create/4963", "ezbooking", "16162"))
    with dashboard(workspace, accounts=False) as base:
        page.goto(f"{base}/dossiers/{case.id}")
        expect(page.get_by_text("tentatives automatiques : l'outil les fait seul")).to_be_visible()
        page.get_by_label("Nombre de semaines").fill("1")
        page.get_by_label("Premier jour").fill("2099-03-23")
        page.get_by_role("button", name="Établir le plan").click()
        expect(page.get_by_text(re.compile(r"Plan établi : 15 tentative\(s\) du lun\. 23/03/2099"))).to_be_visible()
        expect(page.locator("#prochaines tr")).to_have_count(1 + 8)  # the header and the next eight
        first = [row.planned_at for row in planned(workspace)]
        assert len(first) == 15 and {row.mode for row in planned(workspace)} == {"unattended"}

        # Replacing needs the box ticked (the browser refuses the form without it).
        page.locator("summary", has_text="Remplacer le plan").click()
        page.get_by_label("Nombre de semaines").fill("1")
        page.get_by_label("Tentatives par jour ouvré").select_option("2")
        page.get_by_label("Premier jour").fill("2099-04-06")
        page.get_by_role("button", name="Remplacer le plan").click()
        assert [row.planned_at for row in planned(workspace) if row.status == "planned"] == first
        page.get_by_label("Remplacer le plan en cours").check()
        page.get_by_role("button", name="Remplacer le plan").click()
        expect(page.get_by_text("15 tentative(s) prévue(s) de l'ancien plan remplacée(s).")).to_be_visible()
        assert len([row for row in planned(workspace) if row.status == "planned"]) == 10

        # A day already past is refused in one line, and nothing changes.
        page.goto(f"{base}/dossiers/{case.id}")
        page.locator("summary", has_text="Remplacer le plan").click()
        page.evaluate("document.getElementById('from').removeAttribute('min')")
        page.get_by_label("Premier jour").fill("1900-01-01")
        page.get_by_label("Remplacer le plan en cours").check()
        page.get_by_role("button", name="Remplacer le plan").click()
        expect(page.get_by_text(re.compile(r"Plan refusé : date de début passée : 01/01/1900"))).to_be_visible()
    assert len([row for row in planned(workspace) if row.status == "planned"]) == 10
    assert verify_workspace(workspace).ok


def test_a_new_case_on_rdv_prefecture_says_its_attempts_are_accompanied(workspace, page):
    with dashboard(workspace, accounts=False) as base:
        page.goto(f"{base}/dossiers/nouveau")
        expect(page.locator("#platform-modes")).to_contain_text("RDV Préfecture — tentatives accompagnées")
        page.get_by_label("Nom du dossier").fill("Nanterre")
        page.get_by_label("Adresse de la page de prise de rendez-vous").fill(RDVPREF)
        page.get_by_role("button", name="Créer le dossier").click()
        expect(page.get_by_role("status").filter(has_text="tentatives accompagnées")).to_be_visible()
        page.get_by_label("Nombre de semaines").fill("1")
        page.get_by_label("Premier jour").fill("2099-03-23")
        page.get_by_role("button", name="Établir le plan").click()
        expect(page.locator("#prochaines")).to_contain_text("accompagnée")
    assert {row.mode for row in planned(workspace)} == {"accompanied"}


def test_an_accompanied_attempt_due_now_leads_to_its_button(workspace, page, monkeypatch):
    case, _ = add_case(workspace, "Nanterre", TargetSpec(RDVPREF, "rdvpref"))
    now = datetime.now(UTC)
    with workspace.writing() as session:
        session.add(PlannedAttempt(
            target_id=case.target_id, planned_at=now - timedelta(minutes=5), window="midday", reason="regular",
            mode="accompanied", status="reminded", reminded_at=now, created_at=now,
        ))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with dashboard(workspace, accounts=False) as base:
        page.goto(base)
        page.get_by_role("link", name="Nanterre").first.click()  # the banner's link to the case's due attempt
        due = page.locator("#a-faire")
        expect(due).to_contain_text("Tentative accompagnée à faire maintenant")
        due.get_by_role("button", name="Commencer la tentative accompagnée").click()
        # Here no screen exists to show the window: said in one line, and the attempt stays to do.
        expect(page.get_by_text("mode assisté : aucun écran disponible (variable DISPLAY absente)")).to_be_visible()
    assert [row.status for row in planned(workspace)] == ["reminded"]


def _serve(workspace, *options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "preuves", "--home", str(workspace.home), "serve", "--port", str(port), *options],
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert wait_for(lambda: _answers(port) or server.poll() is not None, 30) and server.poll() is None
    return server, port


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGTERM)
    _, log = server.communicate(timeout=60)
    assert server.returncode == 0 and "Traceback" not in log, log
    return log


@pytest.mark.parametrize("watching", [True, False], ids=["serve", "serve --no-watch"])
def test_preuves_serve_follows_the_plans_itself_unless_told_not_to(workspace, site, watching):
    (workspace.home / CONFIG_NAME).write_text("[watch]\npoll_seconds = 1\n", encoding="utf-8")
    case, _ = add_case(workspace, "Cergy", TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162"))
    server, _port = _serve(workspace, *(() if watching else ("--no-watch",)))
    try:
        now = datetime.now(UTC)
        with workspace.writing() as session:  # planned while the server runs: its next pass finds it
            session.add(PlannedAttempt(
                target_id=case.target_id, planned_at=now + timedelta(seconds=2), window="midday",
                reason="regular", status="planned", created_at=now,
            ))

        def captured() -> int:
            with workspace.reading() as session:
                return session.scalar(select(func.count()).select_from(Capture))

        if watching:
            assert wait_for(lambda: captured() == 1, 60)
        else:
            time.sleep(5)  # two passes a watcher would have made: nothing is done here
    finally:
        log = _stop(server)
    if watching:
        assert "Surveillance des plans dans ce processus (0 tentative(s) prévue(s))." in log
        assert [row.status for row in planned(workspace)] == ["done"]
    else:
        assert "Surveillance des plans" not in log and captured() == 0
        assert [row.status for row in planned(workspace)] == ["planned"]
    assert "Tableau de bord arrêté." in log
