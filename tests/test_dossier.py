"""The dossier: Télérecours bundle, inventory, review copy, manifest — built from real rows and real
images, read back with pypdf and checked with qpdf."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from capture.attempt import capture_target
from dossier_builder import piece_files
from dossier_builder import pieces as pieces_module
from dossier_builder.build import (
    INVENTORY_NAME,
    JOURNAL_NAME,
    MAX_FILE_BYTES,
    build_dossier,
)
from dossier_builder.facts import facts_of
from dossier_builder.piece_files import synthese_html
from dossier_builder.pieces import plan_pieces
from dossier_builder.review import REVIEW_NAME
from dossier_builder.verify import verify_bundle
from evidence.models import Artefact, JournalEntry, Target
from evidence.records import TargetSpec, add_case, find_case
from evidence.workspace import init_workspace
from tests.dossier_helpers import (
    CASE,
    FILENAME,
    build_sample,
    outline_titles,
    page_texts,
    record_shots,
    three_weeks,
)
from tests.evidence_helpers import URL, add_sample_case


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One demo dossier with 12 captures over 3 weeks, 3 letters and 2 pièces of the applicant, shared by the
    read-only tests."""
    workspace, result = build_sample(tmp_path_factory.mktemp("dossier"))
    yield workspace, result
    workspace.close()


# --- the Télérecours bundle ------------------------------------------------------------------------


def of_kind(result, kind: str) -> list:
    return [entry for entry in result.pieces if entry.piece.kind == kind]


def test_pieces_are_numbered_named_and_sized_for_telerecours(built):
    _, result = built
    names = [entry.path.name for entry in result.pieces]
    assert [int(FILENAME.match(name).group(1)) for name in names] == list(range(1, len(names) + 1))
    assert all(len(name) <= 80 and not set("%&/") & set(name) and name.count(".") == 1 for name in names)
    assert all(entry.path.stat().st_size <= MAX_FILE_BYTES for entry in result.pieces)
    assert [entry.piece.kind for entry in result.pieces] == (
        ["demandeur", "demandeur", "synthese", "chronologie", "captures", "captures", "captures",
         "courrier", "courrier", "courrier", "methode"]
    )
    assert names == [
        "PJ1_Titre_de_sejour_en_cours_de_validite.pdf",  # recorded second: the bundle order is BUNDLE_ORDER's
        "PJ2_Justificatif_de_domicile_facture_d_electricite.pdf",
        "PJ3_Note_de_synthese.pdf",
        "PJ4_Chronologie_des_tentatives_et_des_courriers.pdf",
        "PJ5_Captures_d_ecran_semaine_du_2_au_8_novembre_2026.pdf",
        "PJ6_Captures_d_ecran_semaine_du_9_au_15_novembre_2026.pdf",
        "PJ7_Captures_d_ecran_semaine_du_16_au_22_novembre_2026.pdf",
        "PJ8_Courrier_envoye_le_5_novembre_2026_LRAR.pdf",
        "PJ9_Courrier_envoye_le_16_novembre_2026_courrier_simple.pdf",
        "PJ10_Reponse_recue_le_30_novembre_2026_courriel.pdf",
        "PJ11_Annexe_technique_methode_d_enregistrement_et_de_verification.pdf",
    ]


def test_every_page_has_its_footer_and_the_demo_watermark(built):
    _, result = built
    for entry in result.pieces:
        texts = page_texts(entry.path)
        assert len(texts) == entry.pages
        for number, text in enumerate(texts, start=1):
            assert f"Pièce n° {entry.piece.number} — page {number}/{len(texts)}" in text
            assert "Dossier «\u00a0Dupont\u00a0»" in text  # the guillemets bound to the name (no-break spaces)
            assert "DÉMONSTRATION" in text


def test_page_counts(built):
    _, result = built
    assert [entry.pages for entry in of_kind(result, "captures")] == [4, 4, 4]  # one attempt per page
    letter = of_kind(result, "courrier")[0]  # cover, the letter's own PDF page, then the avis de réception image
    texts = page_texts(letter.path)
    assert letter.pages == len(texts) == 3
    assert "Monsieur le Préfet" in texts[1] and "Courrier — lettre.pdf, page 1/1" in texts[1]
    assert "Preuve d'envoi ou de réception — ar.png" in texts[2]
    answer = page_texts(of_kind(result, "courrier")[2].path)
    assert any("Nous accusons réception de votre demande." in text for text in answer)
    permit, address = of_kind(result, "demandeur")  # an image on its heading's page; a PDF after its heading
    assert (permit.pages, address.pages) == (1, 2)
    assert "Facture EDF, 1 rue de l'Exemple, Cergy" in page_texts(address.path)[1]
    review = PdfReader(result.review)
    assert len(review.pages) == result.review_pages == 1 + sum(entry.pages for entry in result.pieces)


