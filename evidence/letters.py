"""Letters to and from the prefecture, with their postal proofs.

A letter is imported from a PDF, a scanned image (PNG, JPEG) or an email saved as `.eml` (its
date, addresses and subject are read from its headers; its attachments are kept as files of their
own). Proofs — LRAR receipt, avis de réception, tracking printout — are attached to it, at once or
later. Every file is checked (readable, known format, under the size cap, safe names) before any
blob is written, so bad input stores nothing. A letter recorded as sent that still holds a blank of
our drafts is refused (`letter_text`).

The day the prefecture received a sent letter (its avis de réception) is a `CaseEvent` of kind
"receipt", recorded with the letter or later; the two-month silence counts from it when known.

What goes into the row, and so into the journal that cannot forget, is kept free of the
applicant's identity: only the administration's address is copied from an email (the applicant's
own stays in the .eml file), and the applicant's name and numéro d'étranger are masked in the
subject and the file names (see `applicants.mask_identity`).
"""

from __future__ import annotations

import calendar
import io
import logging
import os
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PasswordType, PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from evidence import journal
from evidence.applicants import get_applicant, mask_identity
from evidence.database import get_row
from evidence.email_import import EmailFacts, parse_eml
from evidence.blobs import plain_reason
from evidence.errors import BadInput, NotFound, WorkspaceError
from evidence.letter_text import collapse, find_blanks, pdf_subject, pdf_text
from evidence.localtime import PARIS
from evidence.models import Applicant, Artefact, Case, CaseEvent, Letter
from evidence.purge import open_case
from evidence.records import NewArtefact, Seal, StoredBlob, artefact_rows, sealer, store_blobs
from evidence.strict_images import whole_images_only
from evidence.workspace import Workspace

DIRECTIONS = {"sent": "envoyé", "received": "reçu"}
CHANNELS = {
    "email": "courriel",
    "lrar": "lettre recommandée avec avis de réception",
    "courrier": "courrier simple",
    "depot": "dépôt au guichet de la préfecture",
    "telephone": "appel téléphonique",
}
# A telephone call is no written request: the two-month silence rule does not apply to it.
WRITTEN_CHANNELS = frozenset(CHANNELS) - {"telephone"}
SILENCE_MONTHS = 2

# Télérecours' limit for one file, the decimal reading (the stricter); a letter and its proofs are one pièce.
TELERECOURS_MAX_BYTES = 32 * 1000 * 1000
LETTER_KIND = "letter"  # the letter itself (PDF, scan or .eml)
ATTACHMENT_KIND = "letter_attachment"  # a file attached to an .eml
PROOF_KIND = "letter_proof"  # proof of sending: LRAR receipt, tracking printout …
RECEIPT_KIND = "letter_receipt"  # the avis de réception, recorded with the day of receipt
RECEIPT_EVENT = "receipt"  # CaseEvent.kind of a letter's receipt by the prefecture

DEFAULT_MAX_FILE_MB = 50
MAX_SUBJECT_LENGTH = 500
MAX_TRACKING_LENGTH = 100
MAX_ADDRESS_LENGTH = 500

PDF_MEDIA_TYPE = "application/pdf"
EMAIL_MEDIA_TYPE = "message/rfc822"
_MAGIC = ((b"%PDF-", PDF_MEDIA_TYPE), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class LetterInput:
    """What the user says about a letter; the date may come from an .eml's headers instead."""

    file: Path
    direction: str
    channel: str
    letter_date: date | None = None
    tracking: str | None = None
    subject: str | None = None
    proofs: tuple[Path, ...] = ()
    answers: int | None = None
    received_on: date | None = None  # the day the prefecture received it (avis de réception)
    receipts: tuple[Path, ...] = ()  # the avis de réception itself


@dataclass(frozen=True)
class LoadedFile:
    """A file read and checked, not yet stored."""

    path: Path
    media_type: str
    data: bytes
    email: EmailFacts | None = None


@dataclass(frozen=True)
class LetterFile:
    artefact_id: int
    kind: str
    filename: str | None
    media_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class LetterSummary:
    """A letter as `letter list` shows it, with its answers and the silence flag."""

    id: int
    letter_date: date
    direction: str
    channel: str
    subject: str | None
    tracking: str | None
    sender: str | None
    recipient: str | None
    answers_id: int | None
    answered_by: tuple[int, ...]
    files: tuple[LetterFile, ...]
    silence_since: date | None  # when two months of silence elapsed, if they did
    received_on: date | None = None  # when the prefecture received it, if known

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": self.letter_date.isoformat(),
            "direction": self.direction,
            "channel": self.channel,
            "subject": self.subject,
            "tracking": self.tracking,
            "sender": self.sender,
            "recipient": self.recipient,
            "answers": self.answers_id,
            "answered_by": list(self.answered_by),
            "files": [vars(f) for f in self.files],
            "silence": self.silence_since is not None,
            "silence_since": self.silence_since.isoformat() if self.silence_since else None,
            "received_on": self.received_on.isoformat() if self.received_on else None,
        }


