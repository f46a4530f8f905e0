"""A complete case for the drafts' tests: attempts with real screenshots over five weeks, the
applicant's identity and answers, a registered letter received by the prefecture, an email and
its answer, a phone call and a visit to the counter. And how to read a draft back."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from pypdf import PdfReader

from dossier_builder.pieces import plan_pieces
from evidence.applicants import ApplicantFields, set_applicant
from evidence.events import EventInput, record_event
from evidence.letters import LetterInput, record_letter
from evidence.localtime import PARIS
from evidence.records import CaptureFacts, NewArtefact, TargetSpec, add_case, find_case, record_capture
from evidence.workspace import Workspace
from tests.evidence_helpers import pdf_bytes, sample_png

CASE = "dossier-1"
URL = "https://www.val-doise.gouv.fr/booking/create/11343"
NOSLOT_TEXT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous."
TODAY = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # the permit expires 12 days later
# (UTC start, state). In Paris: 20/10 is summer time (UTC+02:00), the others winter time (UTC+01:00).
ATTEMPTS = [
    (datetime(2026, 10, 20, 7, 15, tzinfo=UTC), "noslot"),  # 09:15 Paris
    (datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "noslot"),  # 09:30
    (datetime(2026, 11, 5, 13, 10, tzinfo=UTC), "noslot"),  # 14:10
    (datetime(2026, 11, 10, 17, 45, tzinfo=UTC), "noslot"),  # 18:45
    (datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "error"),  # 10:00
    (datetime(2026, 11, 13, 9, 0, tzinfo=UTC), "captcha"),  # 10:00
    (datetime(2026, 11, 14, 9, 0, tzinfo=UTC), "slots"),  # 10:00 — not a failure
    (datetime(2026, 11, 18, 6, 5, tzinfo=UTC), "noslot"),  # 07:05
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), "noslot"),  # 11:00
]
SERVICE = "Service des migrations et de l'intégration\n5 avenue Bernard Hirsch\n95010 Cergy-Pontoise Cedex"
IDENTITY = ApplicantFields(
    "Awa Traoré", date(1990, 3, 14), "Bamako", "malienne", "12 rue des Lilas\n95000 Cergy", "7501234567",
    date(2026, 12, 15), civility="Mme", application="renouvellement", on_anef=False, oqtf=False, refusal=False,
    service_address=SERVICE,
)
LRAR_SUBJECT = "Demande de rendez-vous — renouvellement de titre de séjour"
EMAIL_SUBJECT = "Relance : demande de rendez-vous"
ANSWER_SUBJECT = "Accusé de réception de votre courriel"
CALL = "Aucune réponse après 40 minutes d'attente"
VISIT = "Renvoyée vers le site internet, aucun rendez-vous donné"


def add_attempts(
    workspace: Workspace, target_id: int, attempts: list[tuple[datetime, str]] = ATTEMPTS, *, dated: bool = False
) -> None:
    """The attempts, each with its screenshot; with `dated`, as the tool records them: the same raw
    page every time (same hash) and a dated copy of its own."""
    for number, (start, state) in enumerate(attempts, start=1):
        facts = CaptureFacts(
            target_id=target_id, attempt_no=number, started_at=start,
            finished_at=start + timedelta(seconds=5), url_requested=URL, final_url=URL + "/2",
            http_status=200, state=state, platform="ezbooking",
            evidence_text=NOSLOT_TEXT if state == "noslot" else state,
        )
        if dated:
            files = [
                NewArtefact("screenshot", "image/png", data=sample_png("la même page")),
                NewArtefact("screenshot_annotated", "image/png", data=sample_png(f"{start:%d/%m/%Y %H:%M} UTC")),
            ]
        else:
            files = [NewArtefact("screenshot", "image/png", data=sample_png(f"Tentative {number} : {state}"))]
        record_capture(workspace, facts, files)


def email_file(path: Path, sent: datetime, subject: str) -> Path:
    message = EmailMessage()
    message["From"] = "awa.traore@example.org"
    message["To"] = "pref-etrangers@val-doise.gouv.fr"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message.set_content("Madame, Monsieur,\nJe n'obtiens toujours aucun rendez-vous.\n")
    path.write_bytes(bytes(message))
    return path


def add_letters(workspace: Workspace, folder: Path) -> None:
    """1: LRAR received four days later, never answered; 2: email, answered by 3; a call, a visit."""
    (folder / "lettre.pdf").write_bytes(pdf_bytes())
    record_letter(workspace, CASE, LetterInput(
        folder / "lettre.pdf", "sent", "lrar", date(2026, 11, 12), tracking="1A 111 222 333 4",
        subject=LRAR_SUBJECT, received_on=date(2026, 11, 16),
    ))
    sent = email_file(folder / "relance.eml", datetime(2026, 11, 19, 10, 12, tzinfo=PARIS), EMAIL_SUBJECT)
    record_letter(workspace, CASE, LetterInput(sent, "sent", "email"))
    record_letter(workspace, CASE, LetterInput(
        folder / "lettre.pdf", "received", "courrier", date(2026, 11, 27), subject=ANSWER_SUBJECT, answers=2,
    ))
    record_event(workspace, CASE, EventInput("appel", date(2026, 11, 20), CALL))
    record_event(workspace, CASE, EventInput("guichet", date(2026, 11, 24), VISIT))


def make_case(
    workspace: Workspace,
    folder: Path,
    identity: ApplicantFields | None = IDENTITY,
    *,
    letters: bool = True,
    prefecture: str | None = "Val-d'Oise",
    url: str = URL,
    attempts: list[tuple[datetime, str]] = ATTEMPTS,
) -> None:
    spec = TargetSpec(url, "ezbooking", "16161", prefecture, "Renouvellement de titre de séjour")
    case, _ = add_case(workspace, CASE, spec, period_start=date(2026, 10, 1))
    add_attempts(workspace, case.target_id, attempts)
    if identity is not None:
        set_applicant(workspace, CASE, identity)
    if letters:
        add_letters(workspace, folder)


def only_identity(**changes: object) -> ApplicantFields:
    """The applicant's name alone, and the answers given in `changes`."""
    return replace(ApplicantFields(IDENTITY.full_name), **changes)  # type: ignore[arg-type]


# A line that ends on a word's own hyphen (« rendez-⏎vous ») reads back as « rendez- vous »: joined again, so that
# what a test looks for does not depend on where the lines happen to break.
_LINE_BROKEN_AT_HYPHEN = re.compile(r"(?<=\w)- (?=[a-zà-ÿ])")


def pages(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (the no-break spaces of French typography too)."""
    return [
        _LINE_BROKEN_AT_HYPHEN.sub("-", " ".join((page.extract_text() or "").split()))
        for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def text(pdf: bytes) -> str:
    return " ".join(pages(pdf))


def lines(pdf: bytes) -> list[str]:
    return [line.strip() for page in PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()]


def listed_pieces(pdf: bytes) -> list[tuple[int, str]]:
    found = [re.fullmatch(r"Pièce n° (\d+) : (.+)", line) for line in lines(pdf)]
    return [(int(m.group(1)), m.group(2)) for m in found if m]


def planned_pieces(workspace: Workspace) -> list[tuple[int, str]]:
    with workspace.reading() as session:
        return [(p.number, p.label) for p in plan_pieces(session, find_case(session, CASE))]