def test_inventory_titles_equal_file_names(built):
    _, result = built
    text = " ".join(page_texts(result.inventory)).replace("\n", "")
    for entry in result.pieces:
        assert entry.path.name.removesuffix(".pdf") in text
    found = [int(n) for n in re.findall(r"PJ(\d+)_", text)]
    assert found == list(range(1, len(result.pieces) + 1))


def test_chronology_shows_letters_answers_and_silence(built):
    _, result = built
    text = " ".join(page_texts(of_kind(result, "chronologie")[0].path)).replace("\n", " ")
    assert "Réponse le 30 novembre 2026, 25 jours plus tard" in text
    assert "Courriers restés sans réponse au 4 décembre 2026" in text
    assert (
        "courrier du 16 novembre 2026 (courrier simple) — pièce n° 9 — sans réponse depuis 18 jours" in text
    )
    assert text.count("Tentative n°") == 12


def test_every_pdf_uses_only_the_shipped_fonts(built):
    """Line breaks and glyphs must not depend on the fonts the machine has (templates/fonts). A letter's
    pièce also holds the letter's own PDF pages, with their own fonts: the pages the tool draws are checked."""
    _, result = built
    drawn = [entry.path for entry in result.pieces if entry.piece.kind != "courrier"] + [result.inventory]
    drawn.remove(of_kind(result, "demandeur")[1].path)  # the applicant's own PDF, with its own fonts
    for path in drawn:
        listed = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
        names = {line.split()[0].split("+")[-1] for line in listed.splitlines()[2:]}
        assert names and all(name.startswith("Preuves-") for name in names), (path.name, names)


def test_every_pdf_passes_qpdf_check(built):
    _, result = built
    for path in sorted(result.directory.glob("*.pdf")):
        check = subprocess.run(["qpdf", "--check", str(path)], check=False, capture_output=True, text=True)
        assert check.returncode == 0, (path.name, check.stdout, check.stderr)


# --- the review copy ---------------------------------------------------------------------------


def test_review_copy_bookmarks_one_level_per_piece_with_its_weeks_and_attempts_beneath(built):
    _, result = built
    reader = PdfReader(result.review)
    marks = outline_titles(reader)
    assert [title for depth, title, _ in marks if depth == 0] == ["Dossier complet"] + [
        f"Pièce n° {entry.piece.number} — {entry.piece.label}" for entry in result.pieces
    ]
    chronology, week = next(i for i, mark in enumerate(marks) if "Chronologie" in mark[1]), "Semaine du 2 au 8 novembre 2026"
    assert marks[chronology + 1][:2] == (1, week)  # the chronology's weeks beneath it
    captures = [i for i, (depth, title, _) in enumerate(marks) if depth == 0 and "Captures" in title]
    for index in captures:  # a week's pièce, its four attempts beneath it
        beneath = [title for _, title, _ in marks[index + 1 : index + 5]]
        assert all(title.startswith("Tentative n°") for title in beneath), beneath
        assert marks[index + 1][0] == 1
    attempts = [(page, title) for _, title, page in marks if title.startswith("Tentative n°")]
    assert len(attempts) == 12
    assert all(
        f"Tentative n° {title.split('n° ')[1].split(' ')[0]}" in reader.pages[page].extract_text()
        for page, title in attempts
    )


def test_review_copy_is_pdfa3b_with_each_attachment_once(built):
    _, result = built
    reader = PdfReader(result.review)
    root = reader.trailer["/Root"]
    assert len(root["/AF"]) == len({ref.idnum for ref in root["/AF"]}) == 2
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in root


def test_attachments_are_byte_identical_to_the_manifest_and_the_store(built):
    workspace, result = built
    attached = {name: data[0] for name, data in PdfReader(result.review).attachments.items()}
    assert attached["manifest.json"] == result.manifest.read_bytes()
    manifest = json.loads(attached["manifest.json"])
    assert hashlib.sha256(attached[JOURNAL_NAME]).hexdigest() == manifest["journal_extract"]["sha256"]
    lines = [json.loads(line) for line in attached[JOURNAL_NAME].decode().splitlines()]
    with workspace.reading() as session:
        stored = {row.seq: row for row in session.scalars(select(JournalEntry))}
        artefacts = {row.id: row for row in session.scalars(select(Artefact))}
    full = [line for line in lines[1:] if "payload" in line]
    assert len(lines) - 1 == len(stored) and len(full) >= 12 + 3
    for line in lines[1:]:
        assert line["entry_hash"] == stored[line["seq"]].entry_hash
    for line in full:
        assert line["payload"] == stored[line["seq"]].payload
    # and the letter, its proof, the e-mail, the relance, and the applicant's two documents
    assert len(manifest["artefacts"]) == 12 * 3 + 4 + 2
    for item in manifest["artefacts"]:
        blob = (workspace.home / artefacts[item["id"]].blob_path).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == item["sha256"] and len(blob) == item["size"]
        assert 1 <= item["piece"] <= 10
    assert [item["piece"] for item in manifest["artefacts"] if "applicant_piece_id" in item] == [1, 2]


