"""Drafted letters and the draft requête: the facts are computed from the case, the requête lists
exactly the dossier's pièces, and the marks (demo, lawyer review) are on every page."""

from __future__ import annotations

import io
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossier_builder.drafts import DEMO_WATERMARK, DRAFT_KINDS, LAWYER_WATERMARK, render_draft
from dossier_builder.french import long_date
from dossier_builder.pieces import plan_pieces
from evidence import journal
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.errors import BadInput
from evidence.letters import LetterInput, record_letter
from evidence.records import CaptureFacts, NewArtefact, TargetSpec, add_case, find_case, record_capture
from evidence.workspace import Workspace, init_workspace
from tests.evidence_helpers import pdf_bytes

URL = "https://www.val-doise.gouv.fr/booking/create/11343"
NOSLOT_TEXT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous."
TODAY = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
# (UTC start, state). In Paris: 20/10 is summer time (UTC+02:00), the others winter time (UTC+01:00).
ATTEMPTS = [
    (datetime(2026, 10, 20, 7, 15, tzinfo=UTC), "noslot"),  # 09:15 Paris
    (datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "noslot"),  # 09:30
    (datetime(2026, 11, 5, 13, 10, tzinfo=UTC), "noslot"),  # 14:10
    (datetime(2026, 11, 10, 17, 45, tzinfo=UTC), "noslot"),  # 18:45
    (datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "error"),  # 10:00
    (datetime(2026, 11, 13, 9, 0, tzinfo=UTC), "captcha"),  # 10:00
    (datetime(2026, 11, 14, 9, 0, tzinfo=UTC), "slots"),  # 10:00 — not a failure
    (datetime(2026, 11, 18, 6, 5, tzinfo=UTC), "noslot"),  # 07:05
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), "noslot"),  # 11:00
]


def fill_case(
    workspace: Workspace, tmp_path: Path, letter_days: tuple[date, date, date] | None = (
        date(2026, 9, 1), date(2026, 12, 1), date(2026, 12, 10)
    )
) -> None:
    """The case, its attempts and applicant, and three letters: sent (never answered), sent, its answer."""
    spec = TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise", "renouvellement de titre de séjour")
    case, _ = add_case(workspace, "dossier-1", spec, period_start=date(2026, 10, 1))
    for number, (start, state) in enumerate(ATTEMPTS, start=1):
        facts = CaptureFacts(
            target_id=case.target_id, attempt_no=number, started_at=start,
            finished_at=start + timedelta(seconds=5), url_requested=URL, final_url=URL + "/2",
            http_status=200, state=state, platform="ezbooking",
            evidence_text=NOSLOT_TEXT if state == "noslot" else state,
        )
        record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=f"png {number}".encode())])
    set_applicant(
        workspace, "dossier-1",
        ApplicantFields("Awa Traoré", date(1990, 3, 14), "Bamako", "malienne",
                        "12 rue des Lilas\n95000 Cergy", "7501234567", date(2026, 12, 15)),
    )
    if letter_days is None:
        return
    (tmp_path / "lettre.pdf").write_bytes(pdf_bytes())

    def letter(day: date, direction: str, channel: str, **extra: object) -> None:
        record_letter(workspace, "dossier-1", LetterInput(tmp_path / "lettre.pdf", direction, channel, day, **extra))

    first, second, answer = letter_days
    letter(first, "sent", "lrar", tracking="1A 111 222 333 4")  # 1: never answered
    letter(second, "sent", "email")  # 2
    letter(answer, "received", "email", answers=2)  # 3


