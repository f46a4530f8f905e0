"""Letters and proofs: every import type round-trips with its hash, emails are read from their
headers, silence is flagged, bad input stores nothing, and identity never reaches the journal."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import time_machine
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select

from evidence import journal
from evidence.letters import add_months
from evidence.localtime import PARIS
from evidence.models import Applicant, JournalEntry, Letter
from evidence.verify import verify_workspace
from tests.evidence_helpers import add_sample_case, raw_sql

CASE = "dossier-1"
PREFECTURE = "pref-etrangers@val-doise.gouv.fr"
NAME = "Jean-Baptiste Dupont"
NUMBER = "7501234567"
IDENTITY_OPTIONS = (
    "--name", NAME, "--birth-date", "14/03/1990", "--birth-place", "Bamako",
    "--nationality", "malienne", "--address", "12 rue des Lilas;95000 Cergy",
    "--foreigner-number", "75 0123 4567", "--permit-expiry", "2026-12-15",
    "--civility", "Monsieur", "--demande", "Renouvellement", "--anef", "non", "--oqtf", "non", "--refus", "non",
    "--departement", "Val-d'Oise", "--service-address", "Service des étrangers;5 avenue Bernard Hirsch;95010 Cergy",
)
# Values that must never be found in the journal once the identity is set.
IDENTITY_VALUES = ("Dupont", "Jean", "Baptiste", NUMBER, "Bamako", "malienne", "Lilas", "Cergy", "1990-03-14", "2026-12-15")


# --- files the tests import ---------------------------------------------------------------


def today() -> date:
    return datetime.now(PARIS).date()


def make_pdf(path: Path, pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def make_image(path: Path, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (240, 240, 230)).save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def make_eml(
    path: Path,
    *,
    sent: datetime | None,
    sender: str = "Jean Dupont <jean.dupont@example.org>",
    to: str = f"Préfecture du Val-d'Oise <{PREFECTURE}>",
    subject: str = "Demande de rendez-vous",
    body: str = "Madame, Monsieur,\nje sollicite un rendez-vous.",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if sent is not None:
        message["Date"] = format_datetime(sent)
    message.set_content(body)
    for filename, data, media in attachments:
        maintype, subtype = media.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    path.write_bytes(bytes(message))
    return bytes(message)


def blob_files(home: Path) -> set[str]:
    return {p.relative_to(home).as_posix() for p in (home / "blobs").rglob("*") if p.is_file()}


def head(workspace) -> journal.JournalHead:
    with workspace.reading() as session:
        return journal.head(session)


def entries(workspace, kind: str | None = None) -> list[dict]:
    with workspace.reading() as session:
        rows = session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
        payloads = [json.loads(row.payload) for row in rows]
    return [p for p in payloads if kind is None or p["kind"] == kind]


def letter_row(workspace, letter_id: int) -> Letter:
    with workspace.reading() as session:
        letter = session.get(Letter, letter_id)
        letter.artefacts  # load them before the session closes
        session.expunge_all()
        return letter


@pytest.fixture
def ws(workspace):
    """A workspace with one case (its label carries no name: names must stay out of the journal)."""
    add_sample_case(workspace, CASE)
    return workspace


def add(cli, *args: str):
    return cli("letter", "add", CASE, *args)


# --- each import type round-trips with its hash ---------------------------------------------


def test_pdf_letter_with_proofs_round_trips(ws, cli, tmp_path):
    letter_pdf = make_pdf(tmp_path / "lettre.pdf", pages=2)
    receipt = make_image(tmp_path / "preuve-depot.jpg", "JPEG")
    day = today() - timedelta(days=3)
    result = add(
        cli, "--file", str(tmp_path / "lettre.pdf"), "--date", day.strftime("%d/%m/%Y"),
        "--direction", "sent", "--channel", "lrar", "--tracking", "1A 234 567 8901 2",
        "--subject", "Demande de rendez-vous", "--proof", str(tmp_path / "preuve-depot.jpg"),
    )
    assert (result.code, result.out) == (0, "1\n"), result.err
    assert "Courrier n° 1 du" in result.err and "2 fichier(s)" in result.err
    letter = letter_row(ws, 1)
    assert (letter.letter_date, letter.direction, letter.channel) == (day, "sent", "lrar")
    assert letter.tracking == "1A 234 567 8901 2"
    files = [(a.kind, a.media_type, a.filename, a.sha256, a.size) for a in letter.artefacts]
    assert files == [
        ("letter", "application/pdf", "lettre.pdf", hashlib.sha256(letter_pdf).hexdigest(), len(letter_pdf)),
        ("letter_proof", "image/jpeg", "preuve-depot.jpg", hashlib.sha256(receipt).hexdigest(), len(receipt)),
    ]
    assert ws.blobs.read(letter.artefacts[0].sha256) == letter_pdf
    assert ws.blobs.read(letter.artefacts[1].sha256) == receipt
    [entry] = entries(ws, "letter.recorded")
    assert entry["data"]["letter"] == letter.to_record()
    assert entry["data"]["artefacts"] == [a.to_record() for a in letter.artefacts]
    assert verify_workspace(ws).ok


@pytest.mark.parametrize(("fmt", "suffix", "media"), [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg")])
def test_scanned_letter_round_trips(ws, cli, tmp_path, fmt, suffix, media):
    scan = make_image(tmp_path / f"reponse.{suffix}", fmt)
    result = add(
        cli, "--file", str(tmp_path / f"reponse.{suffix}"), "--date", today().isoformat(),
        "--direction", "received", "--channel", "courrier",
    )
    assert result.code == 0, result.err
    [artefact] = letter_row(ws, 1).artefacts
    assert (artefact.kind, artefact.media_type) == ("letter", media)
    assert artefact.sha256 == hashlib.sha256(scan).hexdigest()
    assert ws.blobs.read(artefact.sha256) == scan
    assert verify_workspace(ws).ok


def test_plain_eml_is_dated_and_addressed_by_its_headers(ws, cli, tmp_path):
    # 23:30 UTC on 2 November is already 3 November in Paris: the letter's date is the French one.
    raw = make_eml(tmp_path / "demande.eml", sent=datetime.fromisoformat("2025-11-02T23:30:00+00:00"))
    result = add(cli, "--file", str(tmp_path / "demande.eml"), "--direction", "sent", "--channel", "email")
    assert result.code == 0, result.err
    letter = letter_row(ws, 1)
    assert letter.letter_date == date(2025, 11, 3)
    assert letter.subject == "Demande de rendez-vous"
    # Sent: the prefecture's address is kept; the applicant's own stays in the .eml only.
    assert (letter.sender, letter.recipient) == (None, f"Préfecture du Val-d'Oise <{PREFECTURE}>")
    [artefact] = letter.artefacts
    assert (artefact.kind, artefact.media_type, artefact.filename) == ("letter", "message/rfc822", "demande.eml")
    assert artefact.sha256 == hashlib.sha256(raw).hexdigest()
    assert ws.blobs.read(artefact.sha256) == raw


def test_received_eml_keeps_the_sender(ws, cli, tmp_path):
    make_eml(
        tmp_path / "reponse.eml", sent=datetime(2025, 12, 1, 9, 0, tzinfo=PARIS),
        sender=f"Bureau des étrangers <{PREFECTURE}>", to="jean.dupont@example.org", subject="RE: demande",
    )
    assert add(cli, "--file", str(tmp_path / "reponse.eml"), "--direction", "received", "--channel", "email").code == 0
    letter = letter_row(ws, 1)
    assert (letter.sender, letter.recipient, letter.subject) == (f"Bureau des étrangers <{PREFECTURE}>", None, "RE: demande")
    assert letter.letter_date == date(2025, 12, 1)


def test_multipart_eml_keeps_its_attachments(ws, cli, tmp_path):
    capture = make_image(tmp_path / "x.png", "PNG")
    notice = make_pdf(tmp_path / "x.pdf")
    make_eml(
        tmp_path / "relance.eml", sent=datetime(2025, 11, 20, 14, 5, tzinfo=PARIS), subject="Relance",
        attachments=(("capture écran 1.png", capture, "image/png"), ("récépissé.pdf", notice, "application/pdf")),
    )
    assert add(cli, "--file", str(tmp_path / "relance.eml"), "--direction", "sent", "--channel", "email").code == 0
    letter = letter_row(ws, 1)
    kept = [(a.kind, a.media_type, a.filename, a.sha256) for a in letter.artefacts[1:]]
    assert kept == [
        ("letter_attachment", "image/png", "capture écran 1.png", hashlib.sha256(capture).hexdigest()),
        ("letter_attachment", "application/pdf", "récépissé.pdf", hashlib.sha256(notice).hexdigest()),
    ]
    assert ws.blobs.read(letter.artefacts[2].sha256) == notice
    assert verify_workspace(ws).ok


def test_non_utf8_eml_headers_are_decoded(ws, cli, tmp_path):
    # Encoded words in iso-8859-1 (quoted-printable and base64), a body in iso-8859-1 …
    sender = Header("Préfecture - Bureau des étrangers", "iso-8859-1").encode()
    subject = Header("Réponse à votre demande d'été", "iso-8859-1", header_name="Subject").encode()
    encoded = (
        f"From: {sender} <{PREFECTURE}>\r\nTo: jean.dupont@example.org\r\nSubject: {subject}\r\n"
        "Date: Tue, 01 Dec 2025 10:15:00 +0100\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Votre demande a =E9t=E9 re=E7ue.\r\n"
    )
    assert "=?iso-8859-1?" in encoded
    (tmp_path / "encoded.eml").write_text(encoded, "ascii")
    assert add(cli, "--file", str(tmp_path / "encoded.eml"), "--direction", "received", "--channel", "email").code == 0
    letter = letter_row(ws, 1)
    assert letter.subject == "Réponse à votre demande d'été"
    assert letter.sender == f"Préfecture - Bureau des étrangers <{PREFECTURE}>"

    # … and raw 8-bit iso-8859-1 bytes in the headers, as old mail clients write them.
    raw = (
        b"From: Service des \xe9trangers <" + PREFECTURE.encode() + b">\r\n"
        b"To: jean.dupont@example.org\r\n"
        b"Subject: Accus\xe9 de r\xe9ception\r\n"
        b"Date: Wed, 02 Dec 2025 08:00:00 +0100\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Re\xe7u.\r\n"
    )
    (tmp_path / "latin1.eml").write_bytes(raw)
    assert add(cli, "--file", str(tmp_path / "latin1.eml"), "--direction", "received", "--channel", "email").code == 0
    letter = letter_row(ws, 2)
    assert letter.subject == "Accusé de réception"
    assert letter.sender == f"Service des étrangers <{PREFECTURE}>"
    assert ws.blobs.read(letter.artefacts[0].sha256) == raw
    assert verify_workspace(ws).ok


def test_proof_added_later_is_a_new_entry(ws, cli, tmp_path):
    make_pdf(tmp_path / "lettre.pdf")
    assert add(
        cli, "--file", str(tmp_path / "lettre.pdf"), "--date", today().isoformat(),
        "--direction", "sent", "--channel", "lrar",
    ).code == 0
    before = entries(ws, "letter.recorded")
    notice = make_image(tmp_path / "avis-de-reception.png", "PNG")
    result = cli("letter", "proof", CASE, "1", str(tmp_path / "avis-de-reception.png"))
    assert result.code == 0, result.err
    assert result.err.strip() == "1 preuve(s) jointe(s) au courrier n° 1."
    [entry] = entries(ws, "letter.proof_added")
    [record] = entry["data"]["artefacts"]
    assert entry["data"]["letter_id"] == 1
    assert (record["kind"], record["letter_id"], record["sha256"]) == ("letter_proof", 1, hashlib.sha256(notice).hexdigest())
    assert entries(ws, "letter.recorded") == before
    assert [a.kind for a in letter_row(ws, 1).artefacts] == ["letter", "letter_proof"]
    assert verify_workspace(ws).ok


# --- listing, answers and the two-month silence -----------------------------------------------


def test_list_flags_two_months_of_silence(ws, cli, tmp_path):
    make_pdf(tmp_path / "l.pdf")
    old = today() - timedelta(days=100)
    answered = today() - timedelta(days=90)
    recent = today() - timedelta(days=10)

    def letter(day: date, direction: str, channel: str, *extra: str) -> None:
        result = add(cli, "--file", str(tmp_path / "l.pdf"), "--date", day.isoformat(),
                     "--direction", direction, "--channel", channel, *extra)
        assert result.code == 0, result.err

    letter(old, "sent", "email")  # 1: unanswered for over two months
    letter(answered, "sent", "lrar", "--tracking", "1A00")  # 2: answered by 3
    letter(answered + timedelta(days=20), "received", "courrier", "--answers", "2")  # 3
    letter(recent, "sent", "email")  # 4: too recent
    letter(old, "sent", "telephone")  # 5: a call is no written request

    listed = json.loads(cli("letter", "list", CASE, "--json").out)
    by_id = {item["id"]: item for item in listed}
    assert [item["id"] for item in listed] == [1, 5, 2, 3, 4]
    assert by_id[1]["silence"] is True
    assert by_id[1]["silence_since"] == add_months(old, 2).isoformat()
    assert [by_id[n]["silence"] for n in (2, 3, 4, 5)] == [False] * 4
    assert by_id[2]["answered_by"] == [3] and by_id[3]["answers"] == 2
    assert by_id[2]["files"][0]["sha256"] == hashlib.sha256((tmp_path / "l.pdf").read_bytes()).hexdigest()

    table = cli("letter", "list", CASE)
    assert table.code == 0
    assert "SILENCE" in table.out
    # At 80 columns (the width of a captured output), dates and tracking numbers are whole.
    assert max(len(line) for line in table.out.splitlines()) <= 80
    for day in (old, answered, recent):
        assert f"{day:%d/%m/%Y}" in table.out
    assert "│ 1A00 " in table.out
    assert table.err.strip() == (
        f"Courrier n° 1 du {old:%d/%m/%Y} : sans réponse depuis plus de deux mois "
        f"(silence gardé par l'administration depuis le {add_months(old, 2):%d/%m/%Y})."
    )


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2026, 9, 15), 2) == date(2026, 11, 15)


# --- bad input: one exact line, exit 2, nothing stored ------------------------------------------


def bad_cases(tmp_path: Path) -> list[tuple[tuple[str, ...], str]]:
    make_pdf(tmp_path / "ok.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is no PDF")
    png = io.BytesIO()
    Image.effect_noise((400, 400), 60).save(png, "PNG")  # noise: a PNG too big to fit in its first half
    (tmp_path / "truncated.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (tmp_path / "notes.txt").write_text("texte")
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.4" + b"0" * (1024 * 1024 + 600 * 1024))
    make_eml(tmp_path / "undated.eml", sent=None)
    make_eml(
        tmp_path / "traversal.eml", sent=datetime(2025, 11, 2, 10, 0, tzinfo=PARIS),
        attachments=(("../../etc/passwd", b"root:x:0:0", "text/plain"),),
    )
    make_eml(tmp_path / "dated.eml", sent=datetime(2025, 11, 2, 10, 0, tzinfo=PARIS))
    future = today() + timedelta(days=1)
    ok = ("--file", str(tmp_path / "ok.pdf"), "--date", "2025-11-02")
    sent = ("--direction", "sent", "--channel", "lrar")
    return [
        ((*ok, "--direction", "out", "--channel", "lrar"),
         "Erreur : sens inconnu : 'out' (valeurs possibles : sent, received)"),
        ((*ok, "--direction", "sent", "--channel", "fax"),
         "Erreur : moyen d'envoi inconnu : 'fax' (valeurs possibles : email, lrar, courrier, depot, telephone)"),
        (("--file", str(tmp_path / "missing.pdf"), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path / 'missing.pdf'} : lecture impossible (fichier ou dossier introuvable)"),
        (("--file", str(tmp_path), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path} : ce n'est pas un fichier"),
        (("--file", str(tmp_path / "broken.pdf"), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path / 'broken.pdf'} : PDF illisible ou endommagé"),
        (("--file", str(tmp_path / "truncated.png"), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path / 'truncated.png'} : image illisible ou tronquée"),
        (("--file", str(tmp_path / "notes.txt"), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path / 'notes.txt'} : format non reconnu (PDF, image PNG ou JPEG, ou courriel .eml attendu)"),
        (("--file", str(tmp_path / "big.pdf"), "--date", "2025-11-02", *sent),
         f"Erreur : {tmp_path / 'big.pdf'} : fichier trop volumineux (1,6 Mo, 1 Mo au plus — réglage max_file_mb de preuves.toml)"),
        (("--file", str(tmp_path / "ok.pdf"), "--date", future.isoformat(), *sent),
         f"Erreur : date dans le futur : {future.isoformat()} (nous sommes le {today().isoformat()})"),
        (("--file", str(tmp_path / "ok.pdf"), "--date", "31/02/2026", *sent),
         "Erreur : date du courrier invalide : '31/02/2026' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
        (("--file", str(tmp_path / "ok.pdf"), *sent), "Erreur : date du courrier manquante (option --date)"),
        (("--file", str(tmp_path / "undated.eml"), "--direction", "sent", "--channel", "email"),
         f"Erreur : {tmp_path / 'undated.eml'} : courriel sans date lisible (en-tête Date absent ou invalide)"),
        (("--file", str(tmp_path / "dated.eml"), "--date", "2025-11-03", "--direction", "sent", "--channel", "email"),
         f"Erreur : {tmp_path / 'dated.eml'} : la date donnée (2025-11-03) diffère de celle du courriel (2025-11-02)"),
        (("--file", str(tmp_path / "traversal.eml"), "--direction", "sent", "--channel", "email"),
         f"Erreur : {tmp_path / 'traversal.eml'} : pièce jointe au nom dangereux refusée : '../../etc/passwd'"),
        # A good letter with a bad proof: the letter's blob must not be written either.
        ((*ok, *sent, "--proof", str(tmp_path / "notes.txt")),
         f"Erreur : {tmp_path / 'notes.txt'} : format non reconnu (PDF, image PNG ou JPEG, ou courriel .eml attendu)"),
        ((*ok, *sent, "--answers", "99"),
         "Erreur : courrier n° 99 inconnu dans le dossier « dossier-1 » (voir « preuves letter list »)"),
        ((*ok, *sent, "--subject", "x" * 501), "Erreur : objet : texte trop long, 500 caractères au plus"),
    ]


def set_letters_option(ws, line: str) -> None:
    """Uncomment-and-set the [letters] option of the workspace's preuves.toml."""
    config = ws.home / "preuves.toml"
    text = config.read_text(encoding="utf-8")
    assert "# max_file_mb = 50" in text
    config.write_text(text.replace("# max_file_mb = 50", line), encoding="utf-8")


