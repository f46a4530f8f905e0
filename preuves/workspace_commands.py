"""`preuves init` and `preuves verify`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evidence.errors import BadInput
from preuves.console import err, out, print_json
from preuves.context import JsonFlag, home_option, workspace_of
from preuves.dossier_commands import print_bundle_report
from preuves.progress import progress_bar

if TYPE_CHECKING:
    from evidence.repair import RepairResult
    from evidence.verify import VerifyReport


def init(
    ctx: typer.Context,
    yes: Annotated[
        bool, typer.Option("--yes", help="Créer l'espace dans un dossier qui contient déjà d'autres fichiers.")
    ] = False,
) -> None:
    """Créer l'espace de travail (sans effet s'il existe déjà)."""
    from evidence.workspace import init_workspace, other_files, resolve_home

    others = other_files(home_option(ctx))
    if others and not yes:
        shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
        raise BadInput(
            f"{resolve_home(home_option(ctx))} contient déjà d'autres fichiers ({shown}) : l'espace de travail "
            "le réserverait à vous seul (droits 0700) ; choisissez un dossier vide ou neuf, ou ajoutez --yes"
        )
    workspace, created = init_workspace(home_option(ctx))
    workspace.close()
    if created:
        out.print(f"Espace de travail créé : {workspace.home}")
        err.print("Prochaine étape : un dossier par démarche, « preuves case add NOM --url ADRESSE-DE-LA-PAGE ».")
    else:
        out.print(f"Espace de travail déjà prêt : {workspace.home}")


def verify(
    ctx: typer.Context,
    case: Annotated[str | None, typer.Argument(help="Limiter la vérification à un dossier.", metavar="DOSSIER")] = None,
    dossier: Annotated[
        Path | None,
        typer.Option("--dossier", help="Vérifier un dossier de pièces produit par « preuves dossier »."),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option("--head", help="Tête du journal notée plus tôt (NUMÉRO:EMPREINTE) : est-elle toujours là ?"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Vérifier que rien n'a été modifié ni supprimé.

    Les fichiers, le journal et la base ; avec --dossier, un dossier de pièces."""
    from dossier_builder.verify import verify_bundle
    from evidence.journal import JournalHead
    from evidence.verify import verify_workspace

    noted = JournalHead.parse(head) if head is not None else None
    with workspace_of(ctx, read_only=True) as workspace:
        if dossier is not None:
            bundle = verify_bundle(workspace, dossier)
            print_bundle_report(bundle, as_json)
            if not bundle.ok:
                raise typer.Exit(1)
            return
        with progress_bar() as progress:
            report = verify_workspace(workspace, case, noted, progress)
    print_verify_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


def print_verify_report(report: VerifyReport, as_json: bool = False) -> None:
    if as_json:
        print_json(report.to_json())
    else:
        for problem in report.problems:
            out.print(problem.line())
        for orphan in report.orphans:
            err.print(f"Fichier orphelin (sans enregistrement, conservé) : {orphan}")
        for note in report.notes:
            err.print(f"Note : {note}")
        for purge in report.purges:
            out.print(f"Effacement demandé : {purge}")
        if report.damaged:
            out.print("BASE ENDOMMAGÉE — rien n'a pu être vérifié.")
        else:
            verdict = "INTACT" if report.ok else f"{len(report.problems)} PROBLÈME(S)"
            out.print(
                f"{verdict} — {report.entries} entrées du journal, {report.blobs_checked} fichiers "
                f"vérifiés. Tête du journal : n° {report.head.seq}, {report.head.entry_hash}"
            )


def repair(ctx: typer.Context) -> None:
    """Reconstruire une base perdue ou endommagée.

    À partir de la copie du journal (journal.jsonl) et des fichiers, ou la copie à partir de la base ;
    la réparation est consignée au journal."""
    from evidence.journal_copy import COPY_NAME
    from evidence.repair import repair_workspace
    from evidence.verify import verify_workspace

    result = repair_workspace(home_option(ctx))
    if result.rebuilt is None:
        out.print(f"Rien à réparer : {result.reason.removeprefix('rien à réparer : ')}.")
        return
    assert result.entry is not None
    if result.rebuilt == "database":
        rows = ", ".join(f"{REBUILT_LABELS.get(table, table)} : {count}" for table, count in result.rows.items() if count)
        err.print(f"Base reconstruite à partir de {COPY_NAME} ({result.reason}) : {result.entries} entrées du journal ; {rows}.")
        _print_not_rebuilt(result)
    else:
        err.print(f"Copie du journal refaite à partir de la base ({result.reason}) : {result.entries} entrées.")
    for name in result.set_aside:
        err.print(f"Mis de côté, conservé : {name}")
    err.print(f"Réparation consignée : entrée n° {result.entry.seq} du journal.")
    with workspace_of(ctx) as workspace, progress_bar() as progress:
        report = verify_workspace(workspace, progress=progress)
    print_verify_report(report)
    if not report.ok:
        raise typer.Exit(1)


REBUILT_LABELS = {
    "targets": "pages", "cases": "dossiers", "letters": "courriers", "case_events": "événements",
    "applicant_pieces": "pièces du demandeur",
    "captures": "tentatives",
    "artefacts": "fichiers", "anchors": "horodatages", "organisations": "organisations",
    "case_organisations": "dossiers d'une organisation",
}


def _print_not_rebuilt(result: RepairResult) -> None:
    missing = result.not_rebuilt
    if missing.get("applicants"):
        cases = ", ".join(str(item["case_id"]) for item in missing["applicants"])
        err.print(f"Non reconstruit : l'identité du demandeur (dossier(s) {cases}), que le journal ne garde pas : "
                  "« preuves applicant set ».")
    if missing.get("users"):
        err.print(f"Non reconstruit(s) : compte(s) {', '.join(missing['users'])} (le journal n'en garde pas le mot "
                  "de passe) : « preuves user add ».")
    if missing.get("plans_of_targets"):
        pages = ", ".join(str(target_id) for target_id in missing["plans_of_targets"])
        err.print(f"Non reconstruits : les plans de tentatives (page(s) n° {pages}) : établissez-les de nouveau avec "
                  "« preuves plan DOSSIER --new ».")
    if result.unconfirmed:
        err.print(f"{result.unconfirmed} entrée(s) écrite(s) dans la copie sans confirmation de la base "
                  "(enregistrement interrompu) : non restaurée(s), nommées dans l'entrée de la réparation.")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(verify)
    app.command()(repair)