def max_file_bytes(workspace: Workspace) -> int:
    """The size cap of one imported file: preuves.toml [letters] max_file_mb (default 50)."""
    value = workspace.section("letters").get("max_file_mb", DEFAULT_MAX_FILE_MB)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise WorkspaceError("preuves.toml : max_file_mb (section letters) doit être un nombre entier de Mo positif")
    return value * 1024 * 1024


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def paris_today(workspace: Workspace) -> date:
    return workspace.clock.now().astimezone(PARIS).date()


# --- reading and checking files -------------------------------------------------------------


def load_file(path: Path, max_bytes: int) -> LoadedFile:
    """Read one file and check it is a PDF, a PNG/JPEG image or an .eml email that can be used."""
    name = shown_path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise BadInput(f"{name} : lecture impossible ({plain_reason(exc)})") from exc
    if not path.is_file():
        raise BadInput(f"{name} : ce n'est pas un fichier")
    if info.st_size > max_bytes:
        raise BadInput(
            f"{name} : fichier trop volumineux ({_megabytes(info.st_size)} Mo, "
            f"{_megabytes(max_bytes)} Mo au plus — réglage max_file_mb de preuves.toml)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{name} : lecture impossible ({plain_reason(exc)})") from exc
    if not data:
        raise BadInput(f"{name} : fichier vide")
    media_type = next((media for magic, media in _MAGIC if data.startswith(magic)), None)
    if media_type == PDF_MEDIA_TYPE:
        _check_pdf(name, data)
    elif media_type is not None:
        _check_image(name, data)
    elif path.suffix.lower() == ".eml":
        return LoadedFile(path, EMAIL_MEDIA_TYPE, data, parse_eml(data, name))
    else:
        raise BadInput(f"{name} : format non reconnu (PDF, image PNG ou JPEG, ou courriel .eml attendu)")
    return LoadedFile(path, media_type, data)


def shown_path(path: Path) -> str:
    """A file's path as an error message shows it: on one line, whatever its name holds.

    Linux lets a file name hold line breaks, terminal escapes and bytes that are not UTF-8; such a
    path is shown quoted, with those characters escaped (Python's repr).
    """
    text = str(path)
    return text if text.isprintable() else repr(text)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")


@contextmanager
def quiet_pypdf() -> Iterator[None]:
    """pypdf logs repairs of sloppy files as warnings; the user gets our one line instead."""
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _check_pdf(name: str, data: bytes) -> None:
    try:
        with quiet_pypdf():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise BadInput(f"{name} : PDF protégé par un mot de passe (enregistrez-en une copie sans mot de passe)")
            pages = len(reader.pages)
    except BadInput:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise BadInput(f"{name} : PDF illisible ou endommagé") from exc
    if pages == 0:
        raise BadInput(f"{name} : PDF sans aucune page")


@contextmanager
def _strict_pillow() -> Iterator[None]:
    """Refuse truncated images (see strict_images.py) and images large enough to be a decompression bomb."""
    with whole_images_only(), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _check_image(name: str, data: bytes) -> None:
    try:
        with _strict_pillow(), Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated scan fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise BadInput(f"{name} : image illisible ou tronquée") from exc


# --- recording --------------------------------------------------------------------------------


def check_choice(value: str, choices: dict[str, str], what: str) -> str:
    if value not in choices:
        raise BadInput(f"{what} inconnu : {value!r} (valeurs possibles : {', '.join(choices)})")
    return value


def clean_line(value: str | None, what: str, limit: int) -> str | None:
    """A line typed by the user: refused when too long or holding control characters."""
    if value is None:
        return None
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if not value:
        return None
    if len(value) > limit:
        raise BadInput(f"{what} : texte trop long, {limit} caractères au plus")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise BadInput(f"{what} : caractère de contrôle interdit")
    return value


def _header_line(value: str | None, limit: int) -> str | None:
    """A line read from an email header: control characters dropped, cut to the column's width."""
    if value is None:
        return None
    value = "".join(c for c in unicodedata.normalize("NFC", value) if unicodedata.category(c) != "Cc")
    value = " ".join(value.split())
    return (value[: limit - 1] + "…" if len(value) > limit else value) or None


