"""`preuves dossier CASE --out DIR [--from DATE --to DATE] [--attempt-first/--no-attempt-first]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capture.settings import CaptureSettings
from preuves.anchor_commands import before_dossier_line
from preuves.capture_commands import report_outcome, run_one_capture
from preuves.console import ask, err, out, print_json
from preuves.context import CaseArgument, workspace_of
from preuves.parsing import parse_day
from preuves.progress import progress_bar, spinner

if TYPE_CHECKING:
    from dossier_builder.verify import BundleReport
    from evidence.workspace import Workspace


def dossier(
    ctx: typer.Context,
    case: CaseArgument,
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie (nouveau ou vide).")],
    date_from: Annotated[
        str | None, typer.Option("--from", help="Premier jour de la période (AAAA-MM-JJ), heure de Paris.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Dernier jour de la période (AAAA-MM-JJ), inclus.")
    ] = None,
    attempt_first: Annotated[
        bool | None,
        typer.Option(
            "--attempt-first/--no-attempt-first",
            help="Si la dernière tentative a plus de 48 heures : en faire une d'abord (ou non, sans le demander). "
            "Sans l'option, la question est posée dans un terminal.",
        ),
    ] = None,
) -> None:
    """Construire les pièces pour Télérecours et l'inventaire.

    Avec la copie de travail complète, pour l'avocat.

    Le journal est d'abord horodaté s'il a changé depuis le dernier horodatage et si une autorité
    répond (10 secondes au plus chacune) ; sinon le dossier est construit avec les horodatages déjà
    obtenus."""
    from dossier_builder.build import build_dossier, check_output_directory
    from evidence.anchors import anchor_before_dossier

    first = parse_day(date_from, "--from") if date_from else None
    last = parse_day(date_to, "--to") if date_to else None
    check_output_directory(out_dir)
    with workspace_of(ctx) as workspace:
        if last is None:  # a bundle of a past period is not expected to be current
            _freshen(workspace, case, attempt_first)
        with spinner("Horodatage du journal …"):
            anchored = anchor_before_dossier(workspace)
        for outcome in anchored:
            err.print(before_dossier_line(outcome))
        with progress_bar() as progress:
            result = build_dossier(workspace, case, out_dir, date_from=first, date_to=last, progress=progress)
        _warn_if_weak(workspace, case)
    err.print(
        f"{len(result.pieces)} pièces, inventaire et copie de travail ({result.review_pages} pages) "
        f"écrits dans {result.directory}."
    )
    if result.review_warning:
        err.print(result.review_warning)
    for entry in result.pieces:
        out.print(entry.path.name)


YES = frozenset({"", "o", "oui", "y", "yes"})


def _freshen(workspace: Workspace, case: str, attempt_first: bool | None) -> None:
    """Warn when the last attempt is more than 48 hours old, and make one first if asked to."""
    from dossier_builder.freshness import case_staleness

    stale = case_staleness(workspace, case)
    if stale is None:
        return
    err.print(f"Attention : {stale.sentence[0].lower()}{stale.sentence[1:]} Un juge attend des preuves récentes.")
    if attempt_first is None and sys.stdin.isatty():
        answer = ask("Faire une tentative maintenant, avant d'établir le dossier ? [O/n]", "")
        attempt_first = answer.strip().lower() in YES
    if not attempt_first:
        err.print("Le dossier est établi sans nouvelle tentative ; la note de synthèse mentionne l'ancienneté.")
        return
    report_outcome(run_one_capture(workspace, case, CaptureSettings.from_config(workspace.section("capture"))))


def _warn_if_weak(workspace: Workspace, case: str) -> None:
    """What `status` and `letter draft` say of weak evidence, said before the lawyer gets it too."""
    from evidence.case_status import case_status
    from evidence.records import find_case

    with workspace.reading() as session:
        found = find_case(session, case)
    weaknesses = case_status(workspace, found)["warnings"]
    if weaknesses:
        err.print("À vérifier : preuves encore faibles devant un juge : " + " ; ".join(weaknesses))


def print_bundle_report(report: BundleReport, as_json: bool) -> None:
    """How `preuves verify --dossier DIR` shows its result (the caller exits 1 when not ok)."""
    if as_json:
        print_json(report.to_json())
        return
    for problem in report.problems:
        out.print(problem.line())
    verdict = "INTACT" if report.ok else f"{len(report.problems)} PROBLÈME(S)"
    out.print(
        f"{verdict} — dossier {report.directory} : {report.files_checked} fichiers, "
        f"{report.artefacts_checked} fichiers d'origine et {report.entries_checked} entrées du journal vérifiés."
    )


def register(app: typer.Typer) -> None:
    app.command()(dossier)