@pytest.fixture
def demo(tmp_path) -> Workspace:
    workspace, _ = init_workspace(tmp_path / "demo", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    fill_case(workspace, tmp_path)
    yield workspace
    workspace.close()


def pages(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed."""
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def lines(pdf: bytes) -> list[str]:
    return [line.strip() for page in PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()]


def listed_pieces(pdf: bytes) -> list[tuple[int, str]]:
    found = [re.fullmatch(r"Pièce n° (\d+) : (.+)", line) for line in lines(pdf)]
    return [(int(m.group(1)), m.group(2)) for m in found if m]


def planned_pieces(workspace: Workspace) -> list[tuple[int, str]]:
    with workspace.reading() as session:
        return [(p.number, p.label) for p in plan_pieces(session, find_case(session, "dossier-1"))]


def test_letter_states_the_computed_facts(demo):
    draft = render_draft(demo, "dossier-1", "demande-rdv")
    text = " ".join(pages(draft.pdf))
    for expected in (
        # sender, addressee, place and date
        "Awa Traoré", "12 rue des Lilas", "Né(e) le 14 mars 1990 à Bamako", "Nationalité : malienne",
        "Numéro d'étranger : 7501234567", "Préfecture (Val-d'Oise)", "Service des étrangers",
        "À Cergy, le 20 décembre 2026",
        "Objet : demande de rendez-vous — renouvellement de titre de séjour",
        "Mon titre de séjour a expiré le 15 décembre 2026.",
        # the attempts: 8 failed ones (the one that showed slots is not counted)
        f"Depuis le 20 octobre 2026, je me connecte régulièrement au site de prise de rendez-vous de la préfecture ({URL})",
        "Entre le 20 octobre 2026 et le 24 novembre 2026, j'ai effectué 8 tentatives, sur 8 jours différents "
        "répartis sur 5 semaines, à des heures variées (de 7 h 05 à 18 h 45).",
        "le site a indiqué qu'aucun créneau n'était disponible (6 fois)",
        "le site était en erreur ou indisponible (1 fois)",
        "la tentative s'est arrêtée au code de sécurité (captcha) exigé avant l'affichage des créneaux (1 fois)",
        f"Le site affichait alors le message : « {NOSLOT_TEXT} »",
        "Ces tentatives ont eu lieu les 20 octobre 2026 ; 2, 5, 10, 12, 13, 18 et 24 novembre 2026",
        # the letters already sent
        "le 1er septembre 2026, par lettre recommandée avec avis de réception (n° de suivi 1A 111 222 333 4) — "
        "sans réponse depuis plus de deux mois (silence gardé depuis le 1er novembre 2026)",
        "le 1er décembre 2026, par courriel — réponse reçue le 10 décembre 2026",
        # the annex: every failed attempt, Paris time with its offset
        "Annexe — relevé des tentatives infructueuses", "8 tentatives",
        "20/10/2026 09:15:00 (UTC+02:00) aucun créneau", "02/11/2026 09:30:00 (UTC+01:00) aucun créneau",
        "18/11/2026 07:05:00 (UTC+01:00) aucun créneau", "12/11/2026 10:00:00 (UTC+01:00) erreur du site",
    ):
        assert expected in text, expected
    assert "14/11/2026 10:00:00" not in text  # the attempt that showed slots
    assert listed_pieces(draft.pdf) == planned_pieces(demo)
    assert LAWYER_WATERMARK not in text
    assert any("affiché des créneaux (14/11/2026 10:00:00 (UTC+01:00))" in w for w in draft.warnings)
    assert any("« arrêt au captcha »" in w for w in draft.warnings)


def test_requete_lists_exactly_the_dossier_pieces(demo):
    draft = render_draft(demo, "dossier-1", "requete-refere")
    texts = pages(draft.pdf)
    text = " ".join(texts)
    assert listed_pieces(draft.pdf) == planned_pieces(demo)
    assert len(planned_pieces(demo)) == 2 + 5 + 3 + 1  # note, chronology, five weeks of captures, three letters, annex
    for expected in (
        "Requête en référé « mesures utiles »".upper(),
        "POUR Awa Traoré, né(e) le 14 mars 1990 à Bamako, de nationalité malienne, demeurant 12 rue des Lilas, "
        "95000 Cergy, numéro d'étranger 7501234567.",
        "CONTRE Le préfet territorialement compétent (Val-d'Oise).",
        "Depuis le 20 octobre 2026, je me connecte régulièrement",
        "le détail de chacune, avec son heure, figure dans les pièces n° 3 à 7",
        "(pièce n° 8) — sans réponse depuis plus de deux mois",
        "A. Sur l'urgence", "Mon titre de séjour a expiré le 15 décembre 2026.",
        "l'urgence est en principe présumée (CE, 9 juin 2022, n° 453391)",
        "B. Sur l'utilité de la mesure et l'absence de contestation sérieuse",
        "malgré 8 tentatives effectuées du 20 octobre 2026 au 24 novembre 2026 (pièces n° 3 à 7)",
        "sur 5 semaines distinctes, n'ont pas été effectuées la même semaine (CE, 10 juin 2020, n° 435594)",
        "dans un délai de 15 jours à compter de la notification de l'ordonnance à intervenir, "
        "sous astreinte de 100 euros par jour de retard",
        "Note pour la relecture",
        "Fait à Cergy, le 20 décembre 2026",
    ):
        assert expected in text, expected
    for page in texts:
        assert LAWYER_WATERMARK in page and DEMO_WATERMARK in page


@pytest.mark.parametrize("kind", list(DRAFT_KINDS))
def test_demo_marks_every_page(demo, kind):
    draft = render_draft(demo, "dossier-1", kind)
    texts = pages(draft.pdf)
    assert len(texts) == draft.pages >= 2
    assert all(DEMO_WATERMARK in page for page in texts)


def real_letter_days() -> tuple[date, date, date]:
    """A real workspace runs on the system clock: its letters must be dated in the past."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=90), today - timedelta(days=20), today - timedelta(days=10)


def test_real_workspace_drafts_carry_no_demo_mark(workspace, tmp_path):
    days = real_letter_days()
    fill_case(workspace, tmp_path, days)
    for kind in ("relance", "defenseur-des-droits"):
        text = " ".join(pages(render_draft(workspace, "dossier-1", kind).pdf))
        assert DEMO_WATERMARK not in text and LAWYER_WATERMARK not in text
    relance = " ".join(pages(render_draft(workspace, "dossier-1", "relance").pdf))
    # The relance refers to the letter left unanswered, not to the later one that was answered.
    assert f"Objet : relance — demande de rendez-vous du {long_date(days[0])}" in relance
    assert f"Par lettre recommandée avec avis de réception du {long_date(days[0])} (n° de suivi 1A 111 222 333 4)" in relance
    assert "Cette demande est restée sans réponse depuis plus de deux mois." in relance
    defenseur = " ".join(pages(render_draft(workspace, "dossier-1", "defenseur-des-droits").pdf))
    assert "Défenseur des droits Libre réponse 71120 75342 Paris CEDEX 07" in defenseur


def test_relance_needs_a_letter_sent(tmp_path):
    workspace, _ = init_workspace(tmp_path / "ws")
    fill_case(workspace, tmp_path, None)
    with pytest.raises(BadInput, match="^une relance suppose un courrier déjà envoyé"):
        render_draft(workspace, "dossier-1", "relance")
    workspace.close()


def test_draft_needs_the_applicant(workspace):
    add_case(workspace, "dossier-2", TargetSpec(URL, "ezbooking"))
    with pytest.raises(BadInput) as raised:
        render_draft(workspace, "dossier-2", "demande-rdv")
    assert str(raised.value) == "identité du demandeur inconnue : renseignez-la avec « preuves applicant set 1 »"


def test_draft_command_writes_an_owner_only_pdf(workspace, cli, tmp_path):
    fill_case(workspace, tmp_path, real_letter_days())
    with workspace.reading() as session:
        before = journal.head(session)
    out = tmp_path / "demande.pdf"
    result = cli("letter", "draft", "dossier-1", "--kind", "demande-rdv", "--out", str(out))
    assert (result.code, result.out) == (0, f"{out}\n"), result.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Awa Traoré" in " ".join(pages(out.read_bytes()))
    assert f"Demande de rendez-vous écrit : {out}" in result.err
    assert "À vérifier : 1 tentative a affiché des créneaux" in result.err
    with workspace.reading() as session:
        assert journal.head(session) == before  # a draft is no evidence: nothing journaled

    unknown = cli("letter", "draft", "dossier-1", "--kind", "plainte", "--out", str(tmp_path / "p.pdf"))
    assert (unknown.code, unknown.err.strip()) == (
        2,
        "Erreur : type de courrier inconnu : 'plainte' (valeurs possibles : demande-rdv, relance, "
        "defenseur-des-droits, requete-refere)",
    )
    assert not (tmp_path / "p.pdf").exists()
    missing_dir = cli("letter", "draft", "dossier-1", "--kind", "relance", "--out", str(tmp_path / "nope" / "r.pdf"))
    assert (missing_dir.code, missing_dir.err.strip()) == (2, f"Erreur : {tmp_path / 'nope'} : dossier inexistant")
