"""Ready-to-sign letters and a draft requête, filled from the case: rows → context → templates/lettres.

The facts come from the same reading as the dossier (`facts.gather`): the same attempts, the same
letters and the same numbered pièces, so a letter's list of enclosures and the requête's list of
pièces are the dossier's inventory. The applicant's identity is read from the workspace only and
written only into the PDF the user asked for.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dossier_builder import french
from dossier_builder.facts import AttemptFacts, DossierFacts, LetterFacts, gather
from dossier_builder.pieces import Piece
from dossier_builder.render import css_string, render_document
from evidence.applicants import FIELD_LABELS, get_applicant
from evidence.errors import BadInput
from evidence.letters import CHANNELS, silence_since
from evidence.localtime import PARIS, paris_time
from evidence.models import Applicant
from evidence.stats import capture_stats
from evidence.records import find_case
from evidence.workspace import Workspace
from templates import font_face_css

DRAFT_KINDS = {
    "demande-rdv": "Demande de rendez-vous",
    "relance": "Relance de la demande de rendez-vous",
    "defenseur-des-droits": "Réclamation au Défenseur des droits",
    "requete-refere": "Projet de requête en référé mesures utiles",
}
FAILED_STATES = ("noslot", "error", "captcha", "unknown")
# How the letters say what each failed attempt showed.
OUTCOME_PHRASES = {
    "noslot": "le site a indiqué qu'aucun créneau n'était disponible",
    "error": "le site était en erreur ou indisponible",
    "captcha": "la tentative s'est arrêtée au code de sécurité (captcha) exigé avant l'affichage des créneaux",
    "unknown": "le site a affiché une page ne proposant aucun créneau identifiable",
}
DEMO_WATERMARK = "DÉMONSTRATION — données simulées"
LAWYER_WATERMARK = "PROJET — à faire relire par un avocat"
TO_COMPLETE = "[à compléter]"
INJUNCTION_DAYS = 15
ASTREINTE_EUROS = 100
_POSTCODE_CITY = re.compile(r"^\d{5}\s+(.+)$")


@dataclass(frozen=True)
class Identity:
    """The sender as the letter prints it; a missing field reads « [à compléter] »."""

    full_name: str
    birth_date: str
    birth_place: str
    nationality: str
    address_lines: tuple[str, ...]
    foreigner_number: str | None
    permit_expiry: date | None


@dataclass(frozen=True)
class AttemptLine:
    when: str  # '02/11/2026 09:30:00 (UTC+01:00)'
    state: str  # French label


@dataclass(frozen=True)
class AttemptSummary:
    """The failed attempts, as the facts of a letter tell them."""

    count: int
    first: datetime
    last: datetime
    first_day: date  # Europe/Paris
    last_day: date
    distinct_days: int
    distinct_weeks: int
    span_days: int
    earliest_time: str  # '8 h 05'
    latest_time: str
    outcomes: tuple[str, ...]  # '… aucun créneau n'était disponible (12 fois)'
    quoted_text: str | None  # the page's own words, most often seen on a no-slot page
    days_text: str  # '2, 3 et 9 novembre 2026 ; 1er décembre 2026'
    pieces_text: str  # 'pièces n° 3 à 6'
    lines: tuple[AttemptLine, ...]


@dataclass(frozen=True)
class LetterLine:
    letter_date: date
    direction: str
    channel: str  # French label
    subject: str | None
    tracking: str | None
    piece: int
    answer_date: date | None
    silence_since: date | None


@dataclass(frozen=True)
class DraftContext:
    kind: str
    title: str
    today: date
    place: str
    identity: Identity
    prefecture: str
    procedure: str
    url: str
    attempts: AttemptSummary
    sent: tuple[LetterLine, ...]
    received: tuple[LetterLine, ...]
    pieces: tuple[Piece, ...]
    slots_seen: tuple[str, ...]  # times of attempts that did show slots
    demo: bool
    for_lawyer: bool
    injunction_days: int = INJUNCTION_DAYS
    astreinte_euros: int = ASTREINTE_EUROS

    @property
    def prefecture_line(self) -> str:
        """'Préfecture (Val-d'Oise)', unless the case already names it 'Préfecture du Val-d'Oise'."""
        if self.prefecture.lower().startswith(("préfecture", "prefecture", "sous-préfecture")):
            return self.prefecture
        return f"Préfecture ({self.prefecture})"

    @property
    def permit_expired(self) -> bool:
        expiry = self.identity.permit_expiry
        return expiry is not None and expiry < self.today

    @property
    def unanswered(self) -> tuple[LetterLine, ...]:
        return tuple(letter for letter in self.sent if letter.answer_date is None)

    @property
    def relance_of(self) -> LetterLine | None:
        """The letter a relance refers to: the latest one left unanswered, else the latest sent."""
        pending = self.unanswered
        return pending[-1] if pending else (self.sent[-1] if self.sent else None)


@dataclass(frozen=True)
class Draft:
    kind: str
    pdf: bytes
    pages: int
    warnings: tuple[str, ...]
    suggested_name: str


@dataclass(frozen=True)
class WrittenDraft:
    path: Path
    pages: int
    warnings: tuple[str, ...]


# --- facts → context --------------------------------------------------------------------------


def _time_of_day(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def days_text(days: list[date]) -> str:
    """Distinct days grouped by month: '2, 3 et 9 novembre 2026 ; 1er décembre 2026'."""
    groups: dict[tuple[int, int], list[int]] = {}
    for day in sorted(set(days)):
        groups.setdefault((day.year, day.month), []).append(day.day)
    parts = []
    for (year, month), numbers in groups.items():
        names = ["1er" if n == 1 else str(n) for n in numbers]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        parts.append(f"{listed} {french.MONTHS[month - 1]} {year}")
    return " ; ".join(parts)


def _pieces_text(numbers: list[int]) -> str:
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f"pièce n° {numbers[0]}"
    joiner = " et " if len(numbers) == 2 else " à "
    return f"pièces n° {numbers[0]}{joiner}{numbers[-1]}"


def summarise_attempts(attempts: tuple[AttemptFacts, ...]) -> AttemptSummary:
    failed = [a for a in attempts if a.state in FAILED_STATES]
    if not failed:
        raise BadInput("aucune tentative infructueuse enregistrée : rien à exposer dans un courrier")
    moments = [a.started_at for a in failed]
    days = [m.astimezone(PARIS).date() for m in moments]
    counts = Counter(a.state for a in failed)
    quoted = Counter(a.evidence_text for a in failed if a.state == "noslot" and a.evidence_text)
    local_times = sorted(moments, key=lambda m: m.astimezone(PARIS).time())
    return AttemptSummary(
        count=len(failed),
        first=min(moments),
        last=max(moments),
        first_day=min(days),
        last_day=max(days),
        distinct_days=len(set(days)),
        distinct_weeks=len({d.isocalendar()[:2] for d in days}),
        span_days=(max(days) - min(days)).days + 1,
        earliest_time=_time_of_day(local_times[0]),
        latest_time=_time_of_day(local_times[-1]),
        outcomes=tuple(
            f"{OUTCOME_PHRASES[state]} ({french.plural(counts[state], 'fois', 'fois')})"
            for state in FAILED_STATES
            if counts[state]
        ),
        quoted_text=quoted.most_common(1)[0][0] if quoted else None,
        days_text=days_text(days),
        pieces_text=_pieces_text(sorted({a.piece for a in failed})),
        lines=tuple(AttemptLine(paris_time(a.started_at), french.state_label(a.state)) for a in failed),
    )


def _letter_lines(letters: tuple[LetterFacts, ...], today: date) -> list[LetterLine]:
    first_answer: dict[int, date] = {}
    for letter in letters:
        if letter.direction == "received" and letter.answers_id is not None:
            first_answer.setdefault(letter.answers_id, letter.letter_date)
    return [
        LetterLine(
            letter_date=letter.letter_date,
            direction=letter.direction,
            channel=CHANNELS.get(letter.channel, letter.channel),
            subject=letter.subject,
            tracking=letter.tracking,
            piece=letter.piece,
            answer_date=first_answer.get(letter.id),
            silence_since=silence_since(
                letter.direction, letter.channel, letter.letter_date, letter.id in first_answer, today
            ),
        )
        for letter in letters
    ]


def _identity(applicant: Applicant) -> tuple[Identity, list[str]]:
    missing = [
        FIELD_LABELS[name].lower()
        for name in ("birth_date", "birth_place", "nationality", "postal_address")
        if getattr(applicant, name) is None
    ]
    identity = Identity(
        full_name=applicant.full_name,
        birth_date=french.long_date(applicant.birth_date) if applicant.birth_date else TO_COMPLETE,
        birth_place=applicant.birth_place or TO_COMPLETE,
        nationality=applicant.nationality or TO_COMPLETE,
        address_lines=tuple((applicant.postal_address or TO_COMPLETE).split("\n")),
        foreigner_number=applicant.foreigner_number,
        permit_expiry=applicant.permit_expiry,
    )
    return identity, missing


def _place(identity: Identity) -> str:
    """The town of the sender's address (its last line, '95000 Cergy'), else a blank to fill."""
    match = _POSTCODE_CITY.match(identity.address_lines[-1].strip())
    return match.group(1) if match else TO_COMPLETE