def _letter_day(request: LetterInput, loaded: LoadedFile, today: date) -> date:
    if loaded.email is not None:
        header_day = loaded.email.sent_at.astimezone(PARIS).date()
        if request.letter_date is not None and request.letter_date != header_day:
            raise BadInput(
                f"{shown_path(loaded.path)} : la date donnée ({request.letter_date.isoformat()}) diffère de celle "
                f"du courriel ({header_day.isoformat()})"
            )
        day = header_day
    elif request.letter_date is None:
        raise BadInput("date du courrier manquante (option --date)")
    else:
        day = request.letter_date
    if day > today:
        raise BadInput(f"date dans le futur : {day.isoformat()} (nous sommes le {today.isoformat()})")
    return day


def stored_name(path: Path) -> str:
    """The file name kept in the row: a name that is not UTF-8 (its bytes reach Python as lone
    surrogates, which the database refuses) keeps its readable part, U+FFFD for the rest."""
    return os.fsencode(path.name).decode("utf-8", errors="replace")


def _letter_files(
    main: LoadedFile, proofs: list[LoadedFile], receipts: list[LoadedFile], applicant: Applicant | None
) -> list[NewArtefact]:
    filename = mask_identity(stored_name(main.path), applicant)
    files = [NewArtefact(LETTER_KIND, main.media_type, data=main.data, filename=filename)]
    if main.email is not None:
        files += [
            NewArtefact(ATTACHMENT_KIND, a.media_type, data=a.data, filename=mask_identity(a.filename, applicant))
            for a in main.email.attachments
        ]
    return files + _proof_files(proofs, applicant) + _proof_files(receipts, applicant, RECEIPT_KIND)


def _proof_files(proofs: list[LoadedFile], applicant: Applicant | None, kind: str = PROOF_KIND) -> list[NewArtefact]:
    return [
        NewArtefact(kind, proof.media_type, data=proof.data, filename=mask_identity(stored_name(proof.path), applicant))
        for proof in proofs
    ]


def _letter_text(main: LoadedFile) -> str:
    """What can be read of the letter: an email's subject and text, a PDF's text; nothing of a scan."""
    if main.email is not None:
        return f"{main.email.subject or ''}\n{main.email.text}"
    if main.media_type != PDF_MEDIA_TYPE:
        return ""
    try:
        with quiet_pypdf():
            return pdf_text(main.data)
    except Exception:  # noqa: BLE001 - pypdf fails in many ways on odd content streams: then the text is unread
        return ""


def _check_no_blank(main: LoadedFile) -> None:
    """A letter recorded as sent must not hold a blank of our drafts (see `letter_text`)."""
    blanks = find_blanks(_letter_text(main))
    if blanks:
        more = f" (et {len(blanks) - 1} autre(s))" if len(blanks) > 1 else ""
        raise BadInput(
            f"{shown_path(main.path)} : blanc non complété « {blanks[0]} »{more} : complétez le courrier "
            "avant de l'enregistrer comme envoyé"
        )


def _subject(request: LetterInput, main: LoadedFile, applicant: Applicant | None) -> str | None:
    """The letter's own subject (an email's, or the Objet a draft wrote into its PDF), else the one
    given; refused when both exist and differ, since documents quote it as the letter's words."""
    own = main.email.subject if main.email is not None else None
    if main.email is None and main.media_type == PDF_MEDIA_TYPE:
        with quiet_pypdf():
            own = pdf_subject(main.data)
    if own is not None and request.subject is not None and collapse(request.subject) != collapse(own):
        raise BadInput(
            f"{shown_path(main.path)} : l'objet donné diffère de celui du courrier (« {own} ») : "
            "omettez --subject, l'objet du courrier est repris tel quel"
        )
    if own is not None:
        return _header_line(mask_identity(own, applicant), MAX_SUBJECT_LENGTH)
    return clean_line(mask_identity(request.subject, applicant), "objet", MAX_SUBJECT_LENGTH)


def _check_receipt(received_on: date, letter_date: date, direction: str, channel: str, today: date) -> None:
    if direction != "sent":
        raise BadInput("la date de réception (--received-on) vaut pour un courrier envoyé à la préfecture")
    if channel not in WRITTEN_CHANNELS:
        raise BadInput("un appel téléphonique n'a pas de date de réception")
    if received_on < letter_date:
        raise BadInput(
            f"date de réception ({received_on.isoformat()}) antérieure à l'envoi ({letter_date.isoformat()})"
        )
    if received_on > today:
        raise BadInput(f"date de réception dans le futur : {received_on.isoformat()} (nous sommes le {today.isoformat()})")


