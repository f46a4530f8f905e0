"""`preuves applicant set|show`: the identity the letters need, and what only the applicant can say
that the requête needs (civility, kind of application, ANEF, OQTF, refusal), kept in the workspace only."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dossier_builder import tribunals
from evidence.errors import BadInput
from preuves.console import ask, err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day

if TYPE_CHECKING:
    from evidence.applicants import ApplicantFields
    from evidence.models import Applicant


app = typer.Typer(
    help="Identité du demandeur et ses réponses.\n\nPour les courriers et la requête ; elles ne quittent jamais "
    "l'espace de travail."
)

CLEAR = "-"
DATE_FIELDS = ("birth_date", "permit_expiry")
YES_NO_FIELDS = ("on_anef", "oqtf", "refusal")
ADDRESS_FIELDS = ("postal_address", "service_address")
YES = ("oui", "o", "yes", "y")
NO = ("non", "n", "no")


def _ask(name: str, current: Any) -> Any:
    """Prompt for one field; Enter keeps the current value, « - » clears an optional one."""
    from evidence.applicants import FIELD_LABELS

    shown = _shown(current)
    if isinstance(shown, str) and name in ADDRESS_FIELDS:
        shown = shown.replace("\n", " ; ")

    hint = "" if name == "full_name" else f" (« {CLEAR} » pour effacer)"
    if name in ADDRESS_FIELDS:
        hint += ", lignes séparées par « ; »"
    while True:
        text = ask(f"{FIELD_LABELS[name]}{hint}", None if shown is None else str(shown))
        if text.strip() in ("", CLEAR):
            if name == "full_name":
                continue  # the one field a letter cannot do without
            return None
        try:
            return _converted(name, text)
        except BadInput as exc:
            err.print(f"Erreur : {exc}")  # said, and asked again


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return value.isoformat() if isinstance(value, date) else value


def _address_lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.split(";"))


def _yes_no(text: str, what: str) -> bool:
    answer = text.strip().lower()
    if answer in YES or answer in NO:
        return answer in YES
    raise BadInput(f"réponse invalide pour {what} : {text!r} (oui ou non attendu)")


def _departement_code(text: str) -> str:
    found = tribunals.find(text)
    if found is None:
        raise BadInput(f"département inconnu : {text!r} (code comme 95 ou nom comme Val-d'Oise attendu)")
    return found.code


def _converted(name: str, text: str) -> Any:
    """A typed answer as the field stores it (BadInput when it cannot be)."""
    from evidence import applicants
    from evidence.applicants import FIELD_LABELS

    if name in DATE_FIELDS:
        return parse_day(text, FIELD_LABELS[name].lower())
    if name in YES_NO_FIELDS:
        return _yes_no(text, OPTION_NAMES[name])
    if name == "departement":
        return _departement_code(text)
    if name in ("civility", "application"):
        return getattr(applicants, name)(text)
    return _address_lines(text) if name in ADDRESS_FIELDS else text


def _option(name: str, text: str | None) -> Any:
    """An option's value: None when not given, « - » to clear, else converted."""
    return text if text is None or text.strip() == CLEAR else _converted(name, text)


OPTION_NAMES = {
    "birth_date": "--birth-date",
    "permit_expiry": "--permit-expiry",
    "on_anef": "--anef",
    "oqtf": "--oqtf",
    "refusal": "--refus",
    "departement": "--departement",
}


def _merge(given: dict[str, Any], current: ApplicantFields | None) -> dict[str, Any]:
    """Options given win, « - » clears, and the others keep their current value."""
    merged = {}
    for field, value in given.items():
        if value is None:
            merged[field] = getattr(current, field, None)
        else:
            merged[field] = None if isinstance(value, str) and value.strip() == CLEAR else value
    return merged


