"""What a letter's file says, read before it is recorded: its text, the blanks of our drafts still
in it, and its own subject line.

A draft made by `preuves letter draft` marks each piece of information only a person can supply as
« [à compléter : …] », and a passage to delete before use with « (à retirer) ». A letter recorded as
sent that still holds one was not sent as it should have been: the tool refuses it rather than
keep, as evidence, an unaddressed or unfinished letter. The text of a PDF and of an email can be
read; a scan (an image) cannot, and then nothing is said.

The draft also writes its « Objet » into the PDF's metadata (Subject), so the subject recorded with
the letter — and quoted later in the requête — is the letter's own, word for word.
"""

from __future__ import annotations

import io
import re
import unicodedata

from pypdf import PdfReader

BLANK_PREFIX = "[à compléter"
REVIEW_MARK = "(à retirer)"
DRAFT_AUTHOR = "Preuves RDV"  # the Author of every PDF `letter draft` writes
_BLANK = re.compile(r"\[\s*à\s+compléter\s*(?::\s*([^\]]*))?\]", re.IGNORECASE)
_REVIEW = re.compile(r"\(\s*à\s+retirer\s*\)", re.IGNORECASE)


def blank(what: str) -> str:
    """How a draft prints a blank: « [à compléter : adresse du service des étrangers] »."""
    return f"{BLANK_PREFIX} : {what}]"


def collapse(text: str) -> str:
    """NFC, and every run of white space (line breaks of a PDF's layout included) as one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def find_blanks(text: str) -> list[str]:
    """The blanks still in `text`, in order, each named by what it asks for."""
    text = collapse(text)
    found = [match.group(1).strip() if match.group(1) else "" for match in _BLANK.finditer(text)]
    found += ["note pour la relecture à retirer"] * len(_REVIEW.findall(text))
    return [what or "sans précision" for what in found]


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF (empty for a scan), and its metadata subject."""
    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() or "" for page in reader.pages]
    return "\n".join([draft_subject(reader) or "", *pages])


def pdf_subject(data: bytes) -> str | None:
    """The « Objet » of a PDF made by `letter draft`, as its metadata keeps it; None for other PDFs."""
    return draft_subject(PdfReader(io.BytesIO(data)))


def draft_subject(reader: PdfReader) -> str | None:
    metadata = reader.metadata
    if metadata is None or metadata.author != DRAFT_AUTHOR or not metadata.subject:
        return None
    return collapse(str(metadata.subject))