def _addresses(loaded: LoadedFile, direction: str, applicant: Applicant | None) -> tuple[str | None, str | None]:
    """(sender, recipient) to keep: only the administration's side of an email."""
    if loaded.email is None:
        return None, None
    if direction == "sent":
        return None, _header_line(mask_identity(loaded.email.recipients, applicant), MAX_ADDRESS_LENGTH)
    return _header_line(mask_identity(loaded.email.sender, applicant), MAX_ADDRESS_LENGTH), None


def _find_letter(session: Session, case: Case, letter_id: int) -> Letter:
    letter = get_row(session, Letter, letter_id)
    if letter is None or letter.case_id != case.id:
        raise NotFound(f"courrier n° {letter_id} inconnu dans le dossier « {case.label} » (voir « preuves letter list »)")
    return letter


def _check_piece_size(files: list[LoadedFile], already: int = 0) -> None:
    """A letter and its proofs make one pièce of the dossier, and Télérecours refuses a file over 32 Mo:
    refused now, while the person can still send a lighter scan, rather than when the dossier is built."""
    total = already + sum(len(loaded.data) for loaded in files)
    if total > TELERECOURS_MAX_BYTES:
        size = f"{total / 1_000_000:.1f}".replace(".", ",")
        raise BadInput(
            f"{shown_path(files[0].path)} : le courrier et ses preuves font {size} Mo, or Télérecours "
            f"refuse toute pièce de plus de {TELERECOURS_MAX_BYTES // 1_000_000} Mo : numérisez-les plus légers "
            "(150 ppp, niveaux de gris) avant de les enregistrer"
        )


def record_letter(workspace: Workspace, case_reference: str, request: LetterInput) -> Letter:
    """Check everything, then store the files, then one row per item and one journal entry."""
    direction = check_choice(request.direction, DIRECTIONS, "sens")
    channel = check_choice(request.channel, CHANNELS, "moyen d'envoi")
    tracking = clean_line(request.tracking, "numéro de suivi", MAX_TRACKING_LENGTH)
    if request.receipts and request.received_on is None:
        raise BadInput("avis de réception donné sans la date de réception (option --received-on)")
    limit = max_file_bytes(workspace)
    main = load_file(request.file, limit)
    proofs = [load_file(path, limit) for path in request.proofs]
    receipts = [load_file(path, limit) for path in request.receipts]
    _check_piece_size([main, *proofs, *receipts])
    today = paris_today(workspace)
    day = _letter_day(request, main, today)
    if request.received_on is not None:
        _check_receipt(request.received_on, day, direction, channel, today)
    if direction == "sent":
        _check_no_blank(main)
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        applicant = get_applicant(session, case)
        if request.answers is not None:
            answered = _find_letter(session, case, request.answers)
            if answered.letter_date > day:
                raise BadInput(
                    f"le courrier n° {answered.id} est daté du {answered.letter_date.isoformat()} : "
                    "une réponse ne peut pas le précéder"
                )
        case_id = case.id
        subject = _subject(request, main, applicant)
        sender, recipient = _addresses(main, direction, applicant)
        files = _letter_files(main, proofs, receipts, applicant)
        seal = sealer(workspace, session, case)

    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        letter = Letter(
            case_id=case_id,
            letter_date=day,
            direction=direction,
            channel=channel,
            subject=seal(subject),
            tracking=tracking,
            sender=seal(sender),
            recipient=seal(recipient),
            answers_id=request.answers,
            created_at=now,
        )
        letter.artefacts = artefact_rows(files, stored, now, seal)
        session.add(letter)
        session.flush()
        data: dict[str, Any] = {"letter": letter.to_record(), "artefacts": [row.to_record() for row in letter.artefacts]}
        if request.received_on is not None:
            data["event"] = _add_receipt(session, letter, request.received_on, now).to_record()
        journal.append(session, "letter.recorded", data, now)
    return letter


def _add_receipt(session: Session, letter: Letter, received_on: date, now: datetime) -> CaseEvent:
    event = CaseEvent(
        case_id=letter.case_id, kind=RECEIPT_EVENT, event_date=received_on, letter_id=letter.id, created_at=now
    )
    session.add(event)
    session.flush()
    return event