@app.command("set")
def set_identity(
    ctx: typer.Context,
    case: CaseArgument,
    name: Annotated[str | None, typer.Option("--name", help="Nom et prénom.")] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="Date de naissance (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
    birth_place: Annotated[str | None, typer.Option("--birth-place", help="Lieu de naissance.")] = None,
    nationality: Annotated[str | None, typer.Option("--nationality", help="Nationalité.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Adresse postale, lignes séparées par « ; ».")] = None,
    foreigner_number: Annotated[str | None, typer.Option("--foreigner-number", help="Numéro d'étranger (10 chiffres).")] = None,
    permit_expiry: Annotated[str | None, typer.Option("--permit-expiry", help="Date d'expiration du titre de séjour.")] = None,
    civility: Annotated[str | None, typer.Option("--civility", help="M. ou Mme (accords des courriers : né, née …).")] = None,
    application: Annotated[str | None, typer.Option("--demande", help="premiere (première demande) ou renouvellement.")] = None,
    on_anef: Annotated[str | None, typer.Option("--anef", help="oui si la démarche se fait sur l'ANEF (téléservice), sinon non.")] = None,
    oqtf: Annotated[str | None, typer.Option("--oqtf", help="oui si une obligation de quitter le territoire est en cours, sinon non.")] = None,
    refusal: Annotated[str | None, typer.Option("--refus", help="oui si un refus de titre de séjour a déjà été opposé, sinon non.")] = None,
    departement: Annotated[str | None, typer.Option("--departement", help="Département de la préfecture, si le dossier ne le dit pas (95, Val-d'Oise …).")] = None,
    service_address: Annotated[str | None, typer.Option("--service-address", help="Adresse du service des étrangers, lignes séparées par « ; ».")] = None,
) -> None:
    """Renseigner l'identité du demandeur et ses réponses.

    Sans option, chaque champ est demandé (Entrée garde la valeur actuelle). Avec des options, seuls
    ces champs changent ; « - » efface un champ. L'absence d'OQTF et de refus n'est jamais supposée :
    la requête ne l'affirme que si le demandeur a répondu non.
    """
    from evidence.applicants import ApplicantFields, get_applicant, set_applicant
    from evidence.records import find_case

    given: dict[str, Any] = {
        "full_name": name,
        "civility": _option("civility", civility),
        "birth_date": _option("birth_date", birth_date),
        "birth_place": birth_place,
        "nationality": nationality,
        "postal_address": _address_lines(address) if address else None,
        "foreigner_number": foreigner_number,
        "permit_expiry": _option("permit_expiry", permit_expiry),
        "application": _option("application", application),
        "on_anef": _option("on_anef", on_anef),
        "oqtf": _option("oqtf", oqtf),
        "refusal": _option("refusal", refusal),
        "departement": _option("departement", departement),
        "service_address": _address_lines(service_address) if service_address else None,
    }
    with workspace_of(ctx) as workspace:
        with workspace.reading() as session:
            existing = get_applicant(session, find_case(session, case))
            current = ApplicantFields.of(existing) if existing else None
        if all(value is None for value in given.values()):
            values = {field: _ask(field, getattr(current, field, None)) for field in given}
        else:
            values = _merge(given, current)
        if not values["full_name"]:
            raise BadInput("le nom du demandeur est obligatoire (option --name)")
        applicant, changed = set_applicant(workspace, case, ApplicantFields(**values))
    err.print(
        "Identité enregistrée dans l'espace de travail seulement (le journal n'en garde qu'une empreinte)."
        if changed
        else "Identité inchangée."
    )
    out.print(str(applicant.id))


def _as_json(applicant: Applicant) -> dict[str, Any]:
    from evidence.applicants import ApplicantFields

    fields = ApplicantFields.of(applicant)
    return {
        name: value.isoformat() if isinstance(value, date) else value for name, value in vars(fields).items()
    }


@app.command("show")
def show(
    ctx: typer.Context,
    case: CaseArgument,
    as_json: JsonFlag = False,
) -> None:
    """Afficher l'identité du demandeur enregistrée pour un dossier."""
    from evidence.applicants import FIELD_LABELS, get_applicant
    from evidence.records import find_case

    with workspace_of(ctx) as workspace, workspace.reading() as session:
        found = find_case(session, case)
        applicant = get_applicant(session, found)
        if applicant is None:
            raise BadInput(f"identité du demandeur inconnue : renseignez-la avec « preuves applicant set {found.id} »")
        values = _as_json(applicant)
    if as_json:
        print_json(values)
        return
    for name, value in values.items():
        shown = _shown(value)
        out.print(f"{FIELD_LABELS[name]} : {'—' if shown is None else shown}")
