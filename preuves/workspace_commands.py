"""`preuves init` and `preuves verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dossier_builder.verify import verify_bundle
from evidence.journal import JournalHead
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace
from preuves.console import err, out, print_json
from preuves.context import JsonFlag, home_option, workspace_of
from preuves.dossier_commands import print_bundle_report
from preuves.progress import progress_bar


def init(ctx: typer.Context) -> None:
    """Créer l'espace de travail (sans effet s'il existe déjà)."""
    workspace, created = init_workspace(home_option(ctx))
    workspace.close()
    if created:
        out.print(f"Espace de travail créé : {workspace.home}")
    else:
        out.print(f"Espace de travail déjà prêt : {workspace.home}")


def verify(
    ctx: typer.Context,
    case: Annotated[str | None, typer.Argument(help="Limiter la vérification à un dossier.")] = None,
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
    """Vérifier que rien n'a été modifié ni supprimé (fichiers, journal, base, dossier de pièces)."""
    noted = JournalHead.parse(head) if head is not None else None
    with workspace_of(ctx) as workspace:
        if dossier is not None:
            bundle = verify_bundle(workspace, dossier)
            print_bundle_report(bundle, as_json)
            if not bundle.ok:
                raise typer.Exit(1)
            return
        with progress_bar() as progress:
            report = verify_workspace(workspace, case, noted, progress)
    if as_json:
        print_json(report.to_json())
    else:
        for problem in report.problems:
            out.print(problem.line())
        for orphan in report.orphans:
            err.print(f"Fichier orphelin (sans enregistrement, conservé) : {orphan}")
        for purge in report.purges:
            out.print(f"Effacement demandé : {purge}")
        verdict = "INTACT" if report.ok else f"{len(report.problems)} PROBLÈME(S)"
        out.print(
            f"{verdict} — {report.entries} entrées du journal, {report.blobs_checked} fichiers "
            f"vérifiés. Tête du journal : n° {report.head.seq}, {report.head.entry_hash}"
        )
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(verify)

