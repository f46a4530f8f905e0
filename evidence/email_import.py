"""Read what a letter record needs from an email saved as `.eml`: date, from, to, subject, attachments.

Only the standard library is used. The .eml file itself is kept byte for byte as the letter's
evidence; what is read here is a summary of it. Headers written as raw 8-bit bytes (old mail
clients, iso-8859-1) are decoded as UTF-8 when they are valid UTF-8, else in the message's
declared charset, else in Windows-1252 (a superset of iso-8859-1 for printable text).
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from html import unescape

from evidence.errors import BadInput

_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class EmailFacts:
    sent_at: datetime  # aware
    sender: str | None
    recipients: str | None
    subject: str | None
    attachments: tuple[EmailAttachment, ...]
    text: str = ""  # the message's own text parts (plain, or HTML as text), attachments aside


def parse_eml(data: bytes, name: str) -> EmailFacts:
    """The facts of one email; BadInput when it cannot be dated or is not an email at all."""
    try:
        return _parse_eml(data, name)
    except BadInput:
        raise
    except Exception as exc:  # the standard library's parser raises many exception types on malformed mail
        raise BadInput(f"{name} : courriel mal formé, illisible") from exc


def _parse_eml(data: bytes, name: str) -> EmailFacts:
    message = email.message_from_bytes(data, policy=policy.default)
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default always gives one
        raise BadInput(f"{name} : courriel illisible")
    charset = message.get_content_charset() or "cp1252"
    sender = _header(message, "From", charset)
    recipients = _header(message, "To", charset)
    if sender is None and recipients is None:
        raise BadInput(f"{name} : ce fichier .eml n'est pas un courriel (ni expéditeur ni destinataire)")
    return EmailFacts(
        sent_at=_sent_at(message, name),
        sender=sender,
        recipients=recipients,
        subject=_header(message, "Subject", charset),
        attachments=tuple(_attachments(message, name)),
        text=_body_text(message),
    )


def html_to_text(html: str) -> str:
    """An HTML body as plain text: scripts and styles dropped, block ends as line breaks."""
    html = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", html)
    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


def _body_text(message: EmailMessage) -> str:
    texts = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment" or part.get_filename():
            continue
        if part.get_content_maintype() != "text":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # an unknown or broken charset: the words cannot be read
            continue
        texts.append(html_to_text(content) if part.get_content_subtype() == "html" else content)
    return "\n".join(texts)


def _sent_at(message: EmailMessage, name: str) -> datetime:
    header = message["Date"]
    moment = getattr(header, "datetime", None) if header is not None else None
    if moment is None:
        raise BadInput(f"{name} : courriel sans date lisible (en-tête Date absent ou invalide)")
    # "-0000" means "time zone unknown"; RFC 5322 says the time is then UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _header(message: EmailMessage, header_name: str, charset: str) -> str | None:
    """A header as text, encoded words decoded, raw 8-bit bytes decoded in the best charset."""
    raw = next((value for key, value in message.raw_items() if key.lower() == header_name.lower()), None)
    if raw is None:
        return None
    try:
        raw.encode("ascii")
    except UnicodeEncodeError:  # 8-bit bytes kept as surrogate escapes by the parser
        text = _decode_8bit(raw.encode("ascii", "surrogateescape"), charset)
    else:
        text = _parsed_header(message, header_name, raw)
    text = " ".join(text.split())
    return text or None


def _parsed_header(message: EmailMessage, header_name: str, raw: str) -> str:
    """The header as the standard library decodes it, or its raw text when the library's parser
    fails on a malformed value (« To: < » raises IndexError in Python 3.11)."""
    try:
        return str(message[header_name])
    except Exception:  # noqa: BLE001 - any parser failure: the raw text is still the header
        return raw


def _decode_8bit(data: bytes, charset: str) -> str:
    for candidate in ("utf-8", charset):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("cp1252", errors="replace")


def _attachments(message: EmailMessage, name: str) -> list[EmailAttachment]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and filename is None:
            continue  # the body (text, HTML, inline parts without a name)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        found.append(
            EmailAttachment(
                filename=check_attachment_name(filename, name) if filename else f"piece-jointe-{len(found) + 1}",
                media_type=part.get_content_type(),
                data=data,
            )
        )
    return found


def check_attachment_name(filename: str, name: str) -> str:
    """Refuse a name that could write outside a folder if someone saved the file under it."""
    cleaned = filename.strip()
    if (
        not cleaned
        or "/" in cleaned
        or "\\" in cleaned
        or cleaned in (".", "..")
        or _DRIVE_PREFIX.match(cleaned)
        or any(ord(c) < 32 or ord(c) == 127 for c in cleaned)
        or len(cleaned) > 255
    ):
        raise BadInput(f"{name} : pièce jointe au nom dangereux refusée : {filename!r}")
    return cleaned
