"""What the bundle says, read back from the PDFs: the applicant's pièces in the inventory, the note's conclusion,
urgency, freshness and server time, a fingerprint of its own per attempt, the labels and the inset of each
capture page, the technical annex, French words and glyphs throughout."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dossier_builder.facts import facts_of
from dossier_builder.piece_files import synthese_html
from dossier_builder.render import paris_long
from dossier_builder.verify import verify_bundle
from evidence.localtime import PARIS
from evidence.models import JournalEntry
from tests.dossier_helpers import (
    CASE,
    COUNTER_LABEL,
    PROCEDURE_LABEL,
    STATES,
    announced_release,
    build_sample,
    decisive_box,
    page_texts,
    three_weeks,
)

REPLACEMENT_GLYPHS = ("\ufffd", "\u25a1", "\u2610")  # what a font without the glyph shows instead


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    workspace, result = build_sample(tmp_path_factory.mktemp("note"))
    yield workspace, result
    workspace.close()


def text_of(path) -> str:
    """The text of a PDF, its whitespace (line breaks of the layout) made single spaces."""
    return " ".join(" ".join(page_texts(path)).split())


def piece_of(result, kind: str, index: int = 0):
    return [entry for entry in result.pieces if entry.piece.kind == kind][index]


def capture_pages(result) -> list[str]:
    return [
        " ".join(text.split())
        for entry in result.pieces
        if entry.piece.kind == "captures"
        for text in page_texts(entry.path)
    ]


# --- the applicant's pièces ------------------------------------------------------------------------


def test_applicant_pieces_are_numbered_first_and_in_the_inventory(built):
    _, result = built
    inventory = text_of(result.inventory).replace(" ", "")
    for number, label in ((1, "Titre de séjour en cours de validité"), (2, "Justificatif de domicile, facture d'électricité")):
        entry = result.pieces[number - 1]
        assert (entry.piece.number, entry.piece.label, entry.piece.kind) == (number, label, "demandeur")
        assert entry.path.name.removesuffix(".pdf") in inventory
        assert label.replace(" ", "") in inventory
        assert label.upper() in text_of(entry.path)  # the title, never hyphenated
    permit = text_of(piece_of(result, "demandeur").path)
    assert "Date d'expiration 20 janvier 2027" in permit and "Date du document 21 janvier 2025" in permit


def test_the_bundle_with_applicant_pieces_verifies(built):
    workspace, result = built
    report = verify_bundle(workspace, result.directory)
    assert report.ok, report.problems
    assert report.artefacts_checked == 12 * 3 + 4 + 2  # the captures', the letters' and the applicant's files


# --- the note --------------------------------------------------------------------------------------


def test_the_note_opens_with_the_conclusion_equal_to_the_counts(built):
    _, result = built
    counts = Counter(STATES[n % len(STATES)] for n in range(1, 13))
    assert counts == {"noslot": 6, "captcha": 2, "error": 2, "slots": 2}
    expected = (
        f"Sur les 12 tentatives faites du 2 au 20 novembre 2026, {counts['slots']} ont trouvé des créneaux proposés ; "
        f"les {12 - counts['slots']} autres n'ont permis d'obtenir aucun créneau ({counts['noslot']} ont montré qu'aucun "
        f"créneau n'était libre, {counts['captcha']} se sont arrêtées au captcha, {counts['error']} se sont heurtées à "
        "une erreur du site)."
    )
    note = text_of(piece_of(result, "synthese").path)
    assert expected in note
    assert note.index(expected) < note.index("1. L'affaire")
    assert (
        "Elles ont été faites sur 11 jours différents, réparties sur 3 semaines, du lundi au vendredi, "
        "de 8 h 15 à 19 h 15 (heure de Paris)." in note
    )
    assert "1 réponse reçue" in note and "0 réponses" not in note and "sur 24" not in note and "sur 7" not in note


def test_the_note_states_the_urgency(built):
    _, result = built
    note = text_of(piece_of(result, "synthese").path)
    assert "Le titre de séjour du demandeur expire le 20 janvier 2027, dans 47 jours." in note
    assert "Expiration du titre de séjour 20 janvier 2027 (pièce n° 1)" in note
    assert "Délai restant au 4 décembre 2026 dans 47 jours" in note


def test_the_note_says_the_last_attempt_is_old(built):
    _, result = built
    note = text_of(piece_of(result, "synthese").path)
    assert (
        "La dernière tentative date du 20/11/2026 19:15:00 (UTC+01:00), soit 13 jours avant l'établissement "
        "de ce dossier." in note
    )


def test_the_note_gives_the_largest_server_clock_gap(built):
    _, result = built
    note = text_of(piece_of(result, "synthese").path)
    assert (
        "Relevée à chaque tentative, l'heure du serveur ne s'écarte pas de plus d'une seconde de celle de "
        "l'ordinateur" in note
    )
    assert "Heure de l'ordinateur." not in note  # the warning, beyond one minute only


def test_the_note_speaks_plainly_and_the_method_is_an_annex(built):
    _, result = built
    note = text_of(piece_of(result, "synthese").path)
    annex = piece_of(result, "methode")
    for jargon in ("HAR", "MHTML", "DOM", "preuves verify", "SHA-256"):
        assert jargon not in note, jargon
    assert f"l'annexe technique (pièce n° {annex.piece.number})" in note
    method = text_of(annex.path)
    assert "Journal réseau (HAR)" in method and "Archive MHTML" in method and "preuves verify --dossier" in method
    assert (
        "la même empreinte SHA-256 de capture sur plusieurs tentatives est elle-même la preuve que le site a "
        "présenté exactement la même page" in method
    )
    assert "Guichet choisi « Calendrier guichets 1, 2, 3 et 4 », tel qu'affiché par le site (numéro interne 16161)" in note
    assert "Note établie le vendredi 4 décembre 2026 à 10:00:00 (UTC+01:00)" in note


def test_heatmap_counts_equal_capture_counts(built):
    workspace, _ = built
    facts = facts_of(workspace, CASE)
    html = synthese_html(facts, next(piece for piece in facts.pieces if piece.kind == "synthese"))
    cells = {
        (int(day), int(hour)): int(count)
        for day, hour, count in re.findall(r'data-weekday="(\d)" data-hour="(\d+)" data-count="(\d+)"', html)
    }
    assert len(cells) == 7 * 24
    local = [moment.astimezone(PARIS) for moment in three_weeks()]
    assert cells == {key: Counter((m.weekday(), m.hour) for m in local)[key] for key in cells}
    assert sum(cells.values()) == 12


# --- the capture pages --------------------------------------------------------------------------------


def test_each_attempt_shows_a_fingerprint_of_its_own_beside_the_raw_hash(built):
    workspace, result = built
    pages = capture_pages(result)
    assert len(pages) == 12
    own = [re.search(r"Empreinte propre, entrée n° (\d+) ([0-9a-f]{64})", page) for page in pages]
    raw = [re.search(r"SHA-256 de l'original \(PNG\) ([0-9a-f]{64})", page).group(1) for page in pages]
    assert len({match.group(2) for match in own}) == 12  # no two attempts share the fingerprint shown for them
    assert len(set(raw)) < 12  # while an unchanged page gives the same raw screenshot
    with workspace.reading() as session:
        stored = {row.seq: row.entry_hash for row in session.scalars(select(JournalEntry))}
    assert all(stored[int(match.group(1))] == match.group(2) for match in own)
    chronology = text_of(piece_of(result, "chronologie").path)
    assert all(match.group(2)[:12] in chronology for match in own)
    assert "Date et heure Jour Événement Résultat Pièce Empreinte" in chronology


def test_each_attempt_shows_the_server_time_and_the_gap(built):
    _, result = built
    for page, moment in zip(capture_pages(result), three_weeks(), strict=True):
        local = moment.astimezone(PARIS)
        assert "Heure du serveur (préfecture)" in page
        assert f"{local:%H:%M}:00 (UTC+01:00) — écart : moins d'une seconde" in page


def test_each_attempt_shows_the_labels_and_an_inset_of_the_decisive_text(built):
    _, result = built
    x, y, width, height = decisive_box()
    for page in capture_pages(result):
        assert f"Guichet choisi, tel qu'affiché « {COUNTER_LABEL} »" in page
        assert f"Démarche affichée par le site « {PROCEDURE_LABEL} »" in page
        assert (
            "Agrandissement du texte déterminant, découpé dans la capture d'origine (1366 × 768 pixels) : "
            f"rectangle de {width + 16} × {height + 16} pixels dont le coin supérieur gauche est à "
            f"x = {x - 8}, y = {y - 8}." in page
        )
    reader = PdfReader(piece_of(result, "captures").path)
    first = sorted((image.image.size for image in reader.pages[0].images), key=lambda size: size[1])
    assert first[0] == (width + 16, height + 16)  # the inset, cut at the printed rectangle


def test_each_attempt_shows_an_announced_publication_and_a_block_reference(built):
    _, result = built
    for n, (page, moment) in enumerate(zip(capture_pages(result), three_weeks(), strict=True), start=1):
        state = STATES[n % len(STATES)]
        release = f"Prochaine mise en ligne annoncée par le site {paris_long(announced_release(moment))}"
        block = f"Référence de la page de blocage 8c1f{n:04d}ab92d4e7f1 (identifiant de la requête bloquée"
        assert (release in page, block in page) == (state == "noslot", state == "error"), page


# --- words and glyphs ---------------------------------------------------------------------------------


def test_no_replacement_glyph_in_any_drawn_pdf(built):
    workspace, result = built
    drawn = [entry.path for entry in result.pieces] + [result.inventory, result.review]
    for path in drawn:
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        assert not any(glyph in text for glyph in REPLACEMENT_GLYPHS), path.name
    inventory = subprocess.run(["pdftotext", str(result.inventory), "-"], check=True, capture_output=True, text=True).stdout
    head = facts_of(workspace, CASE).journal_head.entry_hash
    assert head in "".join(inventory.split())  # a hash cut at the end of a line gets no hyphen
    inventory = " ".join(inventory.split())
    assert "Inventaire des pièces" in inventory and "Titre de séjour en cours de validité" in inventory
    assert "Réponse reçue le 30 novembre 2026," in inventory


def test_an_email_date_is_printed_in_french(built):
    _, result = built
    answer = text_of(piece_of(result, "courrier", 2).path)
    assert "Date lundi 30 novembre 2026 à 10:00:00 (UTC+01:00)" in answer
    assert "Mon, 30 Nov" not in answer


def test_titles_are_never_hyphenated(built):
    _, result = built
    for entry in result.pieces:
        first_page = " ".join(page_texts(entry.path)[0].split())
        title = {"synthese": "NOTE DE SYNTHÈSE", "chronologie": "CHRONOLOGIE", "methode": "ANNEXE TECHNIQUE"}.get(
            entry.piece.kind, entry.piece.label.upper()
        )
        assert title in first_page, (entry.path.name, first_page[:200])