def test_bad_input_exits_2_and_stores_nothing(ws, cli, tmp_path):
    set_letters_option(ws, "max_file_mb = 1")
    files = tmp_path / "files"
    files.mkdir()
    cases = bad_cases(files)
    before, blobs = head(ws), blob_files(ws.home)
    for args, line in cases:
        result = add(cli, *args)
        assert (result.code, result.err.strip()) == (2, line), args
        assert result.out == ""
        assert head(ws) == before and blob_files(ws.home) == blobs, args
    proof = cli("letter", "proof", CASE, "7", str(files / "ok.pdf"))
    assert (proof.code, proof.err.strip()) == (
        2, "Erreur : courrier n° 7 inconnu dans le dossier « dossier-1 » (voir « preuves letter list »)"
    )
    assert head(ws) == before and blob_files(ws.home) == blobs


def test_an_answer_cannot_precede_its_letter(ws, cli, tmp_path):
    make_pdf(tmp_path / "l.pdf")
    assert add(cli, "--file", str(tmp_path / "l.pdf"), "--date", "2025-11-10", "--direction", "sent", "--channel", "lrar").code == 0
    before = head(ws)
    result = add(cli, "--file", str(tmp_path / "l.pdf"), "--date", "2025-11-01", "--direction", "received",
                 "--channel", "courrier", "--answers", "1")
    assert (result.code, result.err.strip()) == (
        2, "Erreur : le courrier n° 1 est daté du 2025-11-10 : une réponse ne peut pas le précéder"
    )
    assert head(ws) == before


