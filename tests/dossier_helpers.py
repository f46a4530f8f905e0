"""Building blocks of the dossier tests: captures with real images and observations, letters, the applicant's
pièces, and a bundle built from them."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from weasyprint import HTML

from dossier_builder.build import DossierResult, build_dossier
from evidence.applicant_pieces import PieceInput, record_piece
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.letters import LetterInput, record_letter
from evidence.localtime import PARIS
from evidence.observations import PageObservations
from evidence.records import NewArtefact, record_capture
from evidence.workspace import Workspace, init_workspace
from templates import SANS, font_path
from tests.evidence_helpers import add_sample_case, sample_facts

CASE = "Dupont"
FONT = str(font_path(SANS))  # the shipped font: the images say the same on every machine
FILENAME = re.compile(r"^PJ(\d+)_[A-Za-z0-9_-]+\.pdf$")
STATES = ("noslot", "noslot", "captcha", "error", "noslot", "slots")
DECISIVE_TEXT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous."
DECISIVE_AT = (240, 420)
COUNTER_LABEL = "Calendrier guichets 1, 2, 3 et 4"
PROCEDURE_LABEL = "Remise d'un titre de séjour étranger"


# --- building blocks ----------------------------------------------------------------------------


def screenshot_png(moment: datetime, state: str) -> tuple[bytes, bytes]:
    """A page-sized PNG and its annotated copy (banner with the Paris time), as capture makes them."""
    page = Image.new("RGB", (1366, 768), (236, 236, 236))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 22)
    draw.rectangle((200, 0, 1166, 768), fill=(255, 255, 255))
    draw.text((240, 300), "Vérification de disponibilité", fill=(60, 90, 160), font=font)
    draw.text((240, 350), f"état simulé : {state}", fill=(0, 0, 0), font=font)
    draw.text(DECISIVE_AT, DECISIVE_TEXT, fill=(0, 0, 0), font=ImageFont.truetype(FONT, 12))
    raw = io.BytesIO()
    page.save(raw, "PNG")
    annotated = Image.new("RGB", (1366, 868), (255, 255, 255))
    annotated.paste(page, (0, 100))
    ImageDraw.Draw(annotated).text(
        (20, 30), f"Capture du {moment.astimezone(PARIS):%d/%m/%Y %H:%M:%S %z}", fill=(0, 0, 0), font=font
    )
    copy = io.BytesIO()
    annotated.save(copy, "PNG")
    return raw.getvalue(), copy.getvalue()


def decisive_box() -> tuple[int, int, int, int]:
    """Where screenshot_png draws the decisive text: x, y, width, height in its pixels."""
    left, top, right, bottom = ImageFont.truetype(FONT, 12).getbbox(DECISIVE_TEXT)
    return DECISIVE_AT[0] + left, DECISIVE_AT[1] + top, right - left, bottom - top


def observed(n: int, moment: datetime, state: str) -> PageObservations:
    """What attempt n read besides its state: the server clock 300 + 40 n ms ahead, the labels, the box; on an
    error page a block reference, on a no-slot page the next publication announced (the next day, 10:00)."""
    skew = 300 + 40 * n
    return PageObservations(
        server_date=(moment + timedelta(milliseconds=skew)).replace(microsecond=0),
        clock_skew_ms=skew,
        counter_label=COUNTER_LABEL,
        procedure_label=PROCEDURE_LABEL,
        decisive_box=decisive_box(),
        block_reference=f"8c1f{n:04d}ab92d4e7f1" if state == "error" else None,
        next_release=announced_release(moment) if state == "noslot" else None,
    )


def announced_release(moment: datetime) -> datetime:
    """The publication a no-slot page of record_shots announces: the next day at 10:00 in Paris."""
    next_day = moment.astimezone(PARIS).date() + timedelta(days=1)
    return datetime(next_day.year, next_day.month, next_day.day, 10, tzinfo=PARIS)


def record_shots(
    workspace: Workspace, target_id: int, moments: list[datetime], *, observations: bool = False
) -> None:
    for n, moment in enumerate(moments, start=1):
        state = STATES[n % len(STATES)]
        raw, annotated = screenshot_png(moment, state)
        facts = replace(sample_facts(target_id, n, moment), state=state)
        if observations:
            facts = replace(facts, observations=observed(n, moment, state))
        record_capture(
            workspace,
            facts,
            [
                NewArtefact("screenshot", "image/png", data=raw),
                NewArtefact("screenshot_annotated", "image/png", data=annotated),
                NewArtefact("html", "text/html", data=f"<html>{n}</html>".encode()),
            ],
        )


def three_weeks() -> list[datetime]:
    """Twelve attempts over three ISO weeks, at varied days and hours."""
    start = datetime(2026, 11, 2, 7, 15, tzinfo=UTC)
    return [
        start + timedelta(days=day, hours=hour)
        for day, hour in [
            (0, 0),
            (0, 6),
            (1, 3),
            (3, 9),
            (7, 1),
            (8, 7),
            (9, 4),
            (11, 10),
            (14, 2),
            (15, 8),
            (16, 5),
            (18, 11),
        ]
    ]


def letter_pdf(path: Path, text: str) -> Path:
    HTML(string=f"<p style='font-size:20pt'>{text}</p>").write_pdf(path)
    return path


def answer_eml(path: Path) -> Path:
    path.write_text(
        "From: Préfecture <pref@val-doise.gouv.fr>\nTo: demandeur@example.org\n"
        "Subject: Votre demande\nDate: Mon, 30 Nov 2026 10:00:00 +0100\n"
        "Content-Type: text/plain; charset=utf-8\n\nNous accusons réception de votre demande.\n",
        encoding="utf-8",
    )
    return path


def proof_png(path: Path) -> Path:
    image = Image.new("RGB", (600, 400), (250, 250, 240))
    ImageDraw.Draw(image).text(
        (30, 30), "Avis de réception", fill=(0, 0, 0), font=ImageFont.truetype(FONT, 28)
    )
    image.save(path)
    return path


def add_letters(workspace: Workspace, folder: Path) -> None:
    first = record_letter(
        workspace,
        CASE,
        LetterInput(
            file=letter_pdf(folder / "lettre.pdf", "Monsieur le Préfet, je demande un rendez-vous."),
            direction="sent",
            channel="lrar",
            letter_date=date(2026, 11, 5),
            tracking="1A 234 567 8901 2",
            subject="Demande de rendez-vous",
            proofs=(proof_png(folder / "ar.png"),),
        ),
    )
    record_letter(
        workspace,
        CASE,
        LetterInput(
            file=answer_eml(folder / "reponse.eml"),
            direction="received",
            channel="email",
            answers=first.id,
        ),
    )
    record_letter(
        workspace,
        CASE,
        LetterInput(
            file=letter_pdf(folder / "relance.pdf", "Relance."),
            direction="sent",
            channel="courrier",
            letter_date=date(2026, 11, 16),
        ),
    )


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def outline_titles(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page) of every bookmark."""
    found: list[tuple[int, str, int]] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found




