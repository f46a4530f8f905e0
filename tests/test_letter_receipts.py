"""What was sent, and when it arrived: a sent letter still holding a blank of our drafts is refused,
the day the prefecture received a letter is recorded (with the letter or later, corrected by a new
entry) and the two-month silence counts from it; phone calls, visits and referrals are events."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import time_machine
from PIL import Image
from sqlalchemy import select
from weasyprint import HTML

from evidence import schema
from evidence.letters import RECEIPT_KIND
from evidence.localtime import PARIS
from evidence.models import Case
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from tests.evidence_helpers import add_sample_case, drop_triggers, pdf_bytes, raw_sql, record_sample_captures
from tests.test_letters import blob_files, entries, head

CASE = "dossier-1"
# 14 January 2027: two months after 12 November (the letter) have passed, not two months after
# 16 November (its receipt).
NOW = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)


@pytest.fixture
def ws(workspace):
    add_sample_case(workspace, CASE)
    with time_machine.travel(NOW, tick=True):
        yield workspace


def text_pdf(path: Path, body: str) -> Path:
    """A real PDF whose text can be read, as a letter made by a word processor or by our drafts."""
    HTML(string=f"<p>Madame, Monsieur,</p><p>{body}</p>").write_pdf(path)
    return path


def eml(path: Path, body: str, subject: str = "Demande de rendez-vous") -> Path:
    message = EmailMessage()
    message["From"] = "demandeur@example.org"
    message["To"] = "pref-etrangers@val-doise.gouv.fr"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 19, 10, 12, tzinfo=PARIS))
    message.set_content(body)
    path.write_bytes(bytes(message))
    return path


def add(cli, *args: str):
    return cli("letter", "add", CASE, *args)


def sent_lrar(cli, file: Path, *extra: str):
    return add(cli, "--file", str(file), "--date", "2026-11-12", "--direction", "sent", "--channel", "lrar", *extra)


# --- a sent letter with a blank is refused -------------------------------------------------


def test_sent_letter_with_a_blank_is_refused_and_nothing_recorded(ws, cli, tmp_path):
    unfinished = text_pdf(tmp_path / "demande.pdf", "Préfecture du Val-d'Oise [à compléter : adresse postale du service des étrangers] …")
    email = eml(tmp_path / "relance.eml", "Bonjour,\n[à compléter : votre numéro d'étranger]\nCordialement")
    before, blobs = head(ws), blob_files(ws.home)
    result = sent_lrar(cli, unfinished)
    assert (result.code, result.err.strip()) == (
        2,
        f"Erreur : {unfinished} : blanc non complété « adresse postale du service des étrangers » : "
        "complétez le courrier avant de l'enregistrer comme envoyé",
    )
    result = add(cli, "--file", str(email), "--direction", "sent", "--channel", "email")
    assert (result.code, result.err.strip()) == (
        2,
        f"Erreur : {email} : blanc non complété « votre numéro d'étranger » : "
        "complétez le courrier avant de l'enregistrer comme envoyé",
    )
    assert head(ws) == before and blob_files(ws.home) == blobs


def test_finished_letters_scans_and_received_letters_pass(ws, cli, tmp_path):
    finished = text_pdf(tmp_path / "demande.pdf", "Préfecture du Val-d'Oise, 5 avenue Bernard Hirsch, 95010 Cergy")
    assert sent_lrar(cli, finished).code == 0
    # A scan cannot be read: nothing is said about it.
    scan = tmp_path / "scan.png"
    Image.new("RGB", (200, 100), "white").save(scan)
    assert sent_lrar(cli, scan).code == 0
    # A letter received is the prefecture's own: its text is not ours to check.
    received = text_pdf(tmp_path / "reponse.pdf", "Pièce à fournir : [à compléter : justificatif]")
    result = add(cli, "--file", str(received), "--date", "2026-11-20", "--direction", "received", "--channel", "courrier")
    assert result.code == 0, result.err


# --- the day of receipt --------------------------------------------------------------------------


def test_receipt_with_the_letter_is_listed_and_silence_counts_from_it(ws, cli, tmp_path):
    letter = tmp_path / "l.pdf"
    letter.write_bytes(pdf_bytes())
    avis = tmp_path / "avis.png"
    Image.new("RGB", (300, 150), "white").save(avis)
    result = sent_lrar(cli, letter, "--received-on", "16/11/2026", "--receipt", str(avis), "--tracking", "1A 123")
    assert result.code == 0, result.err
    assert add(cli, "--file", str(letter), "--date", "2026-11-12", "--direction", "sent", "--channel", "courrier").code == 0

    [first, second] = json.loads(cli("letter", "list", CASE, "--json").out)
    assert (first["received_on"], first["silence"]) == ("2026-11-16", False)  # due on 16 January
    assert (second["received_on"], second["silence"], second["silence_since"]) == (None, True, "2027-01-12")
    assert [f["kind"] for f in first["files"]] == ["letter", RECEIPT_KIND]
    assert first["files"][1]["sha256"] == hashlib.sha256(avis.read_bytes()).hexdigest()

    table = cli("letter", "list", CASE)
    assert "reçu le" in table.out and "16/11/2026" in table.out  # in the date cell (wrapped by the table)
    assert table.err.strip() == (
        "Courrier n° 2 du 12/11/2026 : sans réponse depuis plus de deux mois "
        "(silence gardé par l'administration depuis le 12/01/2027)."
    )
    [entry] = entries(ws, "letter.recorded")[:1]
    assert entry["data"]["event"]["kind"] == "receipt" and entry["data"]["event"]["event_date"] == "2026-11-16"
    assert verify_workspace(ws).ok

    with time_machine.travel(datetime(2027, 1, 17, 10, 0, tzinfo=UTC), tick=True):
        table = cli("letter", "list", CASE)
    assert "Courrier n° 1 du 12/11/2026, reçu le 16/11/2026 : sans réponse depuis plus de deux mois " \
        "(silence gardé par l'administration depuis le 16/01/2027)." in table.err


def test_receipt_recorded_later_and_corrected(ws, cli, tmp_path):
    letter = tmp_path / "l.pdf"
    letter.write_bytes(pdf_bytes())
    assert sent_lrar(cli, letter).code == 0
    avis = tmp_path / "avis-de-reception.png"
    Image.new("RGB", (300, 150), "white").save(avis)
    result = cli("letter", "proof", CASE, "1", str(avis), "--received-on", "2026-11-15")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "Courrier n° 1 : reçu par la préfecture le 15/11/2026.", "1 preuve(s) jointe(s) au courrier n° 1."
    ]
    # A correction is a new entry: the latest day counts, nothing is rewritten.
    assert cli("letter", "proof", CASE, "1", "--received-on", "2026-11-16").code == 0
    [listed] = json.loads(cli("letter", "list", CASE, "--json").out)
    assert listed["received_on"] == "2026-11-16"
    receipts = entries(ws, "letter.receipt_recorded")
    assert [e["data"]["event"]["event_date"] for e in receipts] == ["2026-11-15", "2026-11-16"]
    assert [a["kind"] for a in receipts[0]["data"]["artefacts"]] == [RECEIPT_KIND]
    events = json.loads(cli("event", "list", CASE, "--json").out)
    assert [(e["kind"], e["date"], e["letter"]) for e in events] == [
        ("receipt", "2026-11-15", 1), ("receipt", "2026-11-16", 1)
    ]
    assert verify_workspace(ws).ok


def test_bad_receipts_exit_2_and_store_nothing(ws, cli, tmp_path):
    letter = tmp_path / "l.pdf"
    letter.write_bytes(pdf_bytes())
    assert sent_lrar(cli, letter).code == 0
    assert add(cli, "--file", str(letter), "--date", "2026-11-20", "--direction", "received", "--channel", "courrier").code == 0
    assert add(cli, "--file", str(letter), "--date", "2026-11-21", "--direction", "sent", "--channel", "telephone").code == 0
    before, blobs = head(ws), blob_files(ws.home)
    for result, line in [
        (sent_lrar(cli, letter, "--received-on", "2026-11-10"),
         "date de réception (2026-11-10) antérieure à l'envoi (2026-11-12)"),
        (sent_lrar(cli, letter, "--received-on", "2027-02-01"),
         "date de réception dans le futur : 2027-02-01 (nous sommes le 2027-01-14)"),
        (sent_lrar(cli, letter, "--receipt", str(letter)),
         "avis de réception donné sans la date de réception (option --received-on)"),
        (add(cli, "--file", str(letter), "--date", "2026-11-20", "--direction", "received", "--channel", "courrier",
             "--received-on", "2026-11-21"),
         "la date de réception (--received-on) vaut pour un courrier envoyé à la préfecture"),
        (cli("letter", "proof", CASE, "2", "--received-on", "2026-11-21"),
         "la date de réception (--received-on) vaut pour un courrier envoyé à la préfecture"),
        (cli("letter", "proof", CASE, "3", "--received-on", "2026-11-21"),
         "un appel téléphonique n'a pas de date de réception"),
        (cli("letter", "proof", CASE, "9", "--received-on", "2026-11-21"),
         "courrier n° 9 inconnu dans le dossier « dossier-1 » (voir « preuves letter list »)"),
        (cli("letter", "proof", CASE, "1"), "aucune preuve donnée"),
    ]:
        assert (result.code, result.err.strip()) == (2, f"Erreur : {line}")
    assert head(ws) == before and blob_files(ws.home) == blobs


def test_an_email_keeps_its_own_subject(ws, cli, tmp_path):
    email = eml(tmp_path / "relance.eml", "Bonjour,\nje vous relance.", subject="Relance : demande de rendez-vous")
    other = add(cli, "--file", str(email), "--direction", "sent", "--channel", "email", "--subject", "Relance")
    assert (other.code, other.err.strip()) == (
        2,
        f"Erreur : {email} : l'objet donné diffère de celui du courrier (« Relance : demande de rendez-vous ») : "
        "omettez --subject, l'objet du courrier est repris tel quel",
    )
    same = add(cli, "--file", str(email), "--direction", "sent", "--channel", "email",
               "--subject", "Relance :  demande de rendez-vous")
    assert same.code == 0, same.err
    [listed] = json.loads(cli("letter", "list", CASE, "--json").out)
    assert listed["subject"] == "Relance : demande de rendez-vous"


# --- events: phone calls, visits, referrals ------------------------------------------------------


def test_events_are_recorded_with_their_proofs_and_listed(ws, cli, tmp_path):
    assert cli("applicant", "set", CASE, "--name", "Jean-Baptiste Dupont").code == 0
    proof = tmp_path / "journal-appels.png"
    Image.new("RGB", (300, 150), "white").save(proof)
    result = cli("event", "add", CASE, "--kind", "appel", "--date", "2026-11-20",
                 "--outcome", "Aucune réponse après 40 minutes d'attente (M. Dupont)", "--proof", str(proof))
    assert (result.code, result.out) == (0, "1\n"), result.err
    assert result.err.strip() == "Démarche n° 1 du 20/11/2026 enregistrée (appel téléphonique à la préfecture, 1 preuve(s))."
    assert cli("event", "add", CASE, "--kind", "guichet", "--date", "27/11/2026",
               "--outcome", "Renvoyé vers le site internet, aucun rendez-vous donné").code == 0
    assert cli("event", "add", CASE, "--kind", "defenseur-des-droits", "--date", "2026-12-01",
               "--outcome", "Réclamation en ligne, accusé de réception n° 123").code == 0

    events = json.loads(cli("event", "list", CASE, "--json").out)
    assert [(e["kind"], e["date"], e["outcome"]) for e in events] == [
        ("appel", "2026-11-20", "Aucune réponse après 40 minutes d'attente (M. ***)"),  # the name stays out of the journal
        ("guichet", "2026-11-27", "Renvoyé vers le site internet, aucun rendez-vous donné"),
        ("defenseur-des-droits", "2026-12-01", "Réclamation en ligne, accusé de réception n° 123"),
    ]
    assert events[0]["files"] == [{"filename": "journal-appels.png", "sha256": hashlib.sha256(proof.read_bytes()).hexdigest()}]
    [entry] = [e for e in entries(ws, "event.recorded") if e["data"]["event"]["kind"] == "appel"]
    assert [a["event_id"] for a in entry["data"]["artefacts"]] == [1]
    assert "Dupont" not in json.dumps(entries(ws))
    table = cli("event", "list", CASE)
    assert "guichet" in table.out and "Refus" not in table.out
    assert verify_workspace(ws).ok and verify_workspace(ws, CASE).ok


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--kind", "fax", "--date", "2026-11-20", "--outcome", "x"),
         "type d'événement inconnu : 'fax' (valeurs possibles : appel, guichet, defenseur-des-droits)"),
        (("--kind", "appel", "--date", "2027-03-01", "--outcome", "x"),
         "date dans le futur : 2027-03-01 (nous sommes le 2027-01-14)"),
        (("--kind", "appel", "--date", "2026-11-20", "--outcome", "  "),
         "résultat de la démarche manquant (option --outcome : ce qui a été répondu ou constaté)"),
        (("--kind", "appel", "--date", "2026-13-01", "--outcome", "x"),
         "date de la démarche invalide : '2026-13-01' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
    ],
)
def test_bad_events_exit_2_and_store_nothing(ws, cli, args, line):
    before = head(ws)
    result = cli("event", "add", CASE, *args)
    assert (result.code, result.err.strip()) == (2, f"Erreur : {line}")
    assert head(ws) == before


def test_purge_erases_the_proofs_of_events(ws, cli, tmp_path):
    proof = tmp_path / "ticket.png"
    Image.new("RGB", (300, 150), (250, 240, 230)).save(proof)
    assert cli("event", "add", CASE, "--kind", "guichet", "--date", "2026-11-27", "--outcome", "Refus d'accueil",
               "--proof", str(proof)).code == 0
    digest = hashlib.sha256(proof.read_bytes()).hexdigest()
    assert ws.blobs.read(digest) == proof.read_bytes()
    assert cli("case", "purge", CASE, "--yes").code == 0
    assert not any(digest in path for path in blob_files(ws.home))
    report = verify_workspace(ws)
    assert report.ok and report.purged_files == 1


def test_export_holds_the_events_and_their_proofs(ws, cli, tmp_path):
    with ws.reading() as session:
        target_id = session.scalars(select(Case.target_id)).one()
    record_sample_captures(ws, target_id, 2)
    proof = tmp_path / "ticket.png"
    Image.new("RGB", (300, 150), (250, 240, 230)).save(proof)
    assert cli("event", "add", CASE, "--kind", "guichet", "--date", "2026-11-27", "--outcome", "Refus d'accueil",
               "--proof", str(proof)).code == 0
    archive_path = tmp_path / "export.zip"
    assert cli("case", "export", CASE, "--out", str(archive_path)).code == 0
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.read("demarches/001_2026-11-27_guichet/ticket.png") == proof.read_bytes()
        described = json.loads(archive.read("dossier.json"))
        kinds = [json.loads(line).get("kind") for line in archive.read("journal.jsonl").decode().splitlines()]
    [event] = described["events"]
    assert (event["kind"], event["outcome"], event["files"][0]["path"]) == (
        "guichet", "Refus d'accueil", "demarches/001_2026-11-27_guichet/ticket.png"
    )
    assert "event.recorded" in kinds


def test_events_are_append_only_and_checked_by_verify(ws, cli, tmp_path):
    assert cli("event", "add", CASE, "--kind", "appel", "--date", "2026-11-20", "--outcome", "Pas de réponse").code == 0
    with pytest.raises(Exception, match="append-only"):
        raw_sql(ws, "UPDATE case_events SET outcome = 'Rendez-vous proposé'")
    raw_sql(ws, *drop_triggers(ws), "UPDATE case_events SET outcome = 'Rendez-vous proposé'")
    problems = [(p.item, p.detail) for p in verify_workspace(ws).problems]
    assert ("événement 1 du 2026-11-20 (appel)",
            "champ « outcome » modifié : 'Rendez-vous proposé' dans la base, 'Pas de réponse' dans le journal (entrée n° 4)"
            ) in problems


def test_records_made_before_schema_0009_still_verify(ws, cli, tmp_path):
    """An identity without the new answers hashes as the seven fields did before them, and a file
    record has no event_id: what older versions journaled still equals the rows."""
    letter = tmp_path / "l.pdf"
    letter.write_bytes(pdf_bytes())
    assert cli("applicant", "set", CASE, "--name", "Awa Traoré", "--birth-place", "Bamako").code == 0
    assert sent_lrar(cli, letter).code == 0
    before_0009 = {
        "full_name": "Awa Traoré", "birth_date": None, "birth_place": "Bamako", "nationality": None,
        "postal_address": None, "foreigner_number": None, "permit_expiry": None,
    }
    canonical = json.dumps(before_0009, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    [applicant] = entries(ws, "applicant.set")
    assert applicant["data"]["applicant"]["fields_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    [recorded] = entries(ws, "letter.recorded")
    assert "event_id" not in recorded["data"]["artefacts"][0]
    schema.downgrade(ws.engine, "0007")
    ws.close()
    reopened = open_workspace(ws.home)
    try:
        assert reopened.migrated_from == "0007"
        assert verify_workspace(reopened).ok
    finally:
        reopened.close()
