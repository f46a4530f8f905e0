"""Drafted letters: facts computed from the case, no blank where the data exists and every blank
listed, agreement by civility, the request a relance or a referral cites, annexes by date and
fingerprint (never court pièces), the signature at the end, and the marks on every page."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from datetime import UTC, datetime

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from dossier_builder.drafts import DEMO_WATERMARK, LAWYER_WATERMARK, LETTER_KINDS, render_draft
from evidence import journal
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.errors import BadInput
from evidence.letter_text import find_blanks
from evidence.models import Artefact, Capture
from evidence.records import TargetSpec, add_case
from evidence.workspace import Workspace, init_workspace
from tests.draft_samples import (
    ATTEMPTS,
    CALL,
    CASE,
    EMAIL_SUBJECT,
    IDENTITY,
    NOSLOT_TEXT,
    TODAY,
    URL,
    add_attempts,
    make_case,
    only_identity,
    pages,
    text,
)


@pytest.fixture
def demo(tmp_path) -> Workspace:
    """A demo workspace (simulated clock on 3 December 2026) holding the complete case."""
    workspace, _ = init_workspace(tmp_path / "demo", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path)
    yield workspace
    workspace.close()


def failed_hashes(workspace: Workspace, kind: str = "screenshot") -> list[str]:
    """The SHA-256 of the failed attempts' screenshots of `kind`, in time order."""
    with workspace.reading() as session:
        return list(
            session.scalars(
                select(Artefact.sha256)
                .join(Capture)
                .where(Capture.state != "slots", Artefact.kind == kind)
                .order_by(Capture.started_at)
            )
        )


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_letters_of_a_complete_case_hold_no_blank(demo, kind):
    draft = render_draft(demo, CASE, kind)
    texts = pages(draft.pdf)
    whole = " ".join(texts)
    assert draft.blanks == () and find_blanks(whole) == []
    for expected in (
        "Mme Awa Traoré", "12 rue des Lilas", "Née le 14 mars 1990 à Bamako", "Nationalité : malienne",
        "Numéro d'étranger : 7501234567", "À Cergy, le 3 décembre 2026",
        "Mon titre de séjour expire le 15 décembre 2026.",
        # annexes: the attempts by date and fingerprint, never the court bundle's pièces
        "Annexe 1 : relevé des 8 tentatives infructueuses du 20 octobre 2026 au 24 novembre 2026",
        "Annexe 2 : les 8 captures d'écran de ces tentatives, chacune avec sa date, son heure et son empreinte.",
        "Annexe 1 — relevé des tentatives infructueuses", "Annexe 2 — captures d'écran",
        "Tentative n° 8 — 24/11/2026 11:00:00 (UTC+01:00) — aucun créneau",
    ):
        assert expected in whole, expected
    assert "Pièce n°" not in whole and "pièce n°" not in whole
    for sha256 in failed_hashes(demo):
        assert sha256 in whole.replace(" ", "")
    images = {hashlib.sha256(image.data).digest() for page in PdfReader(io.BytesIO(draft.pdf)).pages for image in page.images}
    assert len(images) == 8  # every failed attempt's screenshot, reproduced
    # The signature closes the text, on the page of the closing formula, before the annexes.
    signed = next(n for n, page in enumerate(texts) if "l'expression de" in page)
    assert texts[signed].index("l'expression de") < texts[signed].index("Mme Awa Traoré Annexes")
    assert all(DEMO_WATERMARK in page for page in texts) and LAWYER_WATERMARK not in whole


