"""The dashboard's case page shows at a glance what the note shows — the conclusion, the days left before the
titre expires, the weekday × hour heatmap — and the applicant's pièces, with a form to add one and a button to
withdraw one; driven in a real Chromium."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from evidence.applicant_pieces import WITHDRAWN
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.localtime import PARIS
from evidence.models import ApplicantPiece, JournalEntry
from evidence.workspace import init_workspace
from tests.dossier_helpers import CASE, record_shots, three_weeks
from tests.evidence_helpers import add_sample_case, sample_png
from tests.test_web import chromium, page  # noqa: F401  (the same person's Chromium and page fixtures)
from tests.web_helpers import dashboard

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path):
    """A demo workspace on 4 December 2026, 10:00 in Paris: 12 attempts over 3 weeks, a titre expiring on
    20 January 2027."""
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)))
    record_shots(workspace, add_sample_case(workspace, CASE), three_weeks())
    set_applicant(workspace, CASE, ApplicantFields(full_name="Jean Dupont", permit_expiry=date(2027, 1, 20)))
    yield workspace
    workspace.close()


def test_the_case_page_shows_the_conclusion_days_left_and_heatmap(demo, page):
    with dashboard(demo, accounts=False) as base:
        page.goto(f"{base}/dossiers/1")
        expect(page.locator("[data-conclusion]")).to_have_text(re.compile(
            r"^Sur les 12 tentatives faites du 2 au 20 novembre 2026, 2 ont trouvé des créneaux proposés ; "
            r"les 10 autres n'ont permis d'obtenir aucun créneau \(6 ont montré"
        ))
        expect(page.locator("[data-days-left]")).to_have_attribute("data-days-left", "47")
        expect(page.locator("[data-days-left]")).to_have_text("dans 47 jours")
        expect(page.get_by_text("La dernière tentative date du 20/11/2026 19:15, il y a 13 jours")).to_be_visible()
        cells = page.locator("table.heat td[data-count]")
        expect(cells).to_have_count(7 * 24)
        shown = {
            (int(cell.get_attribute("data-weekday")), int(cell.get_attribute("data-hour"))): int(cell.get_attribute("data-count"))
            for cell in cells.all()
        }
    local = Counter((moment.astimezone(PARIS).weekday(), moment.astimezone(PARIS).hour) for moment in three_weeks())
    assert {key: count for key, count in shown.items() if count} == dict(local)


def test_applicant_pieces_are_added_listed_and_withdrawn(demo, page, tmp_path):
    permit = sample_png("TITRE DE SÉJOUR")
    with dashboard(demo, accounts=False) as base:
        page.goto(f"{base}/dossiers/1")
        expect(page.get_by_text("Aucune pièce du demandeur")).to_be_visible()
        page.get_by_label("Fichier de la pièce").set_input_files(
            {"name": "titre.png", "mimeType": "image/png", "buffer": permit}
        )
        page.get_by_label("Nature de la pièce").select_option("titre-de-sejour")
        page.get_by_label("Intitulé").fill("Titre de séjour en cours de validité")
        page.get_by_label("Date du document").fill("2025-01-21")
        page.get_by_role("button", name="Enregistrer la pièce").click()
        expect(page.get_by_text("Pièce du demandeur n° 1 enregistrée : « Titre de séjour en cours de validité ».")).to_be_visible()
        row = page.locator("[data-piece='1']")
        expect(row).to_contain_text("titre de séjour")
        expect(row).to_contain_text("21/01/2025")
        link = row.get_by_role("link", name="titre.png").get_attribute("href")
        with urllib.request.urlopen(f"{base}{link}") as response:
            assert response.read() == permit

        # A file that is no document is refused, and nothing is kept.
        page.get_by_text("Ajouter une pièce du demandeur").click()  # the form folds once a pièce is there
        page.get_by_label("Fichier de la pièce").set_input_files(
            {"name": "note.txt", "mimeType": "text/plain", "buffer": b"pas un document"}
        )
        page.get_by_label("Intitulé").fill("Note")
        page.get_by_role("button", name="Enregistrer la pièce").click()
        expect(page.get_by_text(re.compile("Pièce refusée : .*format non reconnu"))).to_be_visible()

        row.get_by_role("button", name="Retirer").click()
        expect(page.get_by_text("Pièce n° 1 retirée du dossier ; son fichier reste conservé.")).to_be_visible()
        expect(page.locator("[data-piece='1']")).to_contain_text("retirée le 04/12/2026")
    with demo.reading() as session:
        assert session.scalar(select(func.count()).select_from(ApplicantPiece)) == 1
        assert session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == WITHDRAWN)) == 1
