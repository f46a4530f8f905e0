"""An attempt whose own connection failed (no name resolution, no network) reached no server and shows
nothing of the booking site: the dossier says it apart, never as the prefecture's error, and the letters do not
count it among the failed attempts. An error on the site's side (a server that refuses the connection, an
HTTP error) stays « erreur du site ». The recorded state is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dossier_builder.build import build_dossier
from dossier_builder.drafts import render_draft
from dossier_builder.glance import case_glance
from dossier_builder.outcomes import OFFLINE, outcome_of
from evidence.applicants import set_applicant
from evidence.clock import SimulatedClock
from evidence.models import Capture, Case
from evidence.net_errors import french_net_error
from evidence.records import CaptureFacts, NewArtefact, TargetSpec, add_case, record_capture
from evidence.workspace import init_workspace
from tests.dossier_helpers import page_texts
from tests.draft_samples import ATTEMPTS, CASE, IDENTITY, URL, add_attempts, text
from tests.evidence_helpers import sample_png


CHROMIUM_ERROR_PAGE = "chrome-error://chromewebdata/"  # where Chromium puts a page it could not open


def chromium_error(code: str) -> str:
    """What the capture records when Chromium fails the page with `code` (capture/walk.py)."""
    return french_net_error(f"Page.goto: net::{code} at {URL}")


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("ERR_NAME_NOT_RESOLVED", OFFLINE),
        ("ERR_INTERNET_DISCONNECTED", OFFLINE),
        ("ERR_PROXY_CONNECTION_FAILED", OFFLINE),
        ("ERR_CONNECTION_REFUSED", "error"),  # a server answered, or its host did: the site's side
        ("ERR_TIMED_OUT", "error"),
        ("ERR_CERT_DATE_INVALID", "error"),
    ],
)
def test_only_a_failure_of_the_attempts_own_connection_is_set_apart(code, outcome):
    assert outcome_of("error", None, chromium_error(code)) == outcome


def test_an_answer_of_the_site_or_another_state_is_never_set_apart():
    dns = chromium_error("ERR_NAME_NOT_RESOLVED")
    assert outcome_of("error", 503, dns) == "error"  # the site answered: whatever the message says
    assert outcome_of("noslot", None, dns) == "noslot"
    assert outcome_of("error", None, "délai dépassé : la page n'a pas fini de charger") == "error"
    assert outcome_of("error", None, None) == "error"


@pytest.fixture
def case_with_failures(tmp_path):
    """Four no-slot attempts (from draft_samples), then one whose DNS failed and one the server refused."""
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)))
    case, _ = add_case(workspace, CASE, TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise", "Renouvellement"))
    add_attempts(workspace, case.target_id, ATTEMPTS[:4])
    for number, code in ((5, "ERR_NAME_NOT_RESOLVED"), (6, "ERR_CONNECTION_REFUSED")):
        start = datetime(2026, 11, 20 + number, 9, 0, tzinfo=UTC)
        facts = CaptureFacts(
            target_id=case.target_id, attempt_no=number, started_at=start, finished_at=start + timedelta(seconds=5),
            url_requested=URL, final_url=CHROMIUM_ERROR_PAGE, http_status=None, state="error", platform="ezbooking",
            evidence_text=chromium_error(code), error=chromium_error(code),
        )
        record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=sample_png(code))])
    set_applicant(workspace, CASE, IDENTITY)
    yield workspace
    workspace.close()


def test_the_dossier_says_which_attempt_never_reached_the_site(case_with_failures, tmp_path):
    workspace = case_with_failures
    result = build_dossier(workspace, CASE, tmp_path / "dossier", workers=1)
    note = " ".join(" ".join(page_texts(result.pieces[0].path)).split())
    breakdown = (
        "4 ont montré qu'aucun créneau n'était libre, 1 s'est heurtée à une erreur du site, "
        "1 n'a pas pu joindre le site (échec de la connexion)."
    )
    assert "Aucune des 6 tentatives faites du 20 octobre au 26 novembre 2026" in note and breakdown in note
    captures = " ".join(
        " ".join(page_texts(entry.path)) for entry in result.pieces if entry.piece.kind == "captures"
    )
    assert "Résultat constaté connexion impossible" in " ".join(captures.split())
    assert "Résultat constaté erreur du site" in " ".join(captures.split())
    last_week = [entry for entry in result.pieces if entry.piece.kind == "captures"][-1]  # the two errors'
    errors = " ".join(page_texts(last_week.path))
    assert "Tentative n° 5" in errors and "Tentative n° 6" in errors
    assert "chrome-error" not in errors and "Adresse atteinte" not in errors  # nothing was reached
    with workspace.reading() as session:
        states = sorted(session.scalars(select(Capture.state)))
        case = session.scalars(select(Case)).one()
        session.expunge(case)
    assert states == ["error", "error", "noslot", "noslot", "noslot", "noslot"]  # as recorded, untouched
    glance = case_glance(workspace, case)  # the dashboard's « En bref »
    assert glance is not None and breakdown in glance.conclusion


def test_a_letter_counts_only_the_attempts_that_reached_the_site(case_with_failures):
    draft = render_draft(case_with_failures, CASE, "demande-rdv")
    whole = text(draft.pdf)
    assert "relevé des 5 tentatives infructueuses" in whole
    assert "le site était en erreur ou indisponible (1 fois)" in whole
    assert "1 tentative n'a pas pu joindre le site (échec de la connexion) : le document ne la compte pas" in (
        draft.warnings
    )