def test_demande_states_the_computed_facts(demo):
    draft = render_draft(demo, CASE, "demande-rdv")
    whole = text(draft.pdf)
    for expected in (
        "Madame la Préfète, Monsieur le Préfet Préfecture du Val-d'Oise Service des migrations et de l'intégration "
        "5 avenue Bernard Hirsch 95010 Cergy-Pontoise Cedex",
        "Objet : demande de rendez-vous — Renouvellement de titre de séjour",
        f"Depuis le 20 octobre 2026, je me connecte régulièrement au site de prise de rendez-vous de la préfecture ({URL})",
        "Entre le 20 octobre 2026 et le 24 novembre 2026, j'ai effectué 8 tentatives, sur 8 jours différents "
        "répartis sur 5 semaines, à des heures variées (de 7 h 05 à 18 h 45).",
        "le site a indiqué qu'aucun créneau n'était disponible (6 fois)",
        "la tentative s'est arrêtée au code de sécurité (captcha) exigé avant l'affichage des créneaux (1 fois)",
        f"Le site affichait alors le message : « {NOSLOT_TEXT} »",
        "Ces tentatives ont eu lieu les 20 octobre 2026 ; 2, 5, 10, 12, 13, 18 et 24 novembre 2026",
        "le 12 novembre 2026, par lettre recommandée avec avis de réception (n° de suivi 1A 111 222 333 4), reçue par "
        "vos services le 16 novembre 2026, objet : « Demande de rendez-vous — renouvellement de titre de séjour » — "
        "sans réponse à ce jour",
        f"le 19 novembre 2026, par courriel, objet : « {EMAIL_SUBJECT} » — réponse reçue le 27 novembre 2026",
        f"le 20 novembre 2026, appel téléphonique à la préfecture : {CALL}",
        "Annexe 3 : copie du courrier du 12 novembre 2026 (lettre recommandée avec avis de réception)",
        "20/10/2026 09:15:00 (UTC+02:00) aucun créneau", "12/11/2026 10:00:00 (UTC+01:00) erreur du site",
    ):
        assert expected in whole, expected
    assert "14/11/2026 10:00:00" not in whole  # the attempt that showed slots
    assert any("affiché des créneaux (14/11/2026 10:00:00 (UTC+01:00))" in w for w in draft.warnings)
    assert any("« arrêt au captcha »" in w for w in draft.warnings)
    # The Objet is in the PDF's metadata too: `letter add` records it as the letter's own subject.
    metadata = PdfReader(io.BytesIO(draft.pdf)).metadata
    assert (metadata.author, metadata.subject) == (
        "Preuves RDV", "demande de rendez-vous — Renouvellement de titre de séjour"
    )


def test_relance_and_referral_cite_the_first_unanswered_request(demo):
    relance = text(render_draft(demo, CASE, "relance").pdf)
    for expected in (
        "Objet : relance — demande de rendez-vous du 12 novembre 2026 — Renouvellement de titre de séjour",
        "Par lettre recommandée avec avis de réception du 12 novembre 2026 (n° de suivi 1A 111 222 333 4), reçue par "
        "vos services le 16 novembre 2026, je vous ai demandé un rendez-vous",
        "Cette demande est restée sans réponse à ce jour, 17 jours après sa réception.",
        "J'ai également saisi la préfecture : le 19 novembre 2026, par courriel",
        "je me verrai contrainte de saisir le juge des référés",
    ):
        assert expected in relance, expected
    assert relance.count("du 12 novembre 2026, par lettre recommandée") == 0  # cited once, not listed again
    referral = text(render_draft(demo, CASE, "defenseur-des-droits").pdf)
    for expected in (
        "Défenseur des droits Libre réponse 71120 75342 Paris CEDEX 07",
        "Objet : réclamation — impossibilité d'obtenir un rendez-vous en préfecture",
        "relative au service des étrangers de la préfecture du Val-d'Oise",
        "J'ai demandé ce rendez-vous à la préfecture par lettre recommandée avec avis de réception du 12 novembre 2026 "
        "(n° de suivi 1A 111 222 333 4), reçue par la préfecture le 16 novembre 2026.",
        "passage au guichet de la préfecture : Renvoyée vers le site internet",
    ):
        assert expected in referral, expected


@pytest.mark.parametrize(
    ("civility", "expected", "absent"),
    [
        ("M.", ("M. Awa Traoré", "Né le 14 mars 1990", "je me verrai contraint de saisir"), ("Née", "(e)")),
        ("Mme", ("Mme Awa Traoré", "Née le 14 mars 1990", "je me verrai contrainte de saisir"), ("Né le", "(e)")),
        (None, ("[à compléter : civilité du demandeur]", "Né(e) le 14 mars 1990", "contraint(e)"), ("Mme", "M. ")),
    ],
)
def test_agreement_follows_the_civility(tmp_path, civility, expected, absent):
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path, ApplicantFields(**{**vars(IDENTITY), "civility": civility}))
    draft = render_draft(workspace, CASE, "relance")
    whole = text(draft.pdf)
    for words in expected:
        assert words in whole, words
    for words in absent:
        assert words not in whole.replace("Madame la Préfète, Monsieur le Préfet", ""), words
    assert [b.key for b in draft.blanks] == ([] if civility else ["civility"])
    workspace.close()


