"""Ready-to-sign letters and a requête a lawyer can sign, filled from the case: rows → context →
templates/lettres.

The facts come from the same reading as the dossier (`facts.gather`): the same attempts, letters,
events and numbered pièces, so the requête's bordereau is the dossier's inventory. A letter sent
before the bundle exists annexes what it shows as « annexe 1, 2 … » frozen at its date — the
relevé of the attempts and their dated screenshots, by date and fingerprint — never as court
pièces. What only a person can supply stays a visible blank, and every blank the text holds is
listed (`blanks.py`). The applicant's identity is read from the workspace only and written only
into the PDF the user asked for.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dossier_builder import french, tribunals
from dossier_builder.blanks import Blank, BlankRecorder
from dossier_builder.draft_facts import (
    AttemptSummary,
    EventLine,
    LetterLine,
    Shot,
    annex_shots,
    event_lines,
    failed_attempts,
    first_unanswered,
    letter_lines,
    summarise_attempts,
)
from dossier_builder.draft_kinds import DRAFT_KINDS
from dossier_builder.facts import DossierFacts, gather
from dossier_builder.outcomes import OFFLINE
from dossier_builder.pieces import Piece
from dossier_builder.render import bind_guillemets, css_string, render_document
from dossier_builder.tribunals import Departement
from evidence.applicants import APPLICATION_LABELS, get_applicant
from evidence.blobs import plain_reason
from evidence.errors import BadInput
from evidence.letter_text import DRAFT_AUTHOR
from evidence.localtime import PARIS, paris_time
from evidence.models import Applicant
from evidence.records import find_case
from evidence.stats import capture_stats
from evidence.workspace import Workspace
from templates import font_face_css

LETTER_KINDS = ("demande-rdv", "relance", "defenseur-des-droits")
DEMO_WATERMARK = "DÉMONSTRATION — données simulées"
LAWYER_WATERMARK = "PROJET — à faire relire par un avocat"
INJUNCTION_DAYS = 15
ASTREINTE_EUROS = 100
MAX_COSTS_EUROS = 100_000
MAX_COUNSEL_LENGTH = 200
_POSTCODE_CITY = re.compile(r"^\d{5}\s+(.+?)(?:\s+cedex(?:\s+\d+)?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Counsel:
    name: str  # « Marie Martin »
    bar: str  # « Val-d'Oise », « de Paris »

    @property
    def bar_phrase(self) -> str:
        """« au barreau du Val-d'Oise », « au barreau de Paris », « au barreau d'Orléans »."""
        if self.bar.startswith(("de ", "du ", "des ", "d'", "d’")):
            return f"au barreau {self.bar}"
        departement = tribunals.find(self.bar)
        return f"au barreau {departement.of if departement else tribunals.of_place(self.bar)}"


@dataclass(frozen=True)
class DraftOptions:
    """What the person drafting chooses for this document (the requête's conclusions)."""

    counsel: Counsel | None = None
    legal_aid: bool = False  # ask provisional legal aid (art. 20, loi n° 91-647 du 10 juillet 1991)
    costs: int | None = None  # euros asked under art. L. 761-1 CJA (and art. 37 of that law with counsel)


@dataclass(frozen=True)
class Person:
    """The applicant as the text names and agrees with them."""

    full_name: str
    civility: str | None  # « M. », « Mme », None when not answered

    @property
    def e(self) -> str:
        """The feminine ending: né / née, exposé / exposée; « (e) » while the civility is unknown."""
        return {"M.": "", "Mme": "e"}.get(self.civility or "", "(e)")

    @property
    def named(self) -> str:
        """« Mme Awa Traoré »."""
        return f"{self.civility} {self.full_name}" if self.civility else self.full_name

    @property
    def il(self) -> str:
        return {"M.": "il", "Mme": "elle"}.get(self.civility or "", "il ou elle")

    @property
    def requerant(self) -> str:
        return {"M.": "le requérant", "Mme": "la requérante"}.get(self.civility or "", "le requérant ou la requérante")


@dataclass(frozen=True)
class Identity:
    """The sender as the letter prints it; None where the applicant has not said."""

    birth_date: date | None
    birth_place: str | None
    nationality: str | None
    address_lines: tuple[str, ...] | None
    foreigner_number: str | None
    permit_expiry: date | None


@dataclass(frozen=True)
class Answers:
    """What the applicant declared (None: not asked yet — never assumed)."""

    application: str | None  # « premiere » | « renouvellement »
    on_anef: bool | None
    oqtf: bool | None
    refusal: bool | None

    @property
    def declared_clear(self) -> bool:
        return self.oqtf is False and self.refusal is False


@dataclass(frozen=True)
class DraftContext:
    kind: str
    title: str
    subject: str | None  # the letter's « Objet », also written into the PDF's metadata
    today: date
    place: str | None
    person: Person
    identity: Identity
    answers: Answers
    departement: Departement | None
    prefecture_label: str | None  # the case's own words, when no département is known
    service_address: tuple[str, ...] | None
    procedure: str | None
    url: str
    attempts: AttemptSummary
    letters: tuple[LetterLine, ...]
    events: tuple[EventLine, ...]
    pieces: tuple[Piece, ...]
    shots: tuple[Shot, ...]  # the screenshots a letter annexes
    slots_seen: tuple[str, ...]  # times of attempts that did show slots
    demo: bool
    options: DraftOptions
    injunction_days: int = INJUNCTION_DAYS
    astreinte_euros: int = ASTREINTE_EUROS

    @property
    def for_lawyer(self) -> bool:
        return self.kind == "requete-refere"

    @property
    def paris(self) -> bool:
        return self.departement is not None and self.departement.code == tribunals.PARIS

    @property
    def sent(self) -> tuple[LetterLine, ...]:
        return tuple(line for line in self.letters if line.direction == "sent")

    @property
    def received(self) -> tuple[LetterLine, ...]:
        return tuple(line for line in self.letters if line.direction == "received")

    @property
    def cited_request(self) -> LetterLine | None:
        """The request a relance or a referral cites: the first written one left unanswered."""
        return first_unanswered(list(self.letters)) if self.kind in ("relance", "defenseur-des-droits") else None

    @property
    def other_sent(self) -> tuple[LetterLine, ...]:
        """The letters sent, but the one the text already cites."""
        cited = self.cited_request
        return tuple(line for line in self.sent if cited is None or line.id != cited.id)

    @property
    def permit_days(self) -> int | None:
        """Days from today to the permit's expiry (negative once expired)."""
        expiry = self.identity.permit_expiry
        return None if expiry is None else (expiry - self.today).days

    @property
    def renewal(self) -> bool | None:
        return None if self.answers.application is None else self.answers.application == "renouvellement"


@dataclass(frozen=True)
class Draft:
    kind: str
    pdf: bytes
    pages: int
    warnings: tuple[str, ...]
    blanks: tuple[Blank, ...]
    suggested_name: str


@dataclass(frozen=True)
class WrittenDraft:
    path: Path
    pages: int
    warnings: tuple[str, ...]
    blanks: tuple[Blank, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "pages": self.pages,
            "warnings": list(self.warnings),
            "blanks": [blank.to_json() for blank in self.blanks],
        }


# --- facts → context --------------------------------------------------------------------------


def _place(address_lines: tuple[str, ...] | None) -> str | None:
    """The town of the sender's address (its last line, « 95000 Cergy »)."""
    match = _POSTCODE_CITY.match(address_lines[-1].strip()) if address_lines else None
    return match.group(1) if match else None


def _lines(text: str | None) -> tuple[str, ...] | None:
    return tuple(text.split("\n")) if text else None


def _application(applicant: Applicant, procedure: str | None) -> str | None:
    """The applicant's answer, else what the case's procedure says in so many words."""
    if applicant.application is not None:
        return applicant.application
    words = (procedure or "").lower()
    if "renouvel" in words:
        return "renouvellement"
    if "première demande" in words or "premiere demande" in words:
        return "premiere"
    return None


def _subject(kind: str, procedure: str | None, cited: LetterLine | None) -> str | None:
    if kind == "demande-rdv":
        return f"demande de rendez-vous — {procedure}" if procedure else "demande de rendez-vous"
    if kind == "relance" and cited is not None:
        return f"relance — demande de rendez-vous du {french.long_date(cited.letter_date)}" + (
            f" — {procedure}" if procedure else ""
        )
    if kind == "defenseur-des-droits":
        return "réclamation — impossibilité d'obtenir un rendez-vous en préfecture"
    return None


def build_context(
    facts: DossierFacts,
    applicant: Applicant,
    kind: str,
    options: DraftOptions = DraftOptions(),
    shots: tuple[Shot, ...] = (),
) -> tuple[DraftContext, list[str]]:
    """The document's context, and what the user should check before signing."""
    today = facts.generated_at.astimezone(PARIS).date()
    letters = tuple(letter_lines(facts.letters, today))
    if kind == "relance" and first_unanswered(list(letters)) is None:
        raise BadInput("une relance suppose un courrier déjà envoyé : enregistrez-le avec « preuves letter add »")
    case = facts.case
    departement = tribunals.resolve(applicant.departement, case.prefecture, case.url)
    application = _application(applicant, case.procedure)
    procedure = case.procedure or (
        f"{APPLICATION_LABELS[application]} de titre de séjour" if application else None
    )
    address = _lines(applicant.postal_address)
    context = DraftContext(
        kind=kind,
        title=DRAFT_KINDS[kind],
        subject=_subject(kind, procedure, first_unanswered(list(letters))),
        today=today,
        place=_place(address),
        person=Person(applicant.full_name, applicant.civility),
        identity=Identity(
            birth_date=applicant.birth_date,
            birth_place=applicant.birth_place,
            nationality=applicant.nationality,
            address_lines=address,
            foreigner_number=applicant.foreigner_number,
            permit_expiry=applicant.permit_expiry,
        ),
        answers=Answers(application, applicant.on_anef, applicant.oqtf, applicant.refusal),
        departement=departement,
        prefecture_label=case.prefecture,
        service_address=_lines(applicant.service_address),
        procedure=procedure,
        url=case.url,
        attempts=summarise_attempts(facts.attempts),
        letters=letters,
        events=event_lines(facts.events),
        pieces=facts.pieces,
        shots=shots,
        slots_seen=tuple(paris_time(a.started_at) for a in facts.attempts if a.state == "slots"),
        demo=facts.demo,
        options=options,
    )
    return context, _warnings(facts, context)


def _warnings(facts: DossierFacts, context: DraftContext) -> list[str]:
    warnings = []
    failed = [(a.started_at, a.state) for a in failed_attempts(facts.attempts)]
    weaknesses = capture_stats(failed).weaknesses(letters_sent=len(context.sent))
    if weaknesses:
        warnings.append("preuves encore faibles devant un juge : " + " ; ".join(weaknesses))
    if context.slots_seen and not context.for_lawyer:  # the requête shows them as a blank
        warnings.append(
            f"{french.plural(len(context.slots_seen), 'tentative a', 'tentatives ont')} affiché des "
            f"créneaux ({', '.join(context.slots_seen)}) : le document n'en parle pas"
        )
    offline = sum(1 for a in facts.attempts if a.outcome == OFFLINE)
    if offline:
        who = french.plural(offline, "tentative n'a", "tentatives n'ont")
        them = "la" if offline == 1 else "les"
        warnings.append(f"{who} pas pu joindre le site (échec de la connexion) : le document ne {them} compte pas")
    for state in ("captcha", "unknown"):
        count = sum(1 for a in facts.attempts if a.state == state)
        if count:
            warnings.append(
                f"{french.plural(count, 'tentative', 'tentatives')} « {french.state_label(state)} » "
                f"{'comptée' if count == 1 else 'comptées'} comme {'échec' if count == 1 else 'échecs'} : "
                "vérifiez leurs captures"
            )
    if context.for_lawyer and context.answers.oqtf:
        warnings.append(
            "le demandeur a déclaré une obligation de quitter le territoire : sans exécution, l'urgence n'est "
            "pas reconnue (CE, 9 juin 2022, n° 453391) — la requête est à examiner par un avocat"
        )
    if context.for_lawyer and context.answers.refusal:
        warnings.append("le demandeur a déclaré un refus de titre : la requête est à examiner par un avocat")
    return warnings


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
        draft_author=DRAFT_AUTHOR,
        plural=french.plural,
        font_faces=Markup(font_face_css()),
    )
    return env


