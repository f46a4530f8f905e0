"""`preuves applicant set|show`: the identity the letters need, kept in the workspace only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from evidence.applicants import FIELD_LABELS, ApplicantFields, get_applicant, set_applicant
from evidence.errors import BadInput
from evidence.models import Applicant
from evidence.records import find_case
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day

app = typer.Typer(help="Identité du demandeur, pour les courriers (elle ne quitte jamais l'espace de travail).")

CLEAR = "-"
DATE_FIELDS = ("birth_date", "permit_expiry")


def _ask(name: str, current: Any) -> Any:
    """Prompt for one field; Enter keeps the current value, « - » clears an optional one."""
    shown = current.isoformat() if isinstance(current, date) else current
    if isinstance(shown, str) and name == "postal_address":
        shown = shown.replace("\n", " ; ")

    def convert(text: str) -> Any:
        if text.strip() in ("", CLEAR):
            return None
        if name in DATE_FIELDS:
            return _as_date(text, name)
        return _address_lines(text) if name == "postal_address" else text

    hint = "" if name == "full_name" else f" (« {CLEAR} » pour effacer)"
    if name == "postal_address":
        hint += ", lignes séparées par « ; »"
    return typer.prompt(
        f"{FIELD_LABELS[name]}{hint}",
        default=shown if shown is not None else ("" if name != "full_name" else None),
        show_default=shown is not None,
        err=True,
        value_proc=convert,
    )


def _address_lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.split(";"))


def _as_date(text: str, name: str) -> date:
    try:
        return parse_day(text, FIELD_LABELS[name].lower())
    except BadInput as exc:
        raise typer.BadParameter(str(exc)) from exc  # the prompt says why and asks again


def _option_date(text: str | None, what: str) -> date | str | None:
    return text if text is None or text.strip() == CLEAR else parse_day(text, what)


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
) -> None:
    """Renseigner l'identité du demandeur.

    Sans option, chaque champ est demandé (Entrée garde la valeur actuelle). Avec des options, seuls
    ces champs changent ; « - » efface un champ.
    """
    given: dict[str, Any] = {
        "full_name": name,
        "birth_date": _option_date(birth_date, "date de naissance"),
        "birth_place": birth_place,
        "nationality": nationality,
        "postal_address": _address_lines(address) if address else None,
        "foreigner_number": foreigner_number,
        "permit_expiry": _option_date(permit_expiry, "date d'expiration du titre"),
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
        out.print(f"{FIELD_LABELS[name]} : {'—' if value is None else value}")
