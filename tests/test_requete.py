"""The draft requête a lawyer can sign: the competent tribunal and the préfet named right, facts
quoting the pièces, the legal points of REFERENCE §1 and only them, the applicant's declarations
asked and never assumed, the options of the conclusions, the bordereau equal to the inventory.
Also the chronology's receipts and events."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import time_machine

from dossier_builder import chronology
from dossier_builder.drafts import LAWYER_WATERMARK, DraftOptions, parse_options, render_draft
from dossier_builder.facts import facts_of
from evidence.applicants import set_applicant
from evidence.clock import SimulatedClock
from evidence.errors import BadInput
from evidence.letter_text import find_blanks
from evidence.workspace import Workspace, init_workspace
from tests.draft_samples import (
    ANSWER_SUBJECT,
    ATTEMPTS,
    CALL,
    CASE,
    EMAIL_SUBJECT,
    IDENTITY,
    LRAR_SUBJECT,
    NOSLOT_TEXT,
    TODAY,
    VISIT,
    listed_pieces,
    make_case,
    pages,
    planned_pieces,
    text,
)

COUNSEL = DraftOptions(counsel=parse_options("Me Marie Martin", "Val-d'Oise", True, 1500, "requete-refere").counsel,
                       legal_aid=True, costs=1500)


def workspace_with(tmp_path, identity=IDENTITY, **case) -> Workspace:
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path, identity, **case)
    return workspace


@pytest.fixture
def complete(tmp_path) -> Workspace:
    workspace = workspace_with(tmp_path)
    yield workspace
    workspace.close()


def requete(workspace: Workspace, options: DraftOptions = DraftOptions()):
    return render_draft(workspace, CASE, "requete-refere", options)


def test_requete_of_a_complete_case(complete):
    draft = requete(complete)
    whole = text(draft.pdf)
    # Nothing left to fill but the slots the site once showed, which a person must explain.
    assert [b.key for b in draft.blanks] == ["slots"]
    assert find_blanks(whole) == [draft.blanks[0].what]
    for expected in (
        "À Madame la présidente, Monsieur le président du tribunal administratif de Cergy-Pontoise Juge des référés",
        "POUR Mme Awa Traoré, née le 14 mars 1990 à Bamako, de nationalité malienne, demeurant 12 rue des Lilas, "
        "95000 Cergy, numéro d'étranger 7501234567.",
        "CONTRE Le préfet du Val-d'Oise.",
        # the facts, quoting the pièces
        "Mme Awa Traoré, dont le titre de séjour expire le 15 décembre 2026, doit présenter à la préfecture du "
        "Val-d'Oise une demande (démarche « Renouvellement de titre de séjour »).",
        "Du 20 octobre 2026 au 24 novembre 2026, elle a tenté à 8 reprises d'obtenir un rendez-vous sur ce site, sur "
        "8 jours différents répartis sur 5 semaines, entre 7 h 05 et 18 h 45 (pièces n° 3 à 7).",
        f"Le site affichait : « {NOSLOT_TEXT} » (pièces n° 3 à 7).",
        "le 12 novembre 2026, par lettre recommandée avec avis de réception n° 1A 111 222 333 4, reçue par la "
        f"préfecture le 16 novembre 2026, ayant pour objet « {LRAR_SUBJECT} » (pièce n° 8) — sans réponse à ce jour, "
        "17 jours après sa réception",
        f"le 19 novembre 2026, par courriel, ayant pour objet « {EMAIL_SUBJECT} » (pièce n° 9) — réponse du 27 novembre 2026",
        f"le 27 novembre 2026, par courrier simple, objet « {ANSWER_SUBJECT} » (pièce n° 10)",
        f"le 20 novembre 2026, appel téléphonique à la préfecture : {CALL}",
        f"le 24 novembre 2026, passage au guichet de la préfecture : {VISIT}",
        # the law: REFERENCE §1, and only it
        "Le préfet du Val-d'Oise a son siège dans le ressort du tribunal administratif de Cergy-Pontoise (articles "
        "R. 312-1 et R. 221-3 du code de justice administrative).",
        "La mesure demandée ne peut être obtenue par les voies des articles L. 521-1 et L. 521-2 du code de justice "
        "administrative : la requérante ne demande la suspension d'aucune décision",
        "Le titre de séjour de Mme Awa Traoré expire le 15 décembre 2026, dans 12 jours.",
        "elle ne peut déposer sa demande et se trouve exposée à la perte de son droit au séjour",
        "S'agissant du renouvellement d'un titre de séjour, le Conseil d'État juge que l'urgence est « en principe "
        "constatée » (CE, 9 juin 2022, n° 453391).",
        "ne fait pas partie des demandes présentées au moyen du téléservice de l'administration numérique des "
        "étrangers en France (article R. 431-2 du code de l'entrée et du séjour des étrangers et du droit d'asile) : "
        "la demande est présentée en personne à la préfecture (article R. 431-3 du même code)",
        "dans un « délai raisonnable » (CE, avis, 1er juillet 2020, n° 436288)",
        "« malgré plusieurs tentatives n'ayant pas été effectuées la même semaine » (CE, 10 juin 2020, n° 435594)",
        "quatre captures d'écran, une lettre recommandée et un courriel, tous compris entre le 13 et le 18 septembre "
        "2019, soit un « temps court de quelques jours »",
        "En l'espèce, Mme Awa Traoré produit 8 tentatives infructueuses, réparties sur 36 jours du 20 octobre 2026 au "
        "24 novembre 2026, 8 jours différents et 5 semaines distinctes, 5 jours de la semaine différents, entre 7 h 05 "
        "et 18 h 45 (pièces n° 3 à 7), ainsi que 2 demandes écrites à la préfecture.",
        "des captures d'écran qui ne portent pas le nom de la requérante peuvent établir l'impossibilité d'obtenir "
        "un rendez-vous (CE, 21 avril 2021, n° 448178).",
        "Mme Awa Traoré déclare ne faire l'objet d'aucune obligation de quitter le territoire français et ne s'être "
        "vu opposer aucun refus de titre de séjour.",
        "d'enjoindre au préfet du Val-d'Oise de lui fixer, dans un délai de 15 jours",
        "Fait à Cergy, le 3 décembre 2026",
    ):
        assert expected in whole, expected
    # 448178 for anonymity only: the date and time printed in the image are our practice, not the CE's.
    assert re.search(r"448178\)\. Chaque capture produite porte en outre", whole)
    assert "aide juridictionnelle" not in whole and "L. 761-1" not in whole
    assert all(LAWYER_WATERMARK in page for page in pages(draft.pdf))


def test_the_bordereau_is_the_inventory_and_quotations_are_the_letters_subjects(complete, cli):
    draft = requete(complete)
    assert listed_pieces(draft.pdf) == planned_pieces(complete)
    assert listed_pieces(draft.pdf)[7:] == [
        (8, "Courrier envoyé le 12 novembre 2026, LRAR"),
        (9, "Courrier envoyé le 19 novembre 2026, courriel"),
        (10, "Réponse reçue le 27 novembre 2026, courrier simple"),
        (11, "Annexe technique, méthode d'enregistrement et de vérification"),
    ]
    whole = text(draft.pdf)
    letters = json.loads(cli("letter", "list", CASE, "--json", home=complete.home).out)
    for letter, piece in zip(letters, (8, 9, 10), strict=True):
        assert f"« {letter['subject']} » (pièce n° {piece})" in whole


def test_counsel_version_with_legal_aid_and_costs(complete):
    whole = text(requete(complete, COUNSEL).pdf)
    for expected in (
        "numéro d'étranger 7501234567, représentée par Me Marie Martin, avocat au barreau du Val-d'Oise.",
        "de l'admettre au bénéfice de l'aide juridictionnelle à titre provisoire, en application de l'article 20 de "
        "la loi n° 91-647 du 10 juillet 1991 ;",
        "de mettre à la charge de l'État la somme de 1500 euros à verser à Me Marie Martin en application des articles "
        "L. 761-1 du code de justice administrative et 37 de la loi n° 91-647 du 10 juillet 1991.",
        "Le 3 décembre 2026 Me Marie Martin BORDEREAU DES PIÈCES",
    ):
        assert expected in whole, expected
    alone = text(requete(complete, DraftOptions(costs=800)).pdf)
    assert "la somme de 800 euros en application de l'article L. 761-1 du code de justice administrative." in alone
    assert "représenté" not in alone and "37 de la loi" not in alone


def test_first_application_oqtf_refusal_and_anef_are_left_to_a_person(tmp_path):
    workspace = workspace_with(
        tmp_path, replace(IDENTITY, civility="M.", application="premiere", on_anef=True, oqtf=True, refusal=True)
    )
    draft = requete(workspace)
    whole = text(draft.pdf)
    assert [b.key for b in draft.blanks] == ["slots", "oqtf", "anef_reason", "refusal"]
    assert set(find_blanks(whole)) == {b.what for b in draft.blanks}
    assert "POUR M. Awa Traoré, né le 14 mars 1990" in whole
    assert "en principe constatée" not in whole and "déclare ne faire l'objet" not in whole
    assert "La demande relève du téléservice de l'administration numérique des étrangers en France (article R. 431-2" in whole
    assert "suppose qu'une « solution de substitution » soit offerte (CE, 3 juin 2022, n° 452798)" in whole
    assert any("obligation de quitter le territoire : sans exécution, l'urgence n'est pas reconnue" in w for w in draft.warnings)
    assert any("refus de titre" in w for w in draft.warnings)

    set_applicant(workspace, CASE, replace(IDENTITY, civility="M.", application="premiere", oqtf=False, refusal=False))
    first = requete(workspace)
    assert [b.key for b in first.blanks] == ["slots", "circumstances"]
    assert "l'urgence suppose des « circonstances particulières » (CE, 9 juin 2022, n° 453391)" in text(first.pdf)

    set_applicant(workspace, CASE, replace(IDENTITY, application=None, on_anef=None, oqtf=None, refusal=False))
    unknown = requete(workspace)
    # The case's procedure says « Renouvellement »: the kind of application is read from it.
    assert [b.key for b in unknown.blanks] == ["slots", "anef", "declarations"]
    assert "en principe constatée" in text(unknown.pdf)
    workspace.close()


def test_paris_is_the_prefet_de_police(tmp_path):
    workspace = workspace_with(tmp_path, prefecture="Préfecture de police", url="https://pprdv.interieur.gouv.fr/booking/create/1")
    whole = text(requete(workspace).pdf)
    for expected in (
        "du tribunal administratif de Paris", "CONTRE Le préfet de police.",
        "la demande est présentée en personne à la préfecture de police (article R. 431-3 du même code)",
        "d'enjoindre au préfet de police de lui fixer",
        "Le préfet de police a son siège dans le ressort du tribunal administratif de Paris",
    ):
        assert expected in whole, expected
    letter = text(render_draft(workspace, CASE, "demande-rdv").pdf)
    assert "Préfecture de police" in letter
    workspace.close()


def test_an_unknown_departement_is_a_blank_until_given(tmp_path):
    workspace = workspace_with(tmp_path, prefecture=None, url="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/")
    draft = requete(workspace)
    assert [b.key for b in draft.blanks][:2] == ["prefecture", "tribunal"]
    assert draft.blanks[1].how == "preuves applicant set 1 --departement 95 (le département de la préfecture)"
    set_applicant(workspace, CASE, replace(IDENTITY, departement="93"))
    whole = text(requete(workspace).pdf)
    assert "du tribunal administratif de Montreuil" in whole and "CONTRE Le préfet de la Seine-Saint-Denis." in whole
    workspace.close()


def test_attempts_all_in_one_week_are_flagged(tmp_path):
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    workspace.use_clock(SimulatedClock(TODAY))
    make_case(workspace, tmp_path, letters=False, attempts=ATTEMPTS[1:3])  # 2 and 5 November: one week
    draft = requete(workspace)
    assert [b.key for b in draft.blanks] == ["same_week"]
    whole = text(draft.pdf)
    assert "toutes les tentatives datent de la même semaine, ce que le Conseil d'État a jugé insuffisant" in whole
    assert "plus nombreuses et étalées sur une période plus longue" not in whole
    assert draft.blanks[0].how == "preuves plan 1 (tentatives sur plusieurs semaines), puis un nouveau brouillon"
    workspace.close()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--counsel", "Marie Martin"), "l'avocat se désigne par son nom et son barreau : --counsel NOM --bar BARREAU"),
        (("--bar", "Paris"), "l'avocat se désigne par son nom et son barreau : --counsel NOM --bar BARREAU"),
        (("--frais", "0"), "frais invalides : 0 (un montant en euros de 1 à 100000)"),
    ],
)
def test_bad_requete_options(workspace, cli, tmp_path, args, line):
    out = tmp_path / "r.pdf"
    result = cli("letter", "draft", "1", "--kind", "requete-refere", "--out", str(out), *args)
    assert (result.code, result.err.strip()) == (2, f"Erreur : {line}")
    assert not out.exists()


def test_requete_options_are_refused_on_a_letter(workspace, cli, tmp_path):
    result = cli("letter", "draft", "1", "--kind", "relance", "--aide-juridictionnelle")
    assert (result.code, result.err.strip()) == (
        2, "Erreur : --counsel, --bar, --aide-juridictionnelle et --frais ne valent que pour la requête"
    )


@pytest.mark.parametrize(
    ("bar", "phrase"),
    [("Val-d'Oise", "au barreau du Val-d'Oise"), ("Paris", "au barreau de Paris"),
     ("Orléans", "au barreau d'Orléans"), ("de Seine-Saint-Denis", "au barreau de Seine-Saint-Denis")],
)
def test_the_bar_is_named_with_its_article(bar, phrase):
    assert parse_options("Marie Martin", bar, False, None, "requete-refere").counsel.bar_phrase == phrase


def test_chronology_shows_receipts_and_events_and_counts_silence_from_receipt(complete):
    facts = facts_of(complete, CASE)
    rows = [row for week in chronology.weeks(facts) for row in week.rows]
    events = [(row.when, row.event, row.piece) for row in rows if row.style == "event"]
    assert events == [
        ("16/11/2026", "Avis de réception : courrier du 12 novembre 2026 reçu par la préfecture", 8),
        ("20/11/2026", f"Appel téléphonique à la préfecture — {CALL}", None),
        ("24/11/2026", f"Passage au guichet de la préfecture — {VISIT}", None),
    ]
    [lrar] = [row for row in rows if row.event.startswith("Courrier envoyé à la préfecture, lettre recommandée")]
    assert lrar.event == (
        "Courrier envoyé à la préfecture, lettre recommandée avec avis de réception (suivi 1A 111 222 333 4) — "
        f"« {LRAR_SUBJECT} », reçu par la préfecture le 16 novembre 2026. Sans réponse 17 jours après sa réception"
    )
    [pending] = chronology.pending_letters(facts)
    assert (pending.letter.id, pending.days) == (1, 17)


def test_real_workspace_requete(workspace, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        make_case(workspace, tmp_path)
        with pytest.raises(BadInput, match="^--counsel, --bar"):
            parse_options("X", "Paris", False, None, "relance")
        draft = requete(workspace)
        assert LAWYER_WATERMARK in pages(draft.pdf)[0] and "DÉMONSTRATION" not in text(draft.pdf)
