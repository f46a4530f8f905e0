"""`preuves demo`: the whole job end to end against the local simulated prefecture site.

A demo workspace is created as such (its journal says so), so it may run on a simulated clock:
four weeks of planned attempts are performed in a minute or two, two letters are sent to the
prefecture (which never answers), and the exhibit bundle is built. Every document made from it
is watermarked « DÉMONSTRATION — données simulées ».
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

from capture.chromium import BrowserService
from capture.plan import build_plan, save_plan
from capture.settings import CaptureSettings
from capture.watch import PlanRunner, WatchSettings
from dossier_builder.build import build_dossier
from dossier_builder.drafts import write_draft
from dossier_builder.verify import verify_bundle
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.letters import LetterInput, record_letter, record_receipt
from evidence.localtime import PARIS
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, init_workspace
from preuves.console import err, out
from simsite.server import SimulatedSite
from templates import SANS, font_path

CASE_LABEL = "Démonstration titre de séjour"
WEEKS = 4
PREFECTURE_EMAIL = "pref-etrangers@demo.invalid"


def demo_applicant(today: date) -> ApplicantFields:
    """The demo's applicant: every field and answer the letters and the requête need."""
    return ApplicantFields(
        full_name="Demandeur DÉMO", birth_date=date(1990, 1, 1), birth_place="Exempleville",
        nationality="exemplienne", postal_address="1 rue de l'Exemple\n95000 Cergy",
        foreigner_number="0000000000", permit_expiry=today + timedelta(days=20),
        civility="M.", application="renouvellement", on_anef=False, oqtf=False, refusal=False,
        service_address="Service des étrangers (simulé)\n2 place de l'Exemple\n95000 Cergy",
    )


def _site_mode(attempt_index: int) -> str:
    """Mostly « no slot », as on a real saturated site, with the usual incidents."""
    if attempt_index % 11 == 5:
        return "overload"
    if attempt_index % 17 == 9:
        return "502"
    return "noslot"


def _working_day(day: date) -> date:
    """`day`, or the next day the prefecture works: no weekend, no French public holiday (a letter
    posted on 11 November would not be believed)."""
    while day.weekday() >= 5 or day in _public_holidays(day.year):
        day += timedelta(days=1)
    return day


def _public_holidays(year: int) -> set[date]:
    """France's public holidays (Anonymous Gregorian algorithm for Easter)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * leap) // 433
    month, day = divmod(h + leap - 7 * m + 114, 31)
    easter = date(year, month, day + 1)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    return {date(year, m_, d_) for m_, d_ in fixed} | {easter + timedelta(days=n) for n in (1, 39, 50)}


def _receipt_png(received: date) -> bytes:
    """An « avis de réception » stand-in: a scan-like PNG saying what it is."""
    image = Image.new("RGB", (1240, 600), "white")
    pen = ImageDraw.Draw(image)
    lines = [
        "AVIS DE RÉCEPTION — DÉMONSTRATION (document simulé)",
        f"Lettre recommandée n° 1A 000 000 0000 0 remise le {received:%d/%m/%Y}",
        "Destinataire : Préfecture (simulée) — service des étrangers",
    ]
    font = ImageFont.truetype(str(font_path(SANS)), 34)
    for row, line in enumerate(lines):
        pen.text((60, 80 + 90 * row), line, fill="black", font=font)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


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


@dataclass
class _Letters:
    """The two letters the demo sends, on working days the simulated clock reaches, and the day
    the prefecture signs the registered letter's avis de réception."""

    workspace: Workspace
    folder: Path
    first_day: date
    registered_id: int | None = None

    @property
    def registered_day(self) -> date:
        return _working_day(self.first_day + timedelta(days=9))

    @property
    def received_day(self) -> date:
        return _working_day(self.registered_day + timedelta(days=2))

    @property
    def email_day(self) -> date:
        return _working_day(self.first_day + timedelta(days=17))

    def due(self) -> list[tuple[date, Callable[[], None]]]:
        steps = [
            (self.registered_day, self._registered_letter),
            (self.received_day, self._receipt),
            (self.email_day, self._email),
        ]
        return sorted(steps, key=lambda step: step[0])

    def _registered_letter(self) -> None:
        draft = write_draft(self.workspace, CASE_LABEL, "demande-rdv", self.folder / "demande-rdv.pdf")
        # The subject recorded is the letter's own « Objet », read from the draft.
        letter = record_letter(
            self.workspace, CASE_LABEL,
            LetterInput(
                file=draft.path, direction="sent", channel="lrar", letter_date=self.registered_day,
                tracking="1A00000000000",
            ),
        )
        self.registered_id = letter.id

    def _receipt(self) -> None:
        assert self.registered_id is not None, "the avis de réception comes after the letter"
        receipt = self.folder / "avis-de-reception.png"
        receipt.write_bytes(_receipt_png(self.received_day))
        record_receipt(self.workspace, CASE_LABEL, self.registered_id, self.received_day, [receipt])

    def _email(self) -> None:
        sent_at = datetime.combine(self.email_day, time(10, 12), PARIS)
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
        with SimulatedSite() as site, BrowserService() as browser:
            case, _ = add_case(
                workspace, CASE_LABEL,
                TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162",
                           "Préfecture du Val-d'Oise (simulée)", "Renouvellement de titre de séjour"),
            )
            set_applicant(workspace, CASE_LABEL, demo_applicant(today))
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
        clock.set(datetime.combine(today, time(8, 0), PARIS))
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
    err.print(f"{attempts} tentatives simulées sur {WEEKS} semaines, 2 courriers sans réponse.")
    err.print(
        f"Vérification de l'espace : {'intact' if report.ok else 'PROBLÈMES'} — tête du journal "
        f"n° {report.head.seq}, {report.head.entry_hash}"
    )
    err.print(f"Vérification du dossier : {'intact' if bundle.ok else 'PROBLÈMES'}")
    err.print(f"Pièces : {', '.join(p.name for p in sorted(dossier.glob('PJ*.pdf')))}")
    err.print(f"Pour parcourir la démonstration dans un navigateur : preuves --home {workspace.home} serve")


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("demo-output"),
) -> None:
    """Démonstration complète contre un site de préfecture simulé en local."""
    dossier = run_demo(out_dir)
    out.print(str(dossier))


def register(app: typer.Typer) -> None:
    app.command()(demo)