def test_manifest_and_sums_cover_the_bundle(built):
    _, result = built
    manifest = json.loads(result.manifest.read_text())
    assert [piece["file"] for piece in manifest["pieces"]] == [entry.path.name for entry in result.pieces]
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], check=False, cwd=result.directory, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout
    listed = {line.split("  ")[1] for line in result.sums.read_text().splitlines()}
    assert listed == {p.name for p in result.directory.iterdir()} - {"SHA256SUMS"}
    assert {INVENTORY_NAME, REVIEW_NAME, "manifest.json"} <= listed


def test_daylight_saving_change_shows_local_times(workspace, tmp_path):
    target_id = add_sample_case(workspace, CASE)
    moments = [
        datetime(2026, 10, 24, 8, 0, tzinfo=UTC),  # samedi 10:00 (UTC+02:00)
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # dimanche 02:30, summer time, before the change
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # dimanche 02:30 again, winter time, after it
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),  # lundi 09:00 (UTC+01:00)
        datetime(2026, 10, 27, 16, 0, tzinfo=UTC),  # mardi 17:00 (UTC+01:00)
    ]
    record_shots(workspace, target_id, moments)
    result = build_dossier(workspace, CASE, tmp_path / "out")
    chronology = " ".join(page_texts(of_kind(result, "chronologie")[0].path)).replace("\n", " ")
    # The week of the change shows each row's offset; the next one says its offset once.
    for expected in [
        "Heure de Paris ; changement d'heure dans la semaine, décalage UTC indiqué à chaque ligne.",
        "24/10/2026 10:00 (UTC+02:00)",
        "25/10/2026 02:30 (UTC+02:00)",
        "25/10/2026 02:30 (UTC+01:00)",
        "Heure de Paris, UTC+01:00.",
    ]:
        assert expected in chronology
    assert "26/10/2026 09:00 J+2" in chronology and "(UTC+01:00) J+2" not in chronology
    weeks = [entry for entry in result.pieces if entry.piece.kind == "captures"]
    assert [entry.piece.week for entry in weeks] == ["2026-W43", "2026-W44"]
    first_week = " ".join(page_texts(weeks[0].path)).replace("\n", " ")
    assert "dimanche 25 octobre 2026 à 02:30:00 (UTC+02:00)" in first_week
    assert "dimanche 25 octobre 2026 à 02:30:00 (UTC+01:00)" in first_week
    facts = facts_of(workspace, CASE)
    assert 'data-weekday="6" data-hour="2" data-count="2"' in synthese_html(facts, facts.pieces[0])
    assert facts.pieces[0].kind == "synthese"


# --- planning the pièces -----------------------------------------------------------------------------


def test_busy_week_splits_into_even_parts_and_the_plan_is_stable(workspace, monkeypatch):
    monkeypatch.setattr(pieces_module, "MAX_CAPTURES_PER_PIECE", 3)
    target_id = add_sample_case(workspace, CASE)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    record_shots(workspace, target_id, [start + timedelta(hours=9 * n) for n in range(7)])
    with workspace.reading() as session:
        case = find_case(session, CASE)
        plan = plan_pieces(session, case)
        assert plan == plan_pieces(session, case)
        only_tuesday = plan_pieces(session, case, date(2026, 11, 3), date(2026, 11, 3))
    parts = [piece for piece in plan if piece.kind == "captures"]
    assert [len(piece.capture_ids) for piece in parts] == [2, 3, 2]
    assert [piece.label for piece in parts] == [
        "Captures d'écran du 2 novembre 2026, partie 1 sur 3",
        "Captures d'écran du 3 novembre 2026, partie 2 sur 3",
        "Captures d'écran du 4 novembre 2026, partie 3 sur 3",
    ]
    assert len({piece.filename for piece in plan}) == len(plan)
    assert [len(piece.capture_ids) for piece in only_tuesday if piece.kind == "captures"] == [3]


# --- the command line and verification ------------------------------------------------------------


def test_case_without_capture_is_refused(cli, tmp_path):
    assert cli("init").code == 0
    assert cli("case", "add", CASE, "--url", URL).code == 0
    result = cli("dossier", CASE, "--out", str(tmp_path / "out"))
    assert result.code == 2
    assert result.err == "Erreur : aucune capture pour le dossier « Dupont » sur la période choisie\n"
    assert not (tmp_path / "out").exists()


