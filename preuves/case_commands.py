"""`preuves case add|list|show`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from evidence.errors import BadInput
from evidence.localtime import paris_time
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.progress import progress_bar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from evidence.models import Case


app = typer.Typer(help="Gérer les dossiers.\n\nUn dossier : une personne, une démarche, une page de réservation.")


@app.command("add")
def add(
    ctx: typer.Context,
    label: Annotated[str, typer.Argument(help=(
        "Nom du dossier, par exemple « 2026-014 titre de séjour ». Il reste au journal même "
        "après un effacement : préférez une référence au nom de la personne."
    ), metavar="NOM")],
    url: Annotated[str, typer.Option("--url", help="Adresse de la page de prise de rendez-vous.")],
    prefecture: Annotated[str | None, typer.Option(help="Préfecture concernée.")] = None,
    procedure: Annotated[str | None, typer.Option(help="Démarche (renouvellement, première demande …).")] = None,
    counter: Annotated[str | None, typer.Option(help="Guichet à choisir (valeur du bouton « planning »).")] = None,
    platform: Annotated[str | None, typer.Option(help="Forcer la plateforme (sinon détectée).")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes libres.")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Organisation dont les comptes verront ce dossier.")
    ] = None,
    allow_any_domain: Annotated[
        bool, typer.Option("--allow-any-domain", help="Accepter un domaine non officiel (tests, démo).")
    ] = False,
) -> None:
    """Créer un dossier.

    Sa page est partagée avec les dossiers qui attendent la même."""
    from capture.platforms import checked_target
    from evidence.records import add_case
    from preuves.attempt_modes import mode_sentence

    spec = checked_target(
        url, counter=counter, platform=platform, prefecture=prefecture, procedure=procedure,
        allow_any_domain=allow_any_domain,
    )
    with workspace_of(ctx) as workspace:
        case, reused = add_case(workspace, label, spec, notes=notes, organisation=organisation)
    shared = " (page déjà surveillée pour un autre dossier)" if reused else ""
    err.print(f"Dossier « {case.label} » créé, plateforme {spec.platform}{shared}.")
    err.print(mode_sentence(spec.platform))
    err.print(f"Prochaine étape : le plan des tentatives, « preuves plan {case.id} --new ».")
    out.print(str(case.id))


def _summaries(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    """What a user wants to see of each case; times stay datetimes until printed."""
    from sqlalchemy import func, select

    from evidence.models import Capture
    from evidence.purge import purges

    stats = {
        target_id: (count, last)
        for target_id, count, last in session.execute(
            select(Capture.target_id, func.count(), func.max(Capture.started_at)).group_by(
                Capture.target_id
            )
        )
    }
    purged = purges(session)
    summaries = []
    for case in cases:
        target = case.target
        count, last = stats.get(case.target_id, (0, None))
        purge = purged.get(case.id)
        summaries.append(
            {
                "id": case.id,
                "label": case.label,
                "active": case.active and purge is None,
                "purged": purge.to_json() if purge else None,
                "url": target.url,
                "platform": target.platform,
                "counter": target.counter,
                "prefecture": target.prefecture,
                "procedure": target.procedure,
                "target_id": target.id,
                "period_start": case.period_start.isoformat(),
                "notes": case.notes,
                "captures": count,
                "last_capture": last,
            }
        )
    return summaries


def _jsonable(summary: dict[str, Any]) -> dict[str, Any]:
    last = summary["last_capture"]
    return {**summary, "last_capture": last.isoformat() if last else None}


@app.command("list")
def list_cases(
    ctx: typer.Context,
    as_json: JsonFlag = False,
) -> None:
    """Lister les dossiers."""
    from sqlalchemy import select

    from evidence.models import Case

    with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
        summaries = _summaries(session, list(session.scalars(select(Case).order_by(Case.id))))
    if as_json:
        print_json([_jsonable(s) for s in summaries])
        return
    if not summaries:
        err.print("Aucun dossier. Créez-en un avec « preuves case add NOM --url … ».")
        return
    table = Table("N°", "Dossier", "Plateforme", "Page", "Captures", "Dernière capture")
    for s in summaries:
        last = s["last_capture"]
        table.add_row(
            str(s["id"]), s["label"] + (" (purgé)" if s["purged"] else ""), s["platform"], s["url"], str(s["captures"]),
            paris_time(last) if last else "—",
        )
    out.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    case: CaseArgument,
    as_json: JsonFlag = False,
) -> None:
    """Afficher un dossier."""
    from evidence.case_status import purged_sentence
    from evidence.records import find_case

    with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
        summary = _summaries(session, [find_case(session, case)])[0]
    if as_json:
        print_json(_jsonable(summary))
        return
    labels = {
        "id": "Numéro", "label": "Dossier", "active": "Actif", "url": "Page", "platform": "Plateforme",
        "counter": "Guichet", "prefecture": "Préfecture", "procedure": "Démarche",
        "target_id": "Page surveillée n°", "period_start": "Début", "notes": "Notes",
        "captures": "Captures", "last_capture": "Dernière capture",
    }
    for key, label in labels.items():
        value = summary[key]
        if key == "last_capture" and value:
            value = paris_time(value)
        elif isinstance(value, bool):
            value = "oui" if value else "non"
        out.print(f"{label} : {'—' if value is None else value}")
    if summary["purged"]:
        out.print(purged_sentence(summary["purged"]))



@app.command("export")
def export(
    ctx: typer.Context,
    case: CaseArgument,
    out_file: Annotated[Path, typer.Option("--out", help="Archive à écrire (.zip), qui ne doit pas exister.")],
) -> None:
    """Tout un dossier dans une seule archive, pour l'avocat."""
    from dossier_builder.case_export import export_case
    from dossier_builder.render import file_size

    with workspace_of(ctx) as workspace, progress_bar() as progress:
        result = export_case(workspace, case, out_file, progress)
    err.print(f"{result.files} fichiers d'origine exportés ({file_size(result.size)}), avec leurs empreintes.")
    out.print(str(result.path))


