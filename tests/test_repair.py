"""A lost database is said (never a fresh start over old evidence) and rebuilt by `preuves repair`
from the journal's copy and the files, the repair itself journaled; what the journal does not hold
is named, not invented."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, event, make_url, select, text

from capture.plan import PlannedTime, save_plan
from evidence.accounts import add_user
from evidence.applicants import ApplicantFields, set_applicant
from evidence.errors import EvidenceDamaged
from evidence.journal_copy import read_copy
from evidence.events import EventInput, record_event
from evidence.letters import LetterInput, add_proofs, receipt_dates, record_letter, record_receipt
from evidence.models import Applicant, JournalEntry
from evidence.records import NewArtefact, TargetSpec, add_case, add_correction, record_capture
from evidence.repair import REPAIR_KIND, repair_workspace
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from evidence.workspace_paths import DATABASE_URL_ENV
from tests.capture_samples import URL, sample_facts
from tests.evidence_helpers import evidence_rows, pdf_bytes, record_sample_captures, rewrite_journal_from, sample_png

pytestmark = pytest.mark.both_databases

CASE = "2026-014 titre de séjour"


@pytest.fixture
def filled(workspace, tmp_path):
    """Two cases (one of an organisation), captures, a letter with a proof, an identity, a plan,
    a user account and a correction: every kind of row the journal describes."""
    add_user(workspace, "camille", "mot de passe assez long", "Cimade Cergy")
    case, _ = add_case(workspace, CASE, TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise"), organisation="Cimade Cergy")
    other, _ = add_case(workspace, "2026-015", TargetSpec("https://www.essonne.gouv.fr/booking/create/1", "ezbooking"))
    record_sample_captures(workspace, case.target_id, 4, screenshot=sample_png())
    record_sample_captures(workspace, other.target_id, 2)
    letter_file = tmp_path / "lettre.pdf"
    letter_file.write_bytes(pdf_bytes())
    letter = record_letter(workspace, CASE, LetterInput(letter_file, "sent", "lrar", date(2026, 11, 3)))
    proof = tmp_path / "avis.png"
    proof.write_bytes(sample_png("Avis de réception"))
    add_proofs(workspace, CASE, letter.id, [proof])
    set_applicant(workspace, CASE, ApplicantFields("Awa Diallo", date(1990, 1, 2)))
    save_plan(workspace, case.target_id, [PlannedTime(datetime(2030, 1, 7, 9, 30, tzinfo=UTC), "morning", "regular")])
    add_correction(workspace, 4, "Correction : précision.")  # entry 18
    assert verify_workspace(workspace).ok
    workspace.close()
    return workspace.home


def lose_the_database(workspace) -> None:
    """The database file deleted (SQLite), or the database dropped and made again empty (PostgreSQL)."""
    if workspace.engine.dialect.name != "postgresql":
        (workspace.home / "preuves.sqlite3").unlink()
        return
    url = make_url(os.environ[DATABASE_URL_ENV])
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE {url.database} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {url.database}"))
    server.dispose()


def test_a_lost_database_is_said_then_rebuilt_from_the_copy(workspace, filled, cli):
    home = filled
    before = evidence_rows(home)
    lose_the_database(workspace)
    for command in (("verify",), ("status",), ("init",)):
        refused = cli(*command, home=home)
        assert refused.code == 1, (command, refused)
        assert "« preuves repair » reconstruit la base à partir d'elle et des fichiers" in refused.err
    assert not (home / "preuves.sqlite3").exists()  # no empty database left in its place

    repaired = cli("repair", home=home)
    assert repaired.code == 0, repaired
    assert (
        "18 entrées du journal ; pages : 2, dossiers : 2, courriers : 1, tentatives : 6, fichiers : 14, "
        "organisations : 1, dossiers d'une organisation : 1." in repaired.err
    )
    assert "Non reconstruit : l'identité du demandeur (dossier(s) 1), que le journal ne garde pas" in repaired.err
    assert "Non reconstruit(s) : compte(s) camille (le journal n'en garde pas le mot de passe)" in repaired.err
    assert ("Non reconstruits : les plans de tentatives (page(s) n° 1) : établissez-les de nouveau avec "
            "« preuves plan DOSSIER --new ».") in repaired.err
    assert repaired.out.splitlines()[-1].startswith("INTACT — ")
    after = evidence_rows(home)
    assert after["journal"][:-1] == before["journal"]
    assert {**after, "journal": []} == {**before, "journal": []}

    workspace = open_workspace(home)
    try:
        with workspace.reading() as session:
            entry = session.get_one(JournalEntry, after["journal"][-1][0])
            assert session.scalars(select(Applicant)).all() == []
        data = json.loads(entry.payload)["data"]
        assert entry.kind == REPAIR_KIND and data["rebuilt"] == "database" and data["entries"] == len(before["journal"])
        report = verify_workspace(workspace)
        assert report.ok and any("identité du demandeur à saisir de nouveau (dossier(s) 1)" in n for n in report.notes)
        # The rebuilt database takes new evidence under new numbers (PostgreSQL's sequences moved on).
        facts = sample_facts(1, 5, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        capture = record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=b"after the repair")])
        assert capture.id == 7 and capture.artefacts[0].id == 15
        set_applicant(workspace, CASE, ApplicantFields("Awa Diallo", date(1990, 1, 2)))
        assert verify_workspace(workspace).ok
    finally:
        workspace.close()


def test_nothing_to_repair(workspace, filled, cli):
    result = cli("repair", home=filled)
    assert (result.code, result.out) == (0, "Rien à réparer : la base et la copie du journal concordent.\n")


def test_a_lost_copy_is_made_again_from_the_database(workspace, filled, cli):
    home = filled
    workspace.journal_copy.unlink()
    assert cli("verify", home=home).code == 1
    repaired = cli("repair", home=home)
    assert repaired.code == 0, repaired
    assert "Copie du journal refaite à partir de la base (copie absente) : 18 entrées." in repaired.err
    copy = read_copy(workspace.journal_copy)
    assert copy.copied_from_database == 18 and copy.confirmed == 19


def test_entries_never_confirmed_are_named_not_restored(workspace, filled):
    """The database refused a commit after the copy took its entry, then was lost: that entry
    may never have been kept, so it is not restored; the repair names it."""
    home = filled
    workspace = open_workspace(home)

    def refuse(session):
        raise RuntimeError("commit refusé")

    event.listen(workspace.sessions, "before_commit", refuse)
    with pytest.raises(RuntimeError):
        add_correction(workspace, 4, "jamais gardée")
    workspace.close()
    unconfirmed = read_copy(workspace.journal_copy).unconfirmed_entries
    assert [entry.kind for entry in unconfirmed] == ["correction"]
    lose_the_database(workspace)
    result = repair_workspace(home)
    assert result.unconfirmed == 1 and result.entries == 18
    workspace = open_workspace(home)
    try:
        with workspace.reading() as session:
            entry = session.get_one(JournalEntry, 19)
        assert json.loads(entry.payload)["data"]["unconfirmed_entries"] == [
            {"seq": 19, "kind": "correction", "entry_hash": unconfirmed[0].entry_hash}
        ]
        assert verify_workspace(workspace).ok
    finally:
        workspace.close()


def test_a_database_and_a_copy_that_part_are_not_repaired(workspace, filled):
    """Which one was rewritten cannot be told: repair refuses and points to a noted head."""
    home = filled
    rewrite_journal_from(workspace, 18, lambda payload: payload.replace("précision", "autre chose"))
    with pytest.raises(EvidenceDamaged, match="la base et la copie diffèrent à partir de l'entrée n° 18 : l'une a été réécrite"):
        repair_workspace(home)


@pytest.mark.only_database("sqlite", reason="a database file deleted from the workspace folder")
def test_database_and_copy_both_lost_then_init_says_the_journal_is_lost(workspace, filled, cli):
    home = filled
    (home / "preuves.sqlite3").unlink()
    workspace.journal_copy.unlink()
    refused = cli("verify", home=home)
    assert refused.code == 1
    assert refused.err.strip().endswith(
        "a disparu, sans copie du journal : les 9 fichier(s) de preuve du dossier blobs/ n'ont plus de journal "
        "(restaurez la base depuis une sauvegarde)"
    )
    assert cli("init", home=home).code == 0
    checked = cli("verify", home=home)
    assert checked.code == 1
    assert checked.out.splitlines()[0] == (
        "journal : l'espace de travail a été créé à nouveau sur un dossier qui contenait déjà 9 fichier(s) de "
        "preuve : le journal qui les décrivait est perdu (base supprimée ou remplacée)"
    )


def test_receipts_and_events_are_rebuilt(workspace, tmp_path, cli):
    """A letter's receipt and the case's other events (a call, a visit, a referral) are rows the journal
    describes: a repair gives them back, with their files."""
    add_case(workspace, CASE, TargetSpec(URL, "ezbooking", "16161", "Val-d'Oise"))
    letter_file = tmp_path / "lettre.pdf"
    letter_file.write_bytes(pdf_bytes())
    letter = record_letter(workspace, CASE, LetterInput(letter_file, "sent", "lrar", date(2026, 11, 3)))
    receipt = tmp_path / "avis.png"
    receipt.write_bytes(sample_png("Avis de réception"))
    record_receipt(workspace, CASE, letter.id, date(2026, 11, 5), [receipt])
    record_event(workspace, CASE, EventInput("appel", date(2026, 11, 9), "Aucun rendez-vous proposé."))
    assert verify_workspace(workspace).ok
    workspace.close()
    before = evidence_rows(workspace.home)
    assert len(before["case_events"]) == 2
    lose_the_database(workspace)

    assert cli("repair", home=workspace.home).code == 0
    after = evidence_rows(workspace.home)
    assert {**after, "journal": []} == {**before, "journal": []}
    reopened = open_workspace(workspace.home)
    try:
        with reopened.reading() as session:
            assert receipt_dates(session, 1) == {letter.id: date(2026, 11, 5)}
        assert verify_workspace(reopened).ok
    finally:
        reopened.close()
