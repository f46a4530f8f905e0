"""`preuves demo`: the whole job end to end against the local simulated prefecture site.

A demo workspace is created as such (its journal says so), so it may run on a simulated clock:
four weeks of planned attempts are performed in a minute or two, two letters are sent to the
prefecture (which never answers), the applicant's pièces (fictitious documents) are added, a last
attempt is made just before the exhibit bundle is built, so the evidence is current. Every document
made from it is watermarked « DÉMONSTRATION — données simulées ».
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image, ImageDraw, ImageFont
from rich.progress import Progress

from capture.attempt import capture_target
from capture.chromium import BrowserService
from capture.plan import build_plan, save_plan
from capture.settings import CaptureSettings
from capture.watch import PlanRunner, WatchSettings
from dossier_builder.build import build_dossier
from dossier_builder.drafts import write_draft
from dossier_builder.verify import verify_bundle
from evidence.applicant_pieces import PieceInput, record_piece
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.letters import LetterInput, record_letter
from evidence.localtime import PARIS
from evidence.models import Target
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, init_workspace
from preuves.console import err, out
from simsite.server import SimulatedSite
from templates import SANS, font_path

CASE_LABEL = "Démonstration titre de séjour"
WEEKS = 4
PERMIT_DAYS_LEFT = 70  # the renewal window (120th to 60th day before expiry) is open during the demo's weeks
PREFECTURE_EMAIL = "pref-etrangers@demo.invalid"


def _site_mode(attempt_index: int) -> str:
    """Mostly « no slot », as on a real saturated site, with the usual incidents."""
    if attempt_index % 11 == 5:
        return "overload"
    if attempt_index % 17 == 9:
        return "502"
    return "noslot"


FICTITIOUS = "DOCUMENT FICTIF — DÉMONSTRATION, aucune valeur"
# The applicant's pièces the demo adds: (file, kind, label, lines drawn in the image, given the expiry date).
APPLICANT_DOCUMENTS: tuple[tuple[str, str, str, Callable[[date], list[str]]], ...] = (
    ("titre-de-sejour.png", "titre-de-sejour", "Titre de séjour en cours de validité (document fictif)",
     lambda expiry: ["RÉPUBLIQUE FRANÇAISE — TITRE DE SÉJOUR", "Nom : DÉMO  Prénom : Demandeur",
                     f"Valable jusqu'au {expiry:%d/%m/%Y}", FICTITIOUS]),
    ("justificatif-domicile.png", "domicile", "Justificatif de domicile (document fictif)",
     lambda expiry: ["Facture d'électricité — 1 rue de l'Exemple, 95000 Cergy", "Titulaire : Demandeur DÉMO",
                     FICTITIOUS]),
)


def receipt_lines(sent: date) -> list[str]:
    """What the demo's « avis de réception » says."""
    return [
        "AVIS DE RÉCEPTION — DÉMONSTRATION (document simulé)",
        f"Lettre recommandée n° 1A 000 000 0000 0 remise le {sent + timedelta(days=2):%d/%m/%Y}",
        "Destinataire : Préfecture (simulée) — service des étrangers",
    ]


def _scan_png(lines: list[str], height: int) -> bytes:
    """A scan-like PNG of a document, drawn with the shipped font (every French glyph)."""
    image = Image.new("RGB", (1240, height), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path(SANS)), 34)
    for row, line in enumerate(lines):
        pen.text((60, 80 + 90 * row), line, fill=(160, 0, 0) if line == FICTITIOUS else "black", font=font)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _applicant_pieces(workspace: Workspace, folder: Path, expiry: date) -> None:
    """The applicant's titre de séjour and proof of address: fictitious, and said to be so in the image."""
    for name, kind, label, lines in APPLICANT_DOCUMENTS:
        path = folder / name
        path.write_bytes(_scan_png(lines(expiry), 600))
        record_piece(workspace, CASE_LABEL, PieceInput(path, kind, label))


def _email(sent_at: datetime) -> bytes:
    message = EmailMessage()
    message["From"] = "Demandeur Démo <demandeur@demo.invalid>"
    message["To"] = PREFECTURE_EMAIL
    message["Subject"] = "Relance : demande de rendez-vous, renouvellement de titre de séjour"
    message["Date"] = format_datetime(sent_at)
    message.set_content(
        "Madame, Monsieur,\n\nDepuis plusieurs semaines, je tente sans succès d'obtenir un rendez-vous "
        "sur votre site : aucun créneau n'est jamais proposé. Je vous prie de bien vouloir m'en "
        "attribuer un.\n\nDocument de démonstration, données simulées.\n"
    )
    return bytes(message)


