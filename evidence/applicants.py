"""The applicant's identity, which only letters and drafts use, and what only the applicant can
say that the requête needs (civility, kind of application, ANEF, OQTF, refusal) — asked, never assumed.

Personal data: it lives in the `applicants` row of the workspace and nowhere else. The journal
entry that accompanies each change holds only a SHA-256 of the fields (`Applicant.to_record`), so
the row can be checked by `verify` and later erased without breaking the chain.

`mask_identity` hides the applicant's name and numéro d'étranger in the short texts that do go
into the journal with a letter (its subject, the administration's address, file names).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import journal
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import Applicant, Case
from evidence.records import find_case
from evidence.workspace import Workspace

MASK = "***"
FOREIGNER_NUMBER_DIGITS = 10
MIN_MASKED_NAME_PART = 2
# Parts of a name too common in ordinary French text to be masked on their own.
NAME_PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "el", "al", "da", "di", "do", "dos", "das", "del", "van",
     "von", "der", "den", "ter", "et", "en", "au", "un"}
)

# Column width of each text field (see the model), and its French name for messages and prompts.
TEXT_LIMITS = {
    "full_name": 200,
    "birth_place": 200,
    "nationality": 100,
    "postal_address": 1000,
    "service_address": 1000,
}
FIELD_LABELS = {
    "full_name": "Nom et prénom",
    "birth_date": "Date de naissance",
    "birth_place": "Lieu de naissance",
    "nationality": "Nationalité",
    "postal_address": "Adresse postale",
    "foreigner_number": "Numéro d'étranger",
    "permit_expiry": "Date d'expiration du titre de séjour",
    "civility": "Civilité (M. ou Mme)",
    "application": "Demande : première demande ou renouvellement",
    "on_anef": "Démarche à faire sur l'ANEF (téléservice) ? oui ou non",
    "oqtf": "Obligation de quitter le territoire (OQTF) en cours ? oui ou non",
    "refusal": "Refus de titre de séjour déjà opposé ? oui ou non",
    "departement": "Département de la préfecture (code ou nom), s'il n'est pas dans le dossier",
    "service_address": "Adresse postale du service des étrangers de la préfecture",
}
# How each spelling of a civility and of a kind of application is stored.
CIVILITIES = {"m": "M.", "monsieur": "M.", "mme": "Mme", "madame": "Mme"}
APPLICATIONS = {
    "premiere": "premiere",
    "premiere demande": "premiere",
    "renouvellement": "renouvellement",
}
APPLICATION_LABELS = {"premiere": "première demande", "renouvellement": "renouvellement"}
_DEPARTEMENT_CODE = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


@dataclass(frozen=True)
class ApplicantFields:
    """The identity fields, as typed by the user (dates already parsed)."""

    full_name: str
    birth_date: date | None = None
    birth_place: str | None = None
    nationality: str | None = None
    postal_address: str | None = None
    foreigner_number: str | None = None
    permit_expiry: date | None = None
    civility: str | None = None
    application: str | None = None
    on_anef: bool | None = None
    oqtf: bool | None = None
    refusal: bool | None = None
    departement: str | None = None
    service_address: str | None = None

    @classmethod
    def of(cls, applicant: Applicant) -> ApplicantFields:
        return cls(**{f.name: getattr(applicant, f.name) for f in fields(cls)})


def _clean_text(value: str | None, name: str, *, multiline: bool = False) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    value = "\n".join(line for line in lines if line) if multiline else " ".join(lines).strip()
    if not value:
        return None
    if len(value) > TEXT_LIMITS[name]:
        raise BadInput(f"{FIELD_LABELS[name].lower()} : texte trop long, {TEXT_LIMITS[name]} caractères au plus")
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in value):
        raise BadInput(f"{FIELD_LABELS[name].lower()} : caractère de contrôle interdit")
    return value


def validate_fields(raw: ApplicantFields, today: date) -> ApplicantFields:
    """Normalised fields, or BadInput naming the first unusable one."""
    full_name = _clean_text(raw.full_name, "full_name")
    if full_name is None:
        raise BadInput("le nom du demandeur est obligatoire")
    if raw.birth_date is not None and raw.birth_date > today:
        raise BadInput(f"date de naissance dans le futur : {raw.birth_date.isoformat()}")
    number = None
    if raw.foreigner_number is not None:
        number = "".join(raw.foreigner_number.split()) or None
        if number is not None and (not number.isdigit() or len(number) != FOREIGNER_NUMBER_DIGITS):
            raise BadInput(
                f"numéro d'étranger invalide : {FOREIGNER_NUMBER_DIGITS} chiffres attendus "
                "(il figure sur le titre de séjour ou le récépissé)"
            )
    return ApplicantFields(
        full_name=full_name,
        birth_date=raw.birth_date,
        birth_place=_clean_text(raw.birth_place, "birth_place"),
        nationality=_clean_text(raw.nationality, "nationality"),
        postal_address=_clean_text(raw.postal_address, "postal_address", multiline=True),
        foreigner_number=number,
        permit_expiry=raw.permit_expiry,
        civility=civility(raw.civility),
        application=application(raw.application),
        on_anef=raw.on_anef,
        oqtf=raw.oqtf,
        refusal=raw.refusal,
        departement=_departement(raw.departement),
        service_address=_clean_text(raw.service_address, "service_address", multiline=True),
    )


def _words(value: str) -> str:
    """Lower case, accents and punctuation dropped: « Première-demande » → « premiere demande »."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def civility(value: str | None) -> str | None:
    """« M. » or « Mme » from any usual spelling (M, Monsieur, madame …); BadInput otherwise."""
    return _choice(value, CIVILITIES, "civilité invalide", "M. ou Mme")