def build_context(facts: DossierFacts, applicant: Applicant, kind: str) -> tuple[DraftContext, list[str]]:
    """The letter's context, and what the user should check before signing."""
    today = facts.generated_at.astimezone(PARIS).date()
    identity, missing = _identity(applicant)
    letters = _letter_lines(facts.letters, today)
    sent = tuple(letter for letter in letters if letter.direction == "sent")
    if kind == "relance" and not sent:
        raise BadInput("une relance suppose un courrier déjà envoyé : enregistrez-le avec « preuves letter add »")
    context = DraftContext(
        kind=kind,
        title=DRAFT_KINDS[kind],
        today=today,
        place=_place(identity),
        identity=identity,
        prefecture=facts.case.prefecture or TO_COMPLETE,
        procedure=facts.case.procedure or TO_COMPLETE,
        url=facts.case.url,
        attempts=summarise_attempts(facts.attempts),
        sent=sent,
        received=tuple(letter for letter in letters if letter.direction == "received"),
        pieces=facts.pieces,
        slots_seen=tuple(paris_time(a.started_at) for a in facts.attempts if a.state == "slots"),
        demo=facts.demo,
        for_lawyer=kind == "requete-refere",
    )
    warnings = [f"{field} du demandeur à compléter" for field in missing]
    if facts.case.prefecture is None or facts.case.procedure is None:
        warnings.append("préfecture ou démarche non renseignée dans le dossier : « [à compléter] » dans le texte")
    failed = [(a.started_at, a.state) for a in facts.attempts if a.state in FAILED_STATES]
    weaknesses = capture_stats(failed).weaknesses(letters_sent=len(sent))
    if weaknesses:
        warnings.append("preuves encore faibles devant un juge : " + " ; ".join(weaknesses))
    if context.slots_seen:
        warnings.append(
            f"{french.plural(len(context.slots_seen), 'tentative a', 'tentatives ont')} affiché des "
            f"créneaux ({', '.join(context.slots_seen)}) : le document n'en parle pas"
        )
    for state in ("captcha", "unknown"):
        count = sum(1 for a in facts.attempts if a.state == state)
        if count:
            warnings.append(
                f"{count} tentative(s) « {french.state_label(state)} » comptée(s) comme échec(s) : "
                "vérifiez leurs captures"
            )
    return context, warnings