def test_bad_size_setting_is_a_workspace_error(ws, cli, tmp_path):
    set_letters_option(ws, 'max_file_mb = "beaucoup"')
    make_pdf(tmp_path / "l.pdf")
    result = add(cli, "--file", str(tmp_path / "l.pdf"), "--date", "2025-11-10", "--direction", "sent", "--channel", "lrar")
    assert (result.code, result.err.strip()) == (
        2, "Erreur : preuves.toml : max_file_mb (section letters) doit être un nombre entier de Mo positif"
    )


# --- the applicant's identity --------------------------------------------------------------


def test_applicant_set_by_options_then_show(ws, cli):
    result = cli("applicant", "set", CASE, *IDENTITY_OPTIONS)
    assert (result.code, result.out) == (0, "1\n"), result.err
    shown = json.loads(cli("applicant", "show", CASE, "--json").out)
    assert shown == {
        "full_name": NAME, "birth_date": "1990-03-14", "birth_place": "Bamako", "nationality": "malienne",
        "postal_address": "12 rue des Lilas\n95000 Cergy", "foreigner_number": NUMBER, "permit_expiry": "2026-12-15",
        "civility": "M.", "application": "renouvellement", "on_anef": False, "oqtf": False, "refusal": False,
        "departement": "95", "service_address": "Service des étrangers\n5 avenue Bernard Hirsch\n95010 Cergy",
    }
    again = cli("applicant", "set", CASE, "--name", NAME)
    assert again.code == 0 and again.err.strip() == "Identité inchangée."
    cleared = cli("applicant", "set", CASE, "--permit-expiry", "-", "--nationality", "-")
    assert cleared.code == 0
    shown = json.loads(cli("applicant", "show", CASE, "--json").out)
    assert (shown["permit_expiry"], shown["nationality"], shown["birth_place"]) == (None, None, "Bamako")
    assert [e["kind"] for e in entries(ws, "applicant.set")] == ["applicant.set"] * 2
    assert verify_workspace(ws).ok