# --- the applicant's pièces --------------------------------------------------------------------------

PERMIT_EXPIRY = date(2027, 1, 20)


def permit_png(path: Path) -> Path:
    image = Image.new("RGB", (1200, 760), (240, 245, 255))
    draw = ImageDraw.Draw(image)
    draw.text((60, 60), "TITRE DE SÉJOUR — document fictif", fill=(0, 0, 0), font=ImageFont.truetype(FONT, 40))
    draw.text((60, 160), "Expire le 20/01/2027", fill=(0, 0, 0), font=ImageFont.truetype(FONT, 40))
    image.save(path)
    return path


def add_applicant_pieces(workspace: Workspace, folder: Path) -> None:
    """The applicant's identity with the permit's expiry, a permit scan and a proof of address (PDF) —
    recorded address first, to show the bundle puts them in the lawyer's order whatever the order typed."""
    set_applicant(workspace, CASE, ApplicantFields(full_name="Jean Dupont", permit_expiry=PERMIT_EXPIRY))
    record_piece(
        workspace, CASE,
        PieceInput(letter_pdf(folder / "edf.pdf", "Facture EDF, 1 rue de l'Exemple, Cergy"), "domicile",
                   "Justificatif de domicile, facture d'électricité", date(2026, 10, 30)),
    )
    record_piece(
        workspace, CASE,
        PieceInput(permit_png(folder / "titre.png"), "titre-de-sejour", "Titre de séjour en cours de validité",
                   date(2025, 1, 21)),
    )


def build_sample(folder: Path, *, observations: bool = True, pieces: bool = True) -> tuple[Workspace, DossierResult]:
    """A demo workspace with 12 captures over 3 weeks, 3 letters and (optionally) the applicant's pièces and
    the attempts' observations, on a clock set to 4 December 2026, 10:00 in Paris; and its bundle."""
    workspace, _ = init_workspace(folder / "ws", demo=True)
    workspace.use_clock(SimulatedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)))
    target_id = add_sample_case(workspace, CASE)
    record_shots(workspace, target_id, three_weeks(), observations=observations)
    add_letters(workspace, folder)
    if pieces:
        add_applicant_pieces(workspace, folder)
    return workspace, build_dossier(workspace, CASE, folder / "out")