@dataclass(frozen=True)
class _Letters:
    """The two letters the demo sends, on the days the simulated clock reaches."""

    workspace: Workspace
    folder: Path
    first_day: date

    def due(self) -> list[tuple[date, Callable[[], None]]]:
        return [
            (self.first_day + timedelta(days=9), self._registered_letter),
            (self.first_day + timedelta(days=17), self._email),
        ]

    def _registered_letter(self) -> None:
        day = self.first_day + timedelta(days=9)
        draft = write_draft(self.workspace, CASE_LABEL, "demande-rdv", self.folder / "demande-rdv.pdf")
        receipt = self.folder / "avis-de-reception.png"
        receipt.write_bytes(_scan_png(receipt_lines(day), 600))
        record_letter(
            self.workspace, CASE_LABEL,
            LetterInput(
                file=draft.path, direction="sent", channel="lrar", letter_date=day,
                tracking="1A00000000000", subject="Demande de rendez-vous (lettre recommandée)",
                proofs=(receipt,),
            ),
        )

    def _email(self) -> None:
        sent_at = datetime.combine(self.first_day + timedelta(days=17), time(10, 12), PARIS)
        path = self.folder / "courriel-relance.eml"
        path.write_bytes(_email(sent_at))
        record_letter(self.workspace, CASE_LABEL, LetterInput(file=path, direction="sent", channel="email"))


def run_demo(out_dir: Path) -> Path:
    """Run the demo into a new folder under `out_dir`; return the folder of the exhibit bundle."""
    today = datetime.now(UTC).astimezone(PARIS).date()
    run_dir = out_dir.resolve() / f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    workspace, _ = init_workspace(run_dir / "espace-de-travail", demo=True)
    letters_folder = run_dir / "courriers"
    letters_folder.mkdir(mode=0o700)
    first_day = today - timedelta(days=today.weekday() + 7 * WEEKS)  # a Monday, four weeks ago
    clock = SimulatedClock(datetime.combine(first_day, time(7, 0), PARIS))
    workspace.use_clock(clock)
    try:
        with SimulatedSite(clock=clock.now) as site, BrowserService() as browser:
            case, _ = add_case(
                workspace, CASE_LABEL,
                TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162",
                           "Préfecture du Val-d'Oise (simulée)", "Renouvellement de titre de séjour"),
            )
            set_applicant(workspace, CASE_LABEL, ApplicantFields(
                full_name="Demandeur DÉMO", birth_date=date(1990, 1, 1), birth_place="Exempleville",
                nationality="exemplienne", postal_address="1 rue de l'Exemple\n95000 Cergy",
                foreigner_number="0000000000", permit_expiry=today + timedelta(days=PERMIT_DAYS_LEFT),
            ))
            pieces_folder = run_dir / "pieces-du-demandeur"
            pieces_folder.mkdir(mode=0o700)
            _applicant_pieces(workspace, pieces_folder, today + timedelta(days=PERMIT_DAYS_LEFT))
            settings = CaptureSettings()
            plan = build_plan(first_day, weeks=WEEKS, per_day=1, min_interval=settings.min_interval, seed=2026)
            save_plan(workspace, case.target_id, plan)
            letters = _Letters(workspace, letters_folder, first_day).due()
            runner = PlanRunner(workspace, browser, settings, WatchSettings())
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("Tentatives simulées sur 4 semaines", total=len(plan))
                for index, planned in enumerate(plan):
                    while letters and letters[0][0] <= planned.at.astimezone(PARIS).date():
                        day, send = letters.pop(0)
                        clock.set(datetime.combine(day, time(9, 30), PARIS))
                        send()
                    site.mode = _site_mode(index)
                    clock.set(planned.at)
                    runner.run_due()
                    progress.advance(task)
            # A last attempt now, as `preuves dossier` offers when the evidence is more than 48 hours old; the
            # bundle is then dated after every event of the journal.
            clock.set(datetime.now(UTC).replace(microsecond=0))
            site.mode = "noslot"
            with workspace.reading() as session:
                target = session.get_one(Target, case.target_id)
            capture_target(workspace, target, browser, settings)
            clock.advance(timedelta(minutes=1))
        dossier = run_dir / "dossier"
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Construction du dossier", total=None)
            build_dossier(
                workspace, CASE_LABEL, dossier,
                progress=lambda step, done, total: progress.update(
                    task, description=step, completed=done, total=total
                ),
            )
        _report(workspace, dossier, len(plan))
    finally:
        workspace.close()
    return dossier


def _report(workspace: Workspace, dossier: Path, attempts: int) -> None:
    report = verify_workspace(workspace)
    bundle = verify_bundle(workspace, dossier)
    err.print(
        f"{attempts} tentatives simulées sur {WEEKS} semaines et une dernière juste avant le dossier, "
        "2 courriers sans réponse, 2 pièces du demandeur (fictives)."
    )
    err.print(
        f"Vérification de l'espace : {'intact' if report.ok else 'PROBLÈMES'} — tête du journal "
        f"n° {report.head.seq}, {report.head.entry_hash}"
    )
    err.print(f"Vérification du dossier : {'intact' if bundle.ok else 'PROBLÈMES'}")
    numbered = sorted(dossier.glob("PJ*.pdf"), key=lambda path: int(path.name[2:].split("_")[0]))
    err.print(f"Pièces : {', '.join(path.name for path in numbered)}")
    err.print(f"Pour parcourir la démonstration dans un navigateur : preuves --home {workspace.home} serve")


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("demo-output"),
) -> None:
    """Démonstration complète contre un site de préfecture simulé en local."""
    dossier = run_demo(out_dir)
    out.print(str(dossier))


def register(app: typer.Typer) -> None:
    app.command()(demo)