def test_applicant_set_asks_each_field(ws, cli, monkeypatch):
    answers = [
        NAME, "Mlle", "Mme", "31/02/1990", "14/03/1990", "Bamako", "malienne", "12 rue des Lilas ; 95000 Cergy", NUMBER, "",
        "renouvellement", "peut-être", "non", "non", "non", "", "",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    result = cli("applicant", "set", CASE)
    assert result.code == 0, result.err
    assert result.out == "1\n", "the questions go to stderr, with nothing of theirs on stdout"
    assert result.err.startswith("Nom et prénom : Civilité (M. ou Mme) (« - » pour effacer) : Erreur : civilité invalide")
    assert "Date de naissance (« - » pour effacer) : " in result.err
    assert "date de naissance invalide : '31/02/1990'" in result.err  # asked again, not stored
    assert "civilité invalide : 'Mlle' (M. ou Mme attendu)" in result.err
    assert "réponse invalide pour --anef : 'peut-être' (oui ou non attendu)" in result.err
    assert "Obligation de quitter le territoire (OQTF) en cours ? oui ou non" in result.err
    shown = json.loads(cli("applicant", "show", CASE, "--json").out)
    assert (shown["birth_date"], shown["postal_address"], shown["foreigner_number"], shown["permit_expiry"]) == (
        "1990-03-14", "12 rue des Lilas\n95000 Cergy", NUMBER, None
    )
    assert (shown["civility"], shown["application"], shown["on_anef"], shown["oqtf"], shown["refusal"]) == (
        "Mme", "renouvellement", False, False, False
    )
    assert shown["departement"] is None and shown["service_address"] is None


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--name", "X", "--foreigner-number", "12AB"),
         "Erreur : numéro d'étranger invalide : 10 chiffres attendus (il figure sur le titre de séjour ou le récépissé)"),
        (("--name", "X", "--birth-date", "2099-01-01"), "Erreur : date de naissance dans le futur : 2099-01-01"),
        (("--birth-place", "Bamako"), "Erreur : le nom du demandeur est obligatoire (option --name)"),
        (("--name", "X", "--birth-date", "14-03-1990"),
         "Erreur : date de naissance invalide : '14-03-1990' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
        (("--name", "X", "--civility", "Mlle"), "Erreur : civilité invalide : 'Mlle' (M. ou Mme attendu)"),
        (("--name", "X", "--demande", "changement"),
         "Erreur : demande invalide : 'changement' (premiere ou renouvellement attendu)"),
        (("--name", "X", "--oqtf", "sans doute"), "Erreur : réponse invalide pour --oqtf : 'sans doute' (oui ou non attendu)"),
        (("--name", "X", "--departement", "99"),
         "Erreur : département inconnu : '99' (code comme 95 ou nom comme Val-d'Oise attendu)"),
    ],
)
def test_applicant_bad_input(ws, cli, args, line):
    before = head(ws)
    result = cli("applicant", "set", CASE, *args)
    assert (result.code, result.err.strip()) == (2, line)
    assert head(ws) == before