# --- context → PDF ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "lettres"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(css_string=css_string, long_date=french.long_date, paris=paris_time)
    env.globals.update(
        demo_watermark=DEMO_WATERMARK,
        lawyer_watermark=LAWYER_WATERMARK,
        to_complete=TO_COMPLETE,
        plural=french.plural,
        font_faces=Markup(font_face_css()),
    )
    return env


def render_html(context: DraftContext) -> str:
    return environment().get_template(f"{context.kind}.html").render(d=context)


def render_draft(workspace: Workspace, case_reference: str, kind: str) -> Draft:
    """The draft as PDF bytes (nothing is written, nothing is journaled: a draft is no evidence)."""
    if kind not in DRAFT_KINDS:
        raise BadInput(f"type de courrier inconnu : {kind!r} (valeurs possibles : {', '.join(DRAFT_KINDS)})")
    now = workspace.clock.now()
    with workspace.reading() as session:
        case = find_case(session, case_reference)
        applicant = get_applicant(session, case)
        if applicant is None:
            raise BadInput(
                f"identité du demandeur inconnue : renseignez-la avec « preuves applicant set {case.id} »"
            )
        facts = gather(session, case, date_from=None, date_to=None, now=now, demo=workspace.demo)
        context, warnings = build_context(facts, applicant, kind)
        label = french.ascii_title(case.label)
    # A draft embeds no file: the base folder only satisfies the renderer's local-files rule.
    document = render_document(render_html(context), Path(__file__).parent)
    return Draft(
        kind=kind,
        pdf=document.write_pdf(),
        pages=len(document.pages),
        warnings=tuple(warnings),
        suggested_name=f"{kind}_{label}_{context.today.isoformat()}.pdf",
    )


def _check_destination(path: Path) -> None:
    if path.is_dir():
        raise BadInput(f"{path} est un dossier : donnez un nom de fichier PDF")
    if not path.parent.is_dir():
        raise BadInput(f"{path.parent} : dossier inexistant")


def write_draft(workspace: Workspace, case_reference: str, kind: str, out: Path | None = None) -> WrittenDraft:
    """Render the draft and write it, owner-only, to `out` (default: the current folder)."""
    if out is not None:
        _check_destination(out)
    draft = render_draft(workspace, case_reference, kind)
    path = out if out is not None else Path.cwd() / draft.suggested_name
    _check_destination(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(draft.pdf)
    except OSError as exc:
        raise BadInput(f"{path} : écriture impossible ({exc.strerror})") from exc
    return WrittenDraft(path, draft.pages, draft.warnings)