def add_proofs(workspace: Workspace, case_reference: str, letter_id: int, paths: list[Path]) -> list[Artefact]:
    """Attach proofs to a letter already recorded: a new journal entry, nothing rewritten."""
    if not paths:
        raise BadInput("aucune preuve donnée")
    limit = max_file_bytes(workspace)
    proofs = [load_file(path, limit) for path in paths]
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        _check_piece_size(proofs, sum(row.size for row in _find_letter(session, case, letter_id).artefacts))
        files = _proof_files(proofs, get_applicant(session, case))
        seal = sealer(workspace, session, case)
    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        rows = _letter_artefacts(session, letter_id, files, stored, now, seal)
        journal.append(
            session,
            "letter.proof_added",
            {"letter_id": letter_id, "artefacts": [row.to_record() for row in rows]},
            now,
        )
    return rows


def record_receipt(
    workspace: Workspace, case_reference: str, letter_id: int, received_on: date, paths: list[Path]
) -> CaseEvent:
    """The day the prefecture received a sent letter, with its avis de réception if given: a new
    journal entry; recorded again, the latest day counts (a correction, nothing rewritten)."""
    limit = max_file_bytes(workspace)
    receipts = [load_file(path, limit) for path in paths]
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        letter = _find_letter(session, case, letter_id)
        _check_receipt(received_on, letter.letter_date, letter.direction, letter.channel, paris_today(workspace))
        if receipts:
            _check_piece_size(receipts, sum(row.size for row in letter.artefacts))
        files = _proof_files(receipts, get_applicant(session, case), RECEIPT_KIND)
        seal = sealer(workspace, session, case)
    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        rows = _letter_artefacts(session, letter_id, files, stored, now, seal)
        event = _add_receipt(session, session.get_one(Letter, letter_id), received_on, now)
        journal.append(
            session,
            "letter.receipt_recorded",
            {"letter_id": letter_id, "event": event.to_record(), "artefacts": [row.to_record() for row in rows]},
            now,
        )
    return event


def _letter_artefacts(
    session: Session, letter_id: int, files: list[NewArtefact], stored: list[StoredBlob], now: datetime, seal: Seal
) -> list[Artefact]:
    rows = artefact_rows(files, stored, now, seal)
    for row in rows:
        row.letter_id = letter_id
    session.add_all(rows)
    session.flush()
    return rows


# --- listing --------------------------------------------------------------------------------


def silence_since(
    direction: str, channel: str, letter_date: date, answered: bool, today: date, received_on: date | None = None
) -> date | None:
    """The day two months of silence elapsed after a written request, if that day has come. They
    count from the day the prefecture received it when known (its avis de réception), else from
    the letter's date.

    Only a received letter answers a sent one; `answered` says whether there is one.
    """
    if direction != "sent" or channel not in WRITTEN_CHANNELS or answered:
        return None
    due = add_months(received_on or letter_date, SILENCE_MONTHS)
    return due if today >= due else None


def receipt_dates(session: Session, case_id: int) -> dict[int, date]:
    """Letter id → the day the prefecture received it (the latest receipt recorded counts)."""
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == RECEIPT_EVENT)
        .order_by(CaseEvent.id)
    )
    return {event.letter_id: event.event_date for event in events if event.letter_id is not None}


def letter_summaries(session: Session, case: Case, today: date) -> list[LetterSummary]:
    letters = list(
        session.scalars(
            select(Letter)
            .where(Letter.case_id == case.id)
            .options(selectinload(Letter.artefacts))
            .order_by(Letter.letter_date, Letter.id)
        )
    )
    received = receipt_dates(session, case.id)
    answers: dict[int, list[int]] = {}
    received_answer: set[int] = set()
    for letter in letters:
        if letter.answers_id is not None:
            answers.setdefault(letter.answers_id, []).append(letter.id)
            if letter.direction == "received":
                received_answer.add(letter.answers_id)
    return [
        LetterSummary(
            id=letter.id,
            letter_date=letter.letter_date,
            direction=letter.direction,
            channel=letter.channel,
            subject=letter.subject,
            tracking=letter.tracking,
            sender=letter.sender,
            recipient=letter.recipient,
            answers_id=letter.answers_id,
            answered_by=tuple(answers.get(letter.id, ())),
            files=tuple(
                LetterFile(a.id, a.kind, a.filename, a.media_type, a.sha256, a.size) for a in letter.artefacts
            ),
            silence_since=silence_since(
                letter.direction,
                letter.channel,
                letter.letter_date,
                letter.id in received_answer,
                today,
                received.get(letter.id),
            ),
            received_on=received.get(letter.id),
        )
        for letter in letters
    ]