PURGED_TEXT = (
    "Le nom du dossier, ses notes, l'objet, l'expéditeur et le destinataire des courriers, les noms des fichiers, "
    "les intitulés des pièces et les résultats des démarches étaient chiffrés avec la clé du dossier, qui est "
    "détruite : ils se lisent désormais « effacé » ; le journal garde les dates, les états et les empreintes."
)
CLEAR_TEXT_KEPT = (
    "Ce dossier date d'avant le chiffrement : le journal, qui ne peut rien oublier, garde en clair le nom du "
    "dossier, ses notes, et l'objet, l'expéditeur, le destinataire et les noms de fichiers des courriers "
    "enregistrés avant cette version ; ce qui a été enregistré depuis était chiffré et se lit désormais « effacé »."
)
WAL_KEPT = (
    "Un autre programme (surveillance, tableau de bord) lisait la base : son journal d'écriture (fichier -wal) "
    "garde encore d'anciennes pages ; relancez « preuves case purge » une fois ce programme arrêté."
)


@app.command("purge")
def purge(
    ctx: typer.Context,
    case: CaseArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Confirmer l'effacement, qui est définitif.")] = False,
) -> None:
    """Effacer les données personnelles d'un dossier.

    Ses fichiers aussi ; c'est définitif, et consigné au journal."""
    from evidence.purge import purge_case

    if not yes:
        raise BadInput(
            "l'effacement est définitif : exportez d'abord le dossier (« preuves case export »), "
            "puis relancez avec --yes"
        )
    with workspace_of(ctx) as workspace:
        result = purge_case(workspace, case)
    done = result.purge
    if result.already_purged:
        err.print(f"Dossier déjà purgé (entrée n° {done.seq} du journal) ; {result.files_removed} fichier(s) restant(s) effacé(s).")
    else:
        identity = "l'identité du demandeur, " if done.applicant_id is not None else ""
        err.print(
            f"Dossier purgé : {identity}{result.files_removed} fichier(s) effacé(s), "
            f"{done.plan_cancelled} tentative(s) prévue(s) annulée(s). L'effacement est consigné "
            f"(entrée n° {done.seq} du journal) ; « preuves verify » l'explique."
        )
        err.print(CLEAR_TEXT_KEPT if done.clear_text_kept else PURGED_TEXT)
    if not result.log_emptied:
        err.print(WAL_KEPT)