def application(value: str | None) -> str | None:
    """« premiere » or « renouvellement » from « première demande », « Renouvellement » …"""
    return _choice(value, APPLICATIONS, "demande invalide", "premiere ou renouvellement")


def _choice(value: str | None, choices: dict[str, str], error: str, expected: str) -> str | None:
    if value is None or not value.strip():
        return None
    found = choices.get(_words(value))
    if found is None:
        raise BadInput(f"{error} : {value!r} ({expected} attendu)")
    return found


def _departement(value: str | None) -> str | None:
    """A département's code (the command line turns a name into it)."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if not _DEPARTEMENT_CODE.match(code):
        raise BadInput(f"département invalide : {value!r} (code comme 95, 2A ou 974 attendu)")
    return code


def get_applicant(session: Session, case: Case) -> Applicant | None:
    return session.scalars(select(Applicant).where(Applicant.case_id == case.id)).first()


def set_applicant(workspace: Workspace, case_reference: str, raw: ApplicantFields) -> tuple[Applicant, bool]:
    """Store the identity of a case's applicant; returns the row and whether anything changed.

    The journal entry ("applicant.set") holds the row's id, case and time and the hash of the
    fields — never the fields.
    """
    now = workspace.clock.now()
    cleaned = validate_fields(raw, now.astimezone(PARIS).date())
    with workspace.writing() as session:
        case = find_case(session, case_reference)
        applicant = get_applicant(session, case)
        if applicant is not None and ApplicantFields.of(applicant) == cleaned:
            return applicant, False
        if applicant is None:
            applicant = Applicant(case_id=case.id)
            session.add(applicant)
        for name, value in vars(cleaned).items():
            setattr(applicant, name, value)
        applicant.updated_at = now
        session.flush()
        journal.append(session, "applicant.set", {"applicant": applicant.to_record()}, now)
    return applicant, True


def _identity_patterns(applicant: Applicant) -> list[re.Pattern[str]]:
    """The whole name, each of its parts (particles aside), and the numéro d'étranger."""
    parts = [applicant.full_name] + [
        part
        for part in re.split(r"[\s,\-'’]+", applicant.full_name)
        if len(part) >= MIN_MASKED_NAME_PART and part.lower() not in NAME_PARTICLES
    ]
    # Bounded by anything but a letter or digit: « passeport_DUPONT.pdf » is masked too.
    patterns = [re.compile(rf"(?<![^\W_]){re.escape(part)}(?![^\W_])", re.IGNORECASE) for part in parts]
    if applicant.foreigner_number:
        spaced = r"\s?".join(re.escape(d) for d in applicant.foreigner_number)
        patterns.append(re.compile(spaced))
    return patterns


def mask_identity(text: str | None, applicant: Applicant | None) -> str | None:
    """`text` with the applicant's name parts and numéro d'étranger replaced by `***`."""
    if text is None or applicant is None:
        return text
    for pattern in _identity_patterns(applicant):
        text = pattern.sub(MASK, text)
    return text