def render_html(context: DraftContext, case_id: int) -> tuple[str, tuple[Blank, ...]]:
    """The document's HTML, and the blanks it holds (in the order the text shows them)."""
    recorder = BlankRecorder(case_id)
    html = environment().get_template(f"{context.kind}.html").render(d=context, blank=recorder)
    return bind_guillemets(html), recorder.blanks


def parse_options(
    counsel: str | None, bar: str | None, legal_aid: bool, costs: int | None, kind: str
) -> DraftOptions:
    """The requête's options, checked: counsel and bar go together, costs are a positive sum."""
    if (counsel or legal_aid or costs is not None or bar) and kind in LETTER_KINDS:
        raise BadInput("--counsel, --bar, --aide-juridictionnelle et --frais ne valent que pour la requête")
    if bool(counsel and counsel.strip()) != bool(bar and bar.strip()):
        raise BadInput("l'avocat se désigne par son nom et son barreau : --counsel NOM --bar BARREAU")
    if costs is not None and not 0 < costs <= MAX_COSTS_EUROS:
        raise BadInput(f"frais invalides : {costs} (un montant en euros de 1 à {MAX_COSTS_EUROS})")
    named = None
    if counsel and bar:
        name, place = " ".join(counsel.split()), " ".join(bar.split())
        if len(name) > MAX_COUNSEL_LENGTH or len(place) > MAX_COUNSEL_LENGTH:
            raise BadInput(f"nom de l'avocat ou du barreau trop long : {MAX_COUNSEL_LENGTH} caractères au plus")
        named = Counsel(name.removeprefix("Me ").strip(), place)
    return DraftOptions(counsel=named, legal_aid=legal_aid, costs=costs)


