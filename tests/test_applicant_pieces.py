"""The applicant's own pièces: added with the letters' checks and store, listed, withdrawn by a journal entry
(the file stays), verified like every row, erased by a purge, exported — and bad input stores nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from evidence.applicant_pieces import RECORDED, WITHDRAWN
from evidence.applicants import ApplicantFields, set_applicant
from evidence.localtime import PARIS
from evidence.models import ApplicantPiece, Artefact, JournalEntry
from evidence.verify import verify_workspace
from tests.evidence_helpers import (
    add_sample_case,
    drop_triggers,
    pdf_bytes,
    raw_sql,
    record_sample_captures,
    sample_png,
)

pytestmark = pytest.mark.both_databases

CASE = "Dupont"


@pytest.fixture
def case(workspace, cli):
    add_sample_case(workspace, CASE)
    return workspace


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "titre.png").write_bytes(sample_png("TITRE DE SÉJOUR"))
    (folder / "facture.pdf").write_bytes(pdf_bytes())
    (folder / "courriel.eml").write_text("From: a@example.org\nSubject: x\n\nbonjour\n", encoding="utf-8")
    (folder / "texte.txt").write_text("pas un document", encoding="utf-8")
    (folder / "vide.pdf").write_bytes(b"")
    (folder / "abime.pdf").write_bytes(b"%PDF-1.4\n garbage")
    return folder


def counts(workspace) -> tuple[int, int, int]:
    with workspace.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(ApplicantPiece)),
            session.scalar(select(func.count()).select_from(Artefact)),
            session.scalar(select(func.count()).select_from(JournalEntry)),
        )


def add(cli, workspace, path, kind="titre-de-sejour", label="Titre de séjour", *extra):
    return cli("piece", "add", CASE, "--file", str(path), "--kind", kind, "--label", label, *extra, home=workspace.home)


def test_add_stores_the_file_and_journals_the_piece(case, cli, files):
    result = add(cli, case, files / "titre.png", "titre-de-sejour", "Titre de séjour en cours", "--date", "2025-01-21")
    assert result.code == 0, result.err
    assert result.err == "Pièce du demandeur n° 1 enregistrée : titre de séjour, « Titre de séjour en cours ».\n"
    assert result.out == "1\n"
    with case.reading() as session:
        piece = session.scalars(select(ApplicantPiece)).one()
        entry = session.scalars(select(JournalEntry).where(JournalEntry.kind == RECORDED)).one()
        stored = piece.artefacts[0]
        assert (piece.kind, piece.label, piece.piece_date) == ("titre-de-sejour", "Titre de séjour en cours", date(2025, 1, 21))
        assert (stored.kind, stored.media_type, stored.filename) == ("applicant_piece", "image/png", "titre.png")
        data = json.loads(entry.payload)["data"]
        assert data == {"applicant_piece": piece.to_record(), "artefacts": [stored.to_record()]}
        assert data["artefacts"][0]["applicant_piece_id"] == piece.id
    assert case.blobs.read(stored.sha256) == (files / "titre.png").read_bytes()
    assert verify_workspace(case).ok and verify_workspace(case, CASE).ok


def test_list_shows_every_piece_and_json(case, cli, files):
    assert add(cli, case, files / "titre.png").code == 0
    assert add(cli, case, files / "facture.pdf", "domicile", "Facture d'électricité").code == 0
    listed = cli("piece", "list", CASE, "--json", home=case.home)
    assert listed.code == 0
    rows = json.loads(listed.out)
    assert [(row["id"], row["kind"], row["label"], row["withdrawn"]) for row in rows] == [
        (1, "titre-de-sejour", "Titre de séjour", None),
        (2, "domicile", "Facture d'électricité", None),
    ]
    assert rows[1]["file"]["sha256"] == hashlib.sha256((files / "facture.pdf").read_bytes()).hexdigest()
    table = cli("piece", "list", CASE, home=case.home)
    assert table.code == 0 and "Facture" in table.out and "dossier" in table.out


@pytest.mark.parametrize(
    ("name", "kind", "label", "extra", "message"),
    [
        ("titre.png", "passeport", "x", (), "nature de pièce inconnue : 'passeport' (valeurs possibles : titre-de-sejour, "
         "recepisse, identite, domicile, situation, autre)"),
        ("courriel.eml", "autre", "x", (), "{path} : format non reconnu (PDF ou image PNG ou JPEG attendu)"),
        ("texte.txt", "autre", "x", (), "{path} : format non reconnu (PDF, image PNG ou JPEG, ou courriel .eml attendu)"),
        ("vide.pdf", "autre", "x", (), "{path} : fichier vide"),
        ("abime.pdf", "autre", "x", (), "{path} : PDF illisible ou endommagé"),
        ("absent.pdf", "autre", "x", (), "{path} : lecture impossible (fichier ou dossier introuvable)"),
        ("titre.png", "autre", "   ", (), "intitulé de la pièce manquant (option --label)"),
        ("titre.png", "autre", "x" * 121, (), "intitulé : texte trop long, 120 caractères au plus"),
        ("titre.png", "autre", "a\x07b", (), "intitulé : caractère de contrôle interdit"),
        ("titre.png", "autre", "x", ("--date", "2026-13-01"), "date du document invalide : '2026-13-01' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(case, cli, files, name, kind, label, extra, message):
    before = counts(case)
    blobs = sorted(case.blobs.iter_relpaths())
    result = add(cli, case, files / name, kind, label, *extra)
    assert result.code == 2
    assert result.err == f"Erreur : {message.format(path=files / name)}\n"
    assert counts(case) == before and sorted(case.blobs.iter_relpaths()) == blobs


def test_a_future_date_is_refused(case, cli, files):
    tomorrow = (datetime.now(PARIS) + timedelta(days=1)).date()
    result = add(cli, case, files / "titre.png", "titre-de-sejour", "Titre", "--date", tomorrow.isoformat())
    assert result.code == 2
    assert "date dans le futur" in result.err and "--date est la date du document, pas celle de son expiration" in result.err


def test_identity_is_masked_in_the_label_and_file_name(case, cli, files):
    set_applicant(case, CASE, ApplicantFields(full_name="Aminata Traoré", foreigner_number="7501234567"))
    named = files / "passeport_Traoré_7501234567.png"
    named.write_bytes(sample_png("passeport"))
    assert add(cli, case, named, "identite", "Passeport de Aminata Traoré").code == 0
    with case.reading() as session:
        payloads = " ".join(entry.payload for entry in session.scalars(select(JournalEntry)))
    assert "Traoré" not in payloads and "Aminata" not in payloads and "7501234567" not in payloads
    listed = json.loads(cli("piece", "list", CASE, "--json", home=case.home).out)
    assert listed[0]["label"] == "Passeport de ***"
    assert listed[0]["file"]["filename"] == "passeport_***_***.png"


def test_remove_is_a_journal_entry_and_the_file_stays(case, cli, files):
    assert add(cli, case, files / "titre.png").code == 0
    with case.reading() as session:
        recorded = session.scalars(select(JournalEntry).where(JournalEntry.kind == RECORDED)).one()
        sha256 = session.scalars(select(Artefact.sha256)).one()
    removed = cli("piece", "remove", CASE, "1", "--reason", "titre périmé, remplacé", home=case.home)
    assert removed.code == 0, removed.err
    assert removed.err.startswith("Pièce n° 1 retirée du dossier (entrée n° ")
    with case.reading() as session:
        entry = session.scalars(select(JournalEntry).where(JournalEntry.kind == WITHDRAWN)).one()
        assert json.loads(entry.payload)["data"] == {
            "applicant_piece_id": 1, "case_id": 1, "refers_to_seq": recorded.seq, "reason": "titre périmé, remplacé",
        }
        assert session.scalar(select(func.count()).select_from(ApplicantPiece)) == 1
    assert case.blobs.path_for(sha256).is_file()
    listed = json.loads(cli("piece", "list", CASE, "--json", home=case.home).out)
    assert listed[0]["withdrawn"]["reason"] == "titre périmé, remplacé"
    again = cli("piece", "remove", CASE, "1", home=case.home)
    assert again.code == 2 and again.err == f"Erreur : la pièce n° 1 a déjà été retirée (entrée n° {entry.seq} du journal)\n"
    unknown = cli("piece", "remove", CASE, "7", home=case.home)
    assert unknown.code == 2
    assert unknown.err == "Erreur : pièce n° 7 inconnue dans le dossier « Dupont » (voir « preuves piece list »)\n"
    assert verify_workspace(case).ok


def test_a_piece_row_changed_behind_the_tool_is_reported(case, cli, files):
    assert add(cli, case, files / "titre.png").code == 0
    raw_sql(case, *drop_triggers(case, ("applicant_pieces",)), "UPDATE applicant_pieces SET label = 'Faux titre'")
    problems = [f"{p.item} : {p.detail}" for p in verify_workspace(case).problems]
    assert any(p.startswith("pièce du demandeur 1 « Faux titre » : champ « label » modifié") for p in problems), problems


def test_the_table_is_append_only(case, cli, files):
    assert add(cli, case, files / "titre.png").code == 0
    with pytest.raises(Exception, match="append-only"):
        raw_sql(case, "DELETE FROM applicant_pieces")


def test_purge_erases_the_piece_files_and_verify_explains_it(case, cli, files):
    record_sample_captures(case, 1, 1)
    assert add(cli, case, files / "titre.png").code == 0
    with case.reading() as session:
        sha256 = session.scalars(select(Artefact.sha256).where(Artefact.applicant_piece_id.is_not(None))).one()
    assert cli("case", "purge", CASE, "--yes", home=case.home).code == 0
    assert not case.blobs.path_for(sha256).is_file()
    report = verify_workspace(case)
    assert report.ok, report.problems
    assert report.purged_files >= 2


def test_export_holds_the_piece_files(case, cli, files, tmp_path):
    record_sample_captures(case, 1, 2)
    assert add(cli, case, files / "facture.pdf", "domicile", "Facture").code == 0
    archive = tmp_path / "export.zip"
    assert cli("case", "export", CASE, "--out", str(archive), home=case.home).code == 0
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        piece = next(name for name in names if name.startswith("pieces-du-demandeur/"))
        assert opened.read(piece) == (files / "facture.pdf").read_bytes()
        described = json.loads(opened.read("dossier.json"))
    assert described["applicant_pieces"][0]["label"] == "Facture"


def test_a_piece_withdrawn_just_after_midnight_in_paris_is_dated_that_day(case, cli, files):
    """At 00:30 in Paris it is still the day before in UTC: the withdrawal is listed on the Paris day."""
    assert add(cli, case, files / "titre.png").code == 0
    with time_machine.travel(datetime(2026, 12, 8, 0, 30, tzinfo=PARIS), tick=False):
        assert cli("piece", "remove", CASE, "1", "--reason", "remplacé", home=case.home).code == 0
    table = cli("piece", "list", CASE, home=case.home)
    assert table.code == 0 and "08/12/2026" in table.out and "07/12/2026" not in table.out, table.out
