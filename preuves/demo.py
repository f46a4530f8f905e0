"""`preuves demo`: the whole job end to end against the local simulated prefecture site.

A demo workspace is created as such (its journal says so), so it may run on a simulated clock:
four weeks of planned attempts are performed in a minute or two, two letters are sent to the
prefecture (which never answers), the applicant's pièces (fictitious documents) are added, a last
attempt is made on each case just before the exhibit bundles are built, so that the evidence is current.
Every document made from it is watermarked « DÉMONSTRATION — données simulées ».

Two cases: one on the classic booking module, filled by unattended attempts; one on the simulated
RDV Préfecture, whose captcha guards every visit, filled by accompanied attempts. For those, the
watcher sends its reminder, and the demo's scripted person (`preuves.demo_person`) answers it: it
starts the assisted capture and types the code in the page the tool opened — headless here, as the
demo has no screen — getting the code from the simulated site's own test control. A few reminders are
left unanswered on purpose, to show what a missed accompanied attempt looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from capture.accompanied import assisted_capture
from capture.attempt import capture_target
from capture.chromium import BrowserService
from capture.plan import PlannedTime, build_plan, save_plan
from capture.politeness import PolitenessRefusal, check_interval
from capture.settings import CaptureSettings
from capture.watch import PlanRunner, WatchSettings
from capture.working_days import is_working_day, public_holidays
from dossier_builder.build import build_dossier
from dossier_builder.drafts import write_draft
from dossier_builder.verify import verify_bundle
from evidence.applicant_pieces import PieceInput, record_piece
from evidence.applicants import ApplicantFields, set_applicant
from evidence.clock import SimulatedClock
from evidence.letters import LetterInput, record_letter, record_receipt
from evidence.localtime import PARIS
from evidence.models import Target
from evidence.records import TargetSpec, add_case
from evidence.errors import BadInput
from evidence.verify import verify_workspace
from evidence.workspace import CONFIG_NAME, Workspace, init_workspace, other_files, resolve_home
from preuves.console import err
from preuves.demo_person import person_acts
from preuves.progress import progress_bar
from simsite.server import SimulatedSite
from templates import SANS, font_path

CASE_LABEL = "Démonstration titre de séjour"
ACCOMPANIED_LABEL = "Démonstration RDV Préfecture"
WEEKS = 4
# The scripted person answers a reminder these minutes after it (in turn), and leaves some unanswered.
ANSWER_DELAYS = (2, 6, 1, 11, 4)
UNANSWERED_EVERY = 6
PERMIT_DAYS_LEFT = 70  # the renewal window (120th to 60th day before expiry) is open during the demo's weeks
PREFECTURE_EMAIL = "pref-etrangers@demo.invalid"
LETTER_TIME = time(9, 30)


def demo_applicant(today: date) -> ApplicantFields:
    """The demo's applicant: every field and answer the letters and the requête need."""
    return ApplicantFields(
        full_name="Demandeur DÉMO", birth_date=date(1990, 1, 1), birth_place="Exempleville",
        nationality="exemplienne", postal_address="1 rue de l'Exemple\n95000 Cergy",
        foreigner_number="0000000000", permit_expiry=today + timedelta(days=PERMIT_DAYS_LEFT),
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
    """`day`, or the next day the post office and the prefecture work: no weekend, no French public holiday
    (a letter posted on 11 November would not be believed)."""
    closed = public_holidays(day, day + timedelta(days=10))
    while not is_working_day(day, closed):
        day += timedelta(days=1)
    return day


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


def receipt_lines(received: date) -> list[str]:
    """What the demo's « avis de réception » says."""
    return [
        "AVIS DE RÉCEPTION — DÉMONSTRATION (document simulé)",
        f"Lettre recommandée n° 1A 000 000 0000 0 remise le {received:%d/%m/%Y}",
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
        receipt.write_bytes(_scan_png(receipt_lines(self.received_day), 600))
        record_receipt(self.workspace, CASE_LABEL, self.registered_id, self.received_day, [receipt])

    def _email(self) -> None:
        sent_at = datetime.combine(self.email_day, time(10, 12), PARIS)
        path = self.folder / "courriel-relance.eml"
        path.write_bytes(_email(sent_at))
        record_letter(self.workspace, CASE_LABEL, LetterInput(file=path, direction="sent", channel="email"))


@dataclass(frozen=True)
class _Figures:
    unattended: int
    accompanied: int
    missed: int


def run_demo(out_dir: Path, home: Path | None = None) -> list[Path]:
    """Run the demo into a new folder under `out_dir` (its workspace there too, unless `home` names a new
    or empty folder for it); return the folders of the exhibit bundles."""
    if home is not None and (other_files(home) or resolve_home(home).joinpath(CONFIG_NAME).exists()):
        raise BadInput(f"{resolve_home(home)} n'est pas vide : la démonstration s'installe dans un dossier neuf ou vide")
    today = datetime.now(UTC).astimezone(PARIS).date()
    run_dir = out_dir.resolve() / f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    workspace, _ = init_workspace(home or run_dir / "espace-de-travail", demo=True)
    letters_folder = run_dir / "courriers"
    letters_folder.mkdir(mode=0o700, parents=True)
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
            accompanied, _ = add_case(
                workspace, ACCOMPANIED_LABEL,
                TargetSpec(f"{site.base_url}/rdvpref/reservation/demarche/2200/", "rdvpref", None,
                           "Préfecture de l'Essonne (simulée)", "Renouvellement de titre de séjour"),
            )
            set_applicant(workspace, CASE_LABEL, demo_applicant(today))
            pieces_folder = run_dir / "pieces-du-demandeur"
            pieces_folder.mkdir(mode=0o700)
            _applicant_pieces(workspace, pieces_folder, today + timedelta(days=PERMIT_DAYS_LEFT))
            settings = CaptureSettings()
            plan = build_plan(first_day, weeks=WEEKS, per_day=1, min_interval=settings.min_interval, seed=2026)
            save_plan(workspace, case.target_id, plan)
            # On the same simulated host: the accompanied plan keeps the politeness interval from the other.
            with_person = build_plan(
                first_day, weeks=WEEKS, per_day=1, min_interval=settings.min_interval, seed=2027,
                busy=[p.at for p in plan], mode="accompanied",
            )
            save_plan(workspace, accompanied.target_id, with_person)
            letters = _Letters(workspace, letters_folder, first_day).due()
            watch = WatchSettings()
            runner = PlanRunner(workspace, browser, settings, watch)
            person = _ScriptedPerson(workspace, browser, settings, watch, accompanied.target_id)
            timeline = sorted(plan + with_person, key=lambda p: p.at)
            with progress_bar() as progress:
                progress("tentatives simulées sur 4 semaines", 0, len(timeline))
                for index, planned in enumerate(timeline):
                    # A letter goes at 9:30 on its day, between that day's attempts: never past an attempt's
                    # time, which the clock would then have overtaken (the attempt would count as missed).
                    while letters and datetime.combine(letters[0][0], LETTER_TIME, PARIS) <= planned.at:
                        day, send = letters.pop(0)
                        clock.set(datetime.combine(day, LETTER_TIME, PARIS))
                        send()
                    site.mode = _site_mode(index) if planned.mode == "unattended" else "noslot"
                    clock.set(max(planned.at, clock.now()))
                    runner.run_due()  # an unattended attempt, or an accompanied one's reminder
                    if planned.mode == "accompanied":
                        person.answer(planned)
                    progress("tentatives simulées sur 4 semaines", index + 1, len(timeline))
            # A last attempt on each case now, as `preuves dossier` offers when the evidence is more than
            # 48 hours old: the bundles are then dated after every event of the journal. The accompanied
            # windows still open expire first. Never later than now: before 08:00 in Paris, a fixed hour of
            # today would date these attempts and the bundles in the future.
            clock.set(max(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20), clock.now()))
            runner.expire_windows()
            site.mode = "noslot"
            with workspace.reading() as session:
                target = session.get_one(Target, case.target_id)
            capture_target(workspace, target, browser, settings)
            person.attempt_now()
            clock.advance(timedelta(minutes=1))
        figures = _Figures(len(plan), len(with_person), person.unanswered)
        dossiers = []
        for label, folder in ((ACCOMPANIED_LABEL, "dossier-rdv-prefecture"), (CASE_LABEL, "dossier")):
            dossiers.append(run_dir / folder)
            with progress_bar() as progress:
                build_dossier(workspace, label, dossiers[-1], progress=progress)
        _report(workspace, dossiers, figures)
    finally:
        workspace.close()
    return dossiers


@dataclass
class _ScriptedPerson:
    """The demo's person: answers the reminders of the accompanied plan (all but a few) by starting
    the assisted capture and typing the simulated captcha's code in the page the tool opened."""

    workspace: Workspace
    browser: BrowserService
    settings: CaptureSettings
    watch: WatchSettings
    target_id: int
    answered: int = 0
    unanswered: int = 0

    def answer(self, planned: PlannedTime) -> None:
        if (self.answered + self.unanswered) % UNANSWERED_EVERY == UNANSWERED_EVERY - 1:
            self.unanswered += 1  # nobody was there: the window closes, the attempt is recorded as missed
            return
        clock = self.workspace.clock
        assert isinstance(clock, SimulatedClock)
        clock.set(planned.at + timedelta(minutes=ANSWER_DELAYS[self.answered % len(ANSWER_DELAYS)]))
        self.attempt_now()
        self.answered += 1

    def attempt_now(self) -> None:
        """An assisted capture at the clock's time, once the host's politeness interval allows it."""
        clock = self.workspace.clock
        assert isinstance(clock, SimulatedClock)
        with self.workspace.reading() as session:
            target = session.get_one(Target, self.target_id)
        while True:
            try:
                check_interval(self.workspace, target.host, self.settings.min_interval)
                break
            except PolitenessRefusal as refusal:  # the other case's attempt was too recent: the person waits
                clock.set(refusal.retry_at or clock.now() + timedelta(minutes=5))
        acting = person_acts(self.browser)
        assisted_capture(self.workspace, target, self.browser, self.settings, self.watch.accompanied_window)
        acting.join()


def _report(workspace: Workspace, dossiers: list[Path], figures: _Figures) -> None:
    report = verify_workspace(workspace)
    err.print(
        f"{figures.unattended} tentatives automatiques et {figures.accompanied} tentatives accompagnées "
        f"({figures.missed} manquées) simulées sur {WEEKS} semaines et une dernière juste avant chaque dossier, "
        "2 courriers sans réponse, 2 pièces du demandeur (fictives)."
    )
    err.print(
        f"Vérification de l'espace : {'intact' if report.ok else 'PROBLÈMES'} — tête du journal "
        f"n° {report.head.seq}, {report.head.entry_hash}"
    )
    for dossier in dossiers:
        bundle = verify_bundle(workspace, dossier)
        err.print(f"Vérification du dossier {dossier.name} : {'intact' if bundle.ok else 'PROBLÈMES'}")
        numbered = sorted(dossier.glob("PJ*.pdf"), key=lambda path: int(path.name[2:].split("_")[0]))
        err.print(f"Pièces : {', '.join(path.name for path in numbered)}")
    err.print(f"Pour parcourir la démonstration dans un navigateur : preuves --home {workspace.home} serve")