def render_draft(
    workspace: Workspace, case_reference: str, kind: str, options: DraftOptions = DraftOptions()
) -> Draft:
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
        case_id, label = case.id, french.ascii_title(case.label)
        session.expunge(applicant)
    with tempfile.TemporaryDirectory(prefix="brouillon-") as folder:
        scratch = Path(folder)
        shots = annex_shots(facts.attempts, workspace.home, scratch) if kind in LETTER_KINDS else ()
        context, warnings = build_context(facts, applicant, kind, options, shots)
        html, blanks = render_html(context, case_id)
        document = render_document(html, scratch)
        pdf = document.write_pdf()
    return Draft(
        kind=kind,
        pdf=pdf,
        pages=len(document.pages),
        warnings=tuple(warnings),
        blanks=blanks,
        suggested_name=f"{kind}_{label}_{context.today.isoformat()}.pdf",
    )


def _check_destination(path: Path, replace: bool) -> None:
    if path.is_dir():
        raise BadInput(f"{path} est un dossier : donnez un nom de fichier PDF")
    if not path.parent.is_dir():
        raise BadInput(f"{path.parent} : dossier inexistant")
    if path.exists() and not replace:
        raise BadInput(f"{path} existe déjà : choisissez un autre nom de fichier, ou --replace pour le remplacer")


def write_draft(
    workspace: Workspace,
    case_reference: str,
    kind: str,
    out: Path | None = None,
    options: DraftOptions = DraftOptions(),
    *,
    replace: bool = False,
) -> WrittenDraft:
    """Render the draft and write it, owner-only, to `out` (default: the current folder). An existing
    file is replaced only when asked: it may be a draft already completed by hand, or signed."""
    if out is not None:
        _check_destination(out, replace)
    draft = render_draft(workspace, case_reference, kind, options)
    path = out if out is not None else Path.cwd() / draft.suggested_name
    _check_destination(path, replace)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(draft.pdf)
    except OSError as exc:
        raise BadInput(f"{path} : écriture impossible ({plain_reason(exc)})") from exc
    return WrittenDraft(path, draft.pages, draft.warnings, draft.blanks)