def test_listed_blanks_are_exactly_what_is_missing(tmp_path):
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path, only_identity(), prefecture=None, url="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/")
    draft = render_draft(workspace, CASE, "demande-rdv")
    assert [b.key for b in draft.blanks] == [
        "civility", "postal_address", "birth_date", "birth_place", "nationality", "prefecture", "service_address", "place",
    ]
    whole = text(draft.pdf)
    assert set(find_blanks(whole)) == {b.what for b in draft.blanks}
    assert draft.blanks[6].how == 'preuves applicant set 1 --service-address "service;rue;code postal ville"'
    # Filled in, the same blanks disappear.
    set_applicant(workspace, CASE, ApplicantFields(**{**vars(IDENTITY), "departement": "95"}))
    filled = render_draft(workspace, CASE, "demande-rdv")
    assert filled.blanks == () and find_blanks(text(filled.pdf)) == []
    assert "Préfecture du Val-d'Oise" in text(filled.pdf)
    workspace.close()


def drafted_after(tmp_path, attempts: int, now: datetime) -> tuple[Workspace, str]:
    """A demo workspace holding the first `attempts` attempts, dated as the tool records them, and the text
    of the demande-rdv drafted at `now`."""
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(now))
    case, _ = add_case(workspace, CASE, TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise", "Renouvellement de titre de séjour"))
    add_attempts(workspace, case.target_id, ATTEMPTS[:attempts], dated=True)
    set_applicant(workspace, CASE, IDENTITY)
    return workspace, text(render_draft(workspace, CASE, "demande-rdv").pdf)


def test_annexes_are_the_screenshots_of_the_drafts_date(tmp_path):
    """A letter drafted on 11 November lists the four attempts made by then, each by its date and
    the fingerprint of the dated copy it reproduces (its own, though the raw pages are alike)."""
    workspace, whole = drafted_after(tmp_path, 4, datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    assert "Annexe 1 : relevé des 4 tentatives infructueuses du 20 octobre 2026 au 10 novembre 2026" in whole
    assert "Tentative n° 4 — 10/11/2026 18:45:00 (UTC+01:00)" in whole and "Tentative n° 5" not in whole
    assert "semaine du 9 au 15 novembre" not in whole and "Pièce" not in whole
    dated = failed_hashes(workspace, "screenshot_annotated")
    assert len(set(dated)) == 4 and len(set(failed_hashes(workspace))) == 1
    for sha256 in dated:
        assert f"SHA-256 {sha256}" in whole
    workspace.close()


def test_a_letter_after_one_attempt_speaks_of_it_in_the_singular(tmp_path):
    """The first letter may follow the first attempt: « relevé des 1 tentatives … du 20 octobre au 20 octobre »,
    « Ces tentatives ont eu lieu » and « je me connecte régulièrement » used to say otherwise."""
    workspace, whole = drafted_after(tmp_path, 1, datetime(2026, 10, 21, 9, 0, tzinfo=UTC))
    assert ("Le 20/10/2026 09:15:00 (UTC+02:00), je me suis connectée au site de prise de rendez-vous de la "
            "préfecture") in whole
    assert "ma tentative n'a pas permis d'obtenir de rendez-vous : le site a indiqué qu'aucun créneau n'était " \
        "disponible." in whole
    assert "régulièrement" not in whole and "1 fois" not in whole
    assert ("Le relevé de cette tentative, avec son heure, figure en annexe 1 ; sa capture d'écran, datée, "
            "en annexe 2.") in whole
    assert ("Annexe 1 : relevé de la tentative infructueuse du 20 octobre 2026, avec l'empreinte SHA-256 de sa "
            "capture d'écran datée.") in whole
    assert "Ces tentatives" not in whole and "1 tentatives" not in whole and "chacune" not in whole
    workspace.close()


def test_real_workspace_drafts_carry_no_demo_mark(workspace, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        make_case(workspace, tmp_path)
        for kind in ("relance", "defenseur-des-droits"):
            whole = text(render_draft(workspace, CASE, kind).pdf)
            assert DEMO_WATERMARK not in whole and LAWYER_WATERMARK not in whole


def test_relance_needs_a_letter_sent(tmp_path):
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path, letters=False)
    with pytest.raises(BadInput, match="^une relance suppose un courrier déjà envoyé"):
        render_draft(workspace, CASE, "relance")
    workspace.close()


def test_draft_needs_the_applicant(workspace):
    add_case(workspace, "dossier-2", TargetSpec(URL, "ezbooking"))
    with pytest.raises(BadInput) as raised:
        render_draft(workspace, "dossier-2", "demande-rdv")
    assert str(raised.value) == "identité du demandeur inconnue : renseignez-la avec « preuves applicant set 1 »"


def test_draft_command_lists_the_blanks_and_writes_an_owner_only_pdf(workspace, cli, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        make_case(workspace, tmp_path, only_identity(civility="Mme"), letters=False)
        with workspace.reading() as session:
            before = journal.head(session)
        out = tmp_path / "demande.pdf"
        result = cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(out))
        assert (result.code, result.out) == (0, f"{out}\n"), result.err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert "Mme Awa Traoré" in text(out.read_bytes())
        assert "À vérifier : 1 tentative a affiché des créneaux" in result.err
        # The last lines: what is left blank, and how to fill it.
        assert result.err.splitlines()[-8:] == [
            f"Demande de rendez-vous : PDF écrit dans {out}",
            "Blancs à compléter avant l'envoi ou le dépôt (6) :",
            '  - adresse postale du demandeur : preuves applicant set 1 --address "rue;code postal ville"',
            "  - date de naissance : preuves applicant set 1 --birth-date AAAA-MM-JJ",
            '  - lieu de naissance : preuves applicant set 1 --birth-place "…"',
            '  - nationalité : preuves applicant set 1 --nationality "…"',
            "  - adresse postale du service des étrangers : "
            'preuves applicant set 1 --service-address "service;rue;code postal ville"',
            '  - ville où le document est signé : preuves applicant set 1 --address "…;95000 Cergy" '
            "(la dernière ligne : code postal et ville)",
        ]
        first = out.read_bytes()
        kept = cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(out))
        assert (kept.code, kept.err.strip()) == (
            2, f"Erreur : {out} existe déjà : choisissez un autre nom de fichier, ou --replace pour le remplacer"
        )
        assert out.read_bytes() == first  # a draft completed by hand, or signed, is never overwritten unasked
        listed = json.loads(
            cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(out), "--replace", "--json").out
        )
        assert listed["path"] == str(out) and listed["pages"] >= 3
        assert [b["key"] for b in listed["blanks"]] == [
            "postal_address", "birth_date", "birth_place", "nationality", "service_address", "place"
        ]
        with workspace.reading() as session:
            assert journal.head(session) == before  # a draft is no evidence: nothing journaled

        assert cli("applicant", "set", CASE, *_all_options()).code == 0
        done = cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(out), "--replace")
        assert done.err.splitlines()[-1] == "Aucun blanc : relisez le document, puis signez-le."

    unknown = cli("letter", "draft", CASE, "--kind", "plainte", "--out", str(tmp_path / "p.pdf"))
    assert (unknown.code, unknown.err.strip()) == (
        2,
        "Erreur : type de courrier inconnu : 'plainte' (valeurs possibles : demande-rdv, relance, "
        "defenseur-des-droits, requete-refere)",
    )
    assert not (tmp_path / "p.pdf").exists()
    missing_dir = cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(tmp_path / "nope" / "r.pdf"))
    assert (missing_dir.code, missing_dir.err.strip()) == (2, f"Erreur : {tmp_path / 'nope'} : dossier inexistant")