def test_a_birth_date_of_today_in_paris_is_accepted_just_after_midnight(ws, cli):
    """At 00:30 in Paris it is still the day before in UTC: today in Paris is not « in the future »."""
    with time_machine.travel(datetime(2026, 12, 8, 0, 30, tzinfo=PARIS), tick=False):
        result = cli("applicant", "set", CASE, "--name", "X", "--birth-date", "2026-12-08")
    assert result.code == 0, result.err


def test_identity_never_reaches_the_journal(ws, cli, tmp_path):
    assert cli("applicant", "set", CASE, *IDENTITY_OPTIONS).code == 0
    passport = make_pdf(tmp_path / "p.pdf")
    raw = make_eml(
        tmp_path / f"demande_{NAME}.eml", sent=datetime(2025, 11, 2, 10, 0, tzinfo=PARIS),
        sender=f"{NAME} <jean-baptiste.dupont@example.org>",
        subject="Demande de RDV - DUPONT Jean-Baptiste - AGDREF 75 0123 4567",
        attachments=(("passeport_DUPONT.pdf", passport, "application/pdf"),),
    )
    assert add(cli, "--file", str(tmp_path / f"demande_{NAME}.eml"), "--direction", "sent", "--channel", "email").code == 0
    make_pdf(tmp_path / "ar.pdf")
    assert cli("letter", "proof", CASE, "1", str(tmp_path / "ar.pdf")).code == 0

    with ws.reading() as session:
        payloads = [row.payload for row in session.scalars(select(JournalEntry))]
        applicant = session.scalars(select(Applicant)).one()
        letter = session.get(Letter, 1)
        assert letter.subject == "Demande de RDV - *** ***-*** - AGDREF ***"
        assert [a.filename for a in letter.artefacts] == ["demande_***.eml", "passeport_***.pdf", "ar.pdf"]
    everything = "\n".join(payloads).lower()
    for value in IDENTITY_VALUES:
        assert value.lower() not in everything, value
    [entry] = entries(ws, "applicant.set")
    assert entry["data"]["applicant"] == applicant.to_record()
    assert set(entry["data"]["applicant"]) == {"id", "case_id", "updated_at", "fields_sha256"}
    # The evidence itself is kept intact.
    assert ws.blobs.read(hashlib.sha256(raw).hexdigest()) == raw
    assert verify_workspace(ws).ok
    assert verify_workspace(ws, CASE).ok


def test_verify_sees_an_identity_changed_behind_the_tools_back(ws, cli):
    assert cli("applicant", "set", CASE, *IDENTITY_OPTIONS).code == 0
    raw_sql(ws, "UPDATE applicants SET birth_place = 'Dakar'")
    problems = [p.detail for p in verify_workspace(ws).problems]
    assert len(problems) == 1 and problems[0].startswith("champ « fields_sha256 » modifié")
    assert [p.detail for p in verify_workspace(ws, CASE).problems] == problems
