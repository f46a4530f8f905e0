"""How each file kept with a letter is reproduced on paper.

A PDF keeps its own pages (merged later onto numbered pages by `piece_files`); an image is shown
as an image; an e-mail (.eml) or a text file is printed as text; anything else is listed with its
hash only. The originals never change: these are print copies.
"""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from dossier_builder.facts import FileFacts
from dossier_builder.images import jpeg_copy
from dossier_builder.render import paris_long
from evidence.email_import import html_to_text
from evidence.letters import (
    ATTACHMENT_KIND,
    EMAIL_MEDIA_TYPE,
    LETTER_KIND,
    PDF_MEDIA_TYPE,
    PROOF_KIND,
    RECEIPT_KIND,
)

KIND_LABELS = {
    LETTER_KIND: "Courrier",
    ATTACHMENT_KIND: "Pièce jointe du courriel",
    PROOF_KIND: "Preuve d'envoi ou de réception",
    RECEIPT_KIND: "Avis de réception",
}
EMAIL_HEADERS = (("From", "De"), ("To", "À"), ("Cc", "Copie"), ("Date", "Date"), ("Subject", "Objet"))


@dataclass(frozen=True)
class Part:
    file: FileFacts
    title: str
    mode: str  # "pdf" | "image" | "text" | "listed"
    pages: int = 0  # for "pdf"
    image: str | None = None  # for "image": URL of the JPEG copy
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    notes: str = ""
    source: Path | None = field(default=None, compare=False)


def kind_title(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def _is_email(item: FileFacts) -> bool:
    return item.media_type.startswith(EMAIL_MEDIA_TYPE) or (item.filename or "").lower().endswith(".eml")


def _header_text(value: object) -> str:
    """A header as the pièce prints it: a date in French and Paris time (« lundi 30 novembre 2026 à 10:00:00
    (UTC+01:00) »), anything else as written."""
    moment = getattr(value, "datetime", None)  # set on a Date header the e-mail parser could read
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return paris_long(moment)
    return str(value)


def _email_part(item: FileFacts, title: str, source: Path) -> Part:
    message = email.message_from_bytes(source.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    headers = tuple((label, _header_text(message[name])) for name, label in EMAIL_HEADERS if message[name])
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    attached = [
        f"{part.get_filename() or 'sans nom'} ({len(part.get_payload(decode=True) or b'')} octets)"
        for part in message.iter_attachments()
    ]
    notes = f"Pièces jointes du courriel : {', '.join(attached)}." if attached else ""
    return Part(item, title, "text", text=text.strip(), headers=headers, notes=notes, source=source)


def _pdf_pages(source: Path) -> int | None:
    try:
        reader = PdfReader(source)
        if reader.is_encrypted:
            return None
        return len(reader.pages)
    except (PyPdfError, OSError, ValueError):
        return None


def prepare(item: FileFacts, source: Path, work_dir: Path) -> Part:
    """Decide how `item` (stored at `source`) is reproduced; writes an image copy into `work_dir`."""
    title = kind_title(item.kind)
    if item.media_type == PDF_MEDIA_TYPE:
        pages = _pdf_pages(source)
        if pages:
            return Part(item, title, "pdf", pages=pages, source=source)
        return Part(item, title, "listed", source=source)
    if item.media_type.startswith("image/"):
        dest = work_dir / f"letter-{item.id}.jpg"
        try:
            jpeg_copy(source, dest)
        except OSError:  # not an image Pillow can read
            return Part(item, title, "listed", source=source)
        return Part(item, title, "image", image=dest.name, source=source)
    if _is_email(item):
        return _email_part(item, title, source)
    if item.media_type.startswith("text/"):
        text = source.read_bytes().decode("utf-8", errors="replace")
        if item.media_type.startswith("text/html"):
            text = html_to_text(text)
        return Part(item, title, "text", text=text, source=source)
    return Part(item, title, "listed", source=source)