def _all_options() -> list[str]:
    return [
        "--birth-date", "1990-03-14", "--birth-place", "Bamako", "--nationality", "malienne",
        "--address", "12 rue des Lilas;95000 Cergy", "--service-address", "Service des étrangers;1 rue X;95000 Cergy",
    ]


def test_a_draft_with_a_blank_cannot_be_recorded_as_sent_and_a_finished_one_keeps_its_objet(workspace, cli, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        make_case(workspace, tmp_path, only_identity(civility="Mme"), letters=False)
        draft = tmp_path / "demande.pdf"
        assert cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(draft)).code == 0
        refused = cli("letter", "add", CASE, "--file", str(draft), "--date", "2026-12-03",
                      "--direction", "sent", "--channel", "lrar")
        assert (refused.code, refused.err.strip()) == (
            2,
            f"Erreur : {draft} : blanc non complété « adresse postale du demandeur » (et 5 autre(s)) : "
            "complétez le courrier avant de l'enregistrer comme envoyé",
        )
        assert json.loads(cli("letter", "list", CASE, "--json").out) == []

        assert cli("applicant", "set", CASE, *_all_options()).code == 0
        assert cli("letter", "draft", CASE, "--kind", "demande-rdv", "--out", str(draft), "--replace").code == 0
        accepted = cli("letter", "add", CASE, "--file", str(draft), "--date", "2026-12-03",
                       "--direction", "sent", "--channel", "lrar")
        assert accepted.code == 0, accepted.err
        [letter] = json.loads(cli("letter", "list", CASE, "--json").out)
        assert letter["subject"] == "demande de rendez-vous — Renouvellement de titre de séjour"
        assert letter["files"][0]["sha256"] == hashlib.sha256(draft.read_bytes()).hexdigest()
