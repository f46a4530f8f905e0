"""Crypto-shredding: a case's personal text is sealed with its own key, and a purge destroys the key.

The acceptance test of issue 15: after `case purge`, no personal string of the case is found by a byte
search of every file of the workspace (database, its write-ahead log and free pages, the journal's copy,
the keys), and `verify` still exits 0.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from evidence import journal
from evidence.applicant_pieces import PieceInput, record_piece
from evidence.applicants import ApplicantFields, set_applicant
from evidence.events import EventInput, record_event
from evidence.letters import LetterInput, record_letter
from evidence.models import ApplicantPiece, Artefact, Base, Case, CaseEvent, JournalEntry, Letter, Target
from evidence.records import TargetSpec, add_case
from evidence.repair import repair_workspace
from evidence.sealing import ERASED, KEYS_DIR
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from tests.evidence_helpers import raw_sql, sample_png
from tests.test_repair import lose_the_database
from tests.web_client import Client
from tests.web_helpers import dashboard

pytestmark = pytest.mark.both_databases

URL = "https://www.val-doise.gouv.fr/booking/create/11343"
PREFECTURE = "pref-etrangers@val-doise.gouv.fr"
# One string for each personal field; none of them is the applicant's name (letters mask that one).
LABEL = "Dossier Kouyaté Moussa"
NOTES = "Suivi par son voisin Ousmane Diakité"
SUBJECT = "Relance pour Fatoumata Sangaré"
SENDER = f"Clarisse Fontaine <{PREFECTURE}>"
RECIPIENT = f"Bureau Mariam Doumbia <{PREFECTURE}>"
LETTER_FILE = "courrier-Sissoko.png"
PROOF_FILE = "preuve-depot-Keita.png"
ATTACHMENT_FILE = "convocation-Dembele.pdf"
OUTCOME = "Refus oral de M. Coulibaly au guichet"
PIECE_LABEL = "Passeport de Awa Camara"
PIECE_FILE = "passeport-Camara.png"
IDENTITY = ApplicantFields(full_name="Aminata Traoré", birth_place="Tombouctou", nationality="malienne",
                           postal_address="12 rue des Lilas\n95000 Cergy", foreigner_number="7501234567")
PERSONAL = (LABEL, NOTES, SUBJECT, "Clarisse Fontaine", "Mariam Doumbia", LETTER_FILE, PROOF_FILE, ATTACHMENT_FILE,
            OUTCOME, PIECE_LABEL, PIECE_FILE, "Aminata Traoré", "Tombouctou", "12 rue des Lilas", "7501234567")


def write_eml(path: Path, *, sender: str, to: str, subject: str, attachment: tuple[str, bytes] | None = None) -> Path:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = format_datetime(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    message.set_content("Madame, Monsieur,\nje sollicite un rendez-vous.")
    if attachment is not None:
        message.add_attachment(attachment[1], maintype="image", subtype="png", filename=attachment[0])
    path.write_bytes(bytes(message))
    return path


@pytest.fixture
def personal_case(workspace, tmp_path) -> int:
    """A case with every kind of personal text, and another case that must keep its own."""
    case, _ = add_case(workspace, LABEL, TargetSpec(URL, "ezbooking", "16161"), notes=NOTES)
    add_case(workspace, "Autre dossier", TargetSpec(URL, "ezbooking", "16161"), notes="Rien à effacer ici")
    set_applicant(workspace, LABEL, IDENTITY)
    files = tmp_path / "fichiers"
    files.mkdir()
    (files / LETTER_FILE).write_bytes(sample_png("Courrier"))
    (files / PROOF_FILE).write_bytes(sample_png("Preuve de dépôt"))
    (files / PIECE_FILE).write_bytes(sample_png("Passeport"))
    record_letter(workspace, LABEL, LetterInput(files / LETTER_FILE, "sent", "lrar", date(2026, 11, 3), subject=SUBJECT,
                                                proofs=(files / PROOF_FILE,)))
    received = write_eml(files / "reponse.eml", sender=SENDER, to="moussa@example.org", subject=SUBJECT,
                         attachment=(ATTACHMENT_FILE, sample_png("Convocation")))
    record_letter(workspace, LABEL, LetterInput(received, "received", "email"))
    sent = write_eml(files / "envoi.eml", sender="moussa@example.org", to=RECIPIENT, subject="Demande de rendez-vous")
    record_letter(workspace, LABEL, LetterInput(sent, "sent", "email"))
    record_event(workspace, LABEL, EventInput("appel", date(2026, 11, 20), OUTCOME))
    record_piece(workspace, LABEL, PieceInput(files / PIECE_FILE, "identite", PIECE_LABEL))
    return case.id


def files_holding(root: Path, text: str) -> list[str]:
    needle = text.encode("utf-8")
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file() and needle in path.read_bytes())


def database_text(workspace) -> str:
    """Every value of every table as the database holds it (no column type opens anything), as text."""
    with workspace.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row)) for name in sorted(Base.metadata.tables)
            for row in connection.exec_driver_sql(f"SELECT * FROM {name}")
        )


def test_the_journal_and_its_copy_hold_only_sealed_text(workspace, personal_case):
    with workspace.reading() as session:
        payloads = "\n".join(session.scalars(select(JournalEntry.payload)))
        case = session.get_one(Case, personal_case)
        assert (case.label, case.notes) == (LABEL, NOTES)  # read back in clear while the key is there
        subjects = set(session.scalars(select(Letter.subject).where(Letter.case_id == personal_case)))
    assert SUBJECT in subjects
    copy = workspace.journal_copy.read_text(encoding="utf-8")
    for text in PERSONAL:
        assert text not in payloads and text not in copy, text
    assert "Rien à effacer ici" not in copy  # the other case is sealed too, with its own key
    assert len(list((workspace.home / KEYS_DIR).iterdir())) == 2


def test_purge_leaves_no_personal_string_in_any_file(workspace, personal_case, cli):
    if workspace.engine.dialect.name == "sqlite":
        assert any(files_holding(workspace.home, text) for text in PERSONAL)  # the search finds what is there
    # A dossier the dashboard built and nobody downloaded yet (preuves/web/exports.py names it so), and another
    # case's, which stays.
    exports = workspace.home / "exports"
    exports.mkdir(mode=0o700)
    (exports / f"dossier-{personal_case}-20261201-101500-x1.zip").write_bytes(LABEL.encode("utf-8"))
    (exports / f"dossier-{personal_case + 1}-20261201-101500-x2.zip").write_bytes(b"Autre dossier")
    before = database_text(workspace)
    assert IDENTITY.full_name in before and LABEL not in before  # the identity is a row; the label is sealed
    result = cli("case", "purge", LABEL, "--yes", home=workspace.home)
    assert result.code == 0, result.err
    assert "clé" in result.err
    for text in PERSONAL:
        assert files_holding(workspace.home, text) == [], text
    # What a dump of the database would hold (on PostgreSQL, the database's files are the server's).
    dumped = database_text(workspace)
    assert [text for text in PERSONAL if text in dumped] == []
    assert [path.name for path in exports.iterdir()] == [f"dossier-{personal_case + 1}-20261201-101500-x2.zip"]
    assert cli("verify", home=workspace.home).code == 0
    report = verify_workspace(workspace)
    assert report.ok and report.problems == []
    with workspace.reading() as session:
        other = session.scalars(select(Case).where(Case.id != personal_case)).one()
        assert (other.label, other.notes) == ("Autre dossier", "Rien à effacer ici")


def test_after_a_purge_the_case_text_reads_erased_everywhere(workspace, personal_case, cli):
    assert cli("case", "purge", str(personal_case), "--yes", home=workspace.home).code == 0
    with workspace.reading() as session:
        case = session.get_one(Case, personal_case)
        assert (case.label, case.notes) == (ERASED, ERASED)
        letters = session.scalars(select(Letter).where(Letter.case_id == personal_case)).all()
        assert {(letter.subject, letter.sender, letter.recipient) for letter in letters} == {
            (ERASED, None, None), (ERASED, ERASED, None), (ERASED, None, ERASED)}
        names = session.scalars(select(Artefact.filename).join(Letter).where(Letter.case_id == personal_case))
        assert set(names) == {ERASED}
        assert session.scalars(select(CaseEvent.outcome)).one() == ERASED
        assert session.scalars(select(ApplicantPiece.label)).one() == ERASED
    listed = json.loads(cli("case", "list", "--json", home=workspace.home).out)
    assert [case["label"] for case in listed] == [ERASED, "Autre dossier"]
    # The erased label names no case any more: the number does.
    assert cli("case", "show", ERASED, home=workspace.home).code == 2
    assert cli("case", "show", str(personal_case), home=workspace.home).code == 0


def test_a_label_is_found_and_kept_unique_through_its_seal(workspace):
    add_case(workspace, LABEL, TargetSpec(URL, "ezbooking", "16161"))
    with pytest.raises(Exception, match="existe déjà"):
        add_case(workspace, LABEL, TargetSpec(URL, "ezbooking", "16161"))


def test_a_lost_or_replaced_key_is_reported_not_taken_for_a_purge(workspace, personal_case):
    with workspace.reading() as session:
        key_id = session.get_one(Case, personal_case).label.stored.split(":")[1]
    key = workspace.keys.path(key_id)
    original = key.read_bytes()
    key.write_bytes(bytes(32))
    assert [(p.item, p.detail) for p in verify_workspace(workspace).problems] == [
        (f"dossier {personal_case}", f"la clé keys/{key_id}.key n'ouvre pas ses textes : clé remplacée ou modifiée")]
    key.unlink()
    assert [(p.item, p.detail) for p in verify_workspace(workspace).problems] == [
        (f"dossier {personal_case}", f"clé de chiffrement absente (keys/{key_id}.key) : ses textes personnels sont illisibles")]
    key.write_bytes(original)
    assert verify_workspace(workspace).ok


def test_a_purge_interrupted_before_its_key_went_is_finished_by_running_it_again(workspace, personal_case, cli):
    with workspace.reading() as session:
        key_id = session.get_one(Case, personal_case).label.stored.split(":")[1]
    kept = workspace.keys.path(key_id).read_bytes()
    assert cli("case", "purge", str(personal_case), "--yes", home=workspace.home).code == 0
    workspace.keys.path(key_id).write_bytes(kept)  # as if the purge had stopped before destroying it
    report = verify_workspace(workspace)
    assert report.ok and any("est encore là" in note for note in report.notes)
    assert cli("case", "purge", str(personal_case), "--yes", home=workspace.home).code == 0
    assert not workspace.keys.path(key_id).exists()
    assert not any("est encore là" in note for note in verify_workspace(workspace).notes)


def test_a_database_rebuilt_by_repair_reads_with_the_same_keys_then_purges(workspace, personal_case, cli):
    workspace.close()
    lose_the_database(workspace)
    repair_workspace(workspace.home)
    repaired = open_workspace(workspace.home)
    try:
        with repaired.reading() as session:
            case = session.get_one(Case, personal_case)
            assert (case.label, case.notes) == (LABEL, NOTES)
            assert SUBJECT in set(session.scalars(select(Letter.subject)))
        assert verify_workspace(repaired).ok
    finally:
        repaired.close()
    assert cli("case", "purge", LABEL, "--yes", home=workspace.home).code == 0
    assert all(files_holding(workspace.home, text) == [] for text in PERSONAL)
    assert cli("verify", home=workspace.home).code == 0


def test_the_dashboard_shows_a_purged_case_as_erased(workspace, personal_case, cli):
    with dashboard(workspace, accounts=False) as base:
        before = Client(base).get(f"/dossiers/{personal_case}")
        assert before.status == 200 and LABEL in before.text and SUBJECT in before.text
        assert cli("case", "purge", str(personal_case), "--yes", home=workspace.home).code == 0
        # The server keeps running: the key is read from its file at each page, not kept in memory.
        pages = [Client(base).get("/"), Client(base).get(f"/dossiers/{personal_case}")]
    assert [page.status for page in pages] == [200, 200]
    assert all(ERASED in page.text for page in pages)
    assert [text for text in PERSONAL if any(text in page.text for page in pages)] == []


def add_case_as_before_sealing(workspace, label: str, notes: str) -> int:
    """A case as the versions before sealing wrote it: label and notes in clear, in its row and its entry."""
    now = workspace.clock.now()
    with workspace.writing() as session:
        target = Target(url=URL, host="www.val-doise.gouv.fr", platform="ezbooking", counter="16161", created_at=now)
        session.add(target)
        session.flush()
        journal.append(session, "target.created", {"target": target.to_record()}, now)
        case = Case(label=label, target_id=target.id, notes=notes, period_start=now.date(), active=True, created_at=now)
        session.add(case)
        session.flush()
        journal.append(session, "case.created", {"case": case.to_record()}, now)
    return case.id


def test_a_case_from_before_sealing_seals_its_new_text_and_its_purge_says_what_stays(workspace, cli, tmp_path):
    case_id = add_case_as_before_sealing(workspace, LABEL, NOTES)
    assert len(files_holding(workspace.home, LABEL)) >= 1
    (tmp_path / LETTER_FILE).write_bytes(sample_png("Courrier"))
    record_letter(workspace, LABEL, LetterInput(tmp_path / LETTER_FILE, "sent", "lrar", date(2026, 11, 3), subject=SUBJECT))
    record_event(workspace, LABEL, EventInput("appel", date(2026, 11, 20), OUTCOME))
    with workspace.reading() as session:
        given = [json.loads(p)["data"] for p in session.scalars(
            select(JournalEntry.payload).where(JournalEntry.kind == "case.key_given"))]
        assert session.scalars(select(Letter.subject)).one() == SUBJECT
    assert [entry["case_id"] for entry in given] == [case_id]  # one key, given at its first new text
    assert files_holding(workspace.home, SUBJECT) == [] and files_holding(workspace.home, OUTCOME) == []
    assert verify_workspace(workspace).ok

    result = cli("case", "purge", str(case_id), "--yes", home=workspace.home)
    assert result.code == 0 and "Ce dossier date d'avant le chiffrement" in result.err
    assert not workspace.keys.path(given[0]["key_id"]).exists()
    with workspace.reading() as session:
        assert (session.scalars(select(Letter.subject)).one(), session.scalars(select(CaseEvent.outcome)).one()) == (
            ERASED, ERASED)
        assert session.get_one(Case, case_id).label == LABEL  # written in clear before: it stays, as said
    assert verify_workspace(workspace).ok


def test_a_sealed_label_changed_behind_the_tools_back_is_reported_with_its_text_opened(workspace, personal_case):
    raw_sql(workspace, f"UPDATE cases SET label = 'Intrus' WHERE id = {personal_case}")  # cases are not append-only
    details = [p.detail for p in verify_workspace(workspace).problems if p.item == f"dossier {personal_case} « Intrus »"]
    assert len(details) == 1
    assert details[0].startswith(f"champ « label » modifié : 'Intrus' dans la base, '{LABEL}' dans le journal (entrée n° ")


@pytest.mark.only_database("sqlite", reason="the write-ahead log is SQLite's")
def test_a_reader_holding_the_log_is_said_and_purging_again_empties_it(workspace, personal_case, cli):
    reader = sqlite3.connect(workspace.home / "preuves.sqlite3")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM cases").fetchone()  # a snapshot, as a watcher's read holds one
        held = cli("case", "purge", str(personal_case), "--yes", home=workspace.home)
    finally:
        reader.close()
    assert held.code == 0 and "relancez « preuves case purge » une fois ce programme arrêté" in held.err
    again = cli("case", "purge", str(personal_case), "--yes", home=workspace.home)
    assert again.code == 0 and "relancez" not in again.err
    assert [text for text in PERSONAL if files_holding(workspace.home, text)] == []