def test_command_builds_and_verify_finds_tampering(cli, tmp_path):
    assert cli("init").code == 0
    workspace, _ = init_workspace(tmp_path / "ws")
    target_id = add_sample_case(workspace, CASE)
    record_shots(workspace, target_id, three_weeks()[:4])
    out = tmp_path / "out"
    result = cli("dossier", CASE, "--out", str(out), "--from", "2026-11-02", "--to", "03/11/2026")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "PJ1_Note_de_synthese.pdf",
        "PJ2_Chronologie_des_tentatives_et_des_courriers.pdf",
        "PJ3_Captures_d_ecran_semaine_du_2_au_8_novembre_2026.pdf",
        "PJ4_Annexe_technique_methode_d_enregistrement_et_de_verification.pdf",
    ]
    assert PdfReader(out / result.out.splitlines()[2]).get_num_pages() == 3
    intact = verify_bundle(workspace, out)
    assert intact.ok and (intact.files_checked, intact.artefacts_checked) == (7, 9)
    assert intact.entries_checked == intact.to_json()["entries_checked"] > 3
    again = cli("dossier", CASE, "--out", str(out))
    assert again.code == 2 and "n'est pas vide" in again.err

    piece = out / "PJ1_Note_de_synthese.pdf"
    piece.write_bytes(piece.read_bytes() + b"\n")
    with workspace.reading() as session:
        shot = session.scalars(select(Artefact).where(Artefact.kind == "screenshot")).first()
    blob = workspace.home / shot.blob_path
    blob.chmod(0o600)
    blob.write_bytes(b"forged")
    report = verify_bundle(workspace, out)
    assert [problem.line() for problem in report.problems] == [
        "PJ1_Note_de_synthese.pdf : fichier modifié (son empreinte a changé)",
        (
            f"fichier n° {shot.id} (capture d'écran brute, 2026-11-02T07:15:00+00:00) : le fichier du dépôt a été modifié "
            f"[{shot.blob_path}]"
        ),
    ]
    workspace.close()


def test_heavy_screenshots_get_lighter_copies_not_new_pieces(workspace, tmp_path, monkeypatch):
    target_id = add_sample_case(workspace, CASE)
    record_shots(workspace, target_id, three_weeks()[:2])
    monkeypatch.setattr(piece_files, "IMAGE_BUDGET", 1)  # every step too heavy: the lightest is kept
    result = build_dossier(workspace, CASE, tmp_path / "out")
    assert [entry.piece.kind for entry in result.pieces] == ["synthese", "chronologie", "captures", "methode"]
    reader = PdfReader(result.pieces[2].path)
    images = {image.name: image.image for page in reader.pages for image in page.images}
    assert [image.width for image in images.values()] == [900, 900]


def test_damaged_screenshot_stops_the_build_and_leaves_no_bundle(cli, tmp_path):
    assert cli("init").code == 0
    workspace, _ = init_workspace(tmp_path / "ws")
    target_id = add_sample_case(workspace, CASE)
    record_shots(workspace, target_id, three_weeks()[:2])
    with workspace.reading() as session:
        shown = session.scalars(select(Artefact).where(Artefact.kind == "screenshot_annotated")).first()
    blob = workspace.home / shown.blob_path
    blob.chmod(0o600)
    blob.write_bytes(b"not an image")
    workspace.close()
    result = cli("dossier", CASE, "--out", str(tmp_path / "out"), "--no-attempt-first")
    assert result.code == 1
    assert result.err.splitlines()[-1] + "\n" == (
        f"Erreur : tentative n° 1 : capture d'écran illisible [{shown.blob_path}] (UnidentifiedImageError) ; "
        "lancez « preuves verify »\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.browser
def test_real_screenshots_are_embedded_as_jpeg(workspace, site, browser, fast_settings, tmp_path):
    case, _ = add_case(
        workspace, CASE, TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162")
    )
    with workspace.reading() as session:
        target = session.get(Target, case.target_id)
    for mode in ("noslot", "captcha"):
        site.mode = mode
        capture_target(workspace, target, browser, fast_settings)
    result = build_dossier(workspace, CASE, tmp_path / "out")
    reader = PdfReader(of_kind(result, "captures")[0].path)
    assert len(reader.pages) == 2
    images = {image.name: image.image for page in reader.pages for image in page.images}
    # The annotated screenshots: as wide as the viewport, taller than it by their banner, whose height depends on the
    # capture's time (after midnight in Paris, the UTC date is written out too and the line wraps).
    width, height = fast_settings.viewport
    screenshots = {name for name, image in images.items() if image.size[0] == width and image.size[1] > height}
    assert len(screenshots) == 2 and all(images[name].format == "JPEG" for name in screenshots)
    # The rest are the decisive text's enlarged crops, one per page: never a second full-size copy.
    insets = [image for name, image in images.items() if name not in screenshots]
    assert len(insets) <= 2 and all(image.size[0] < width and image.size[1] < height for image in insets)
    assert verify_bundle(workspace, result.directory).ok
