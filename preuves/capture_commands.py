"""`preuves capture` (one attempt now) and `preuves classify` (a saved page, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capture.settings import CaptureSettings
from capture.states import State
from evidence.blobs import plain_reason
from evidence.errors import BadInput
from evidence.localtime import paris_time
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.progress import spinner

if TYPE_CHECKING:
    from capture.attempt import AttemptOutcome
    from evidence.workspace import Workspace


MAX_PAGE_BYTES = 50 * 1024 * 1024


def capture(
    ctx: typer.Context,
    case: CaseArgument,
    assisted: Annotated[
        bool,
        typer.Option("--assisted", help="Ouvrir une fenêtre : vous résolvez le captcha, l'outil enregistre."),
    ] = False,
) -> None:
    """Faire une tentative maintenant et l'enregistrer comme preuve."""
    from capture.chromium import require_display

    if assisted:
        require_display()
    with workspace_of(ctx) as workspace:
        settings = CaptureSettings.from_config(workspace.section("capture"))
        outcome = run_one_capture(workspace, case, settings, assisted=assisted)
    report_outcome(outcome)
    if outcome.classification.state is State.ERROR:
        raise typer.Exit(1)


def run_one_capture(
    workspace: Workspace, case_reference: str, settings: CaptureSettings, *, assisted: bool = False
) -> AttemptOutcome:
    """One attempt now; an assisted one performs the planned accompanied attempt whose window is open."""
    from capture.accompanied import assisted_capture
    from capture.attempt import capture_target
    from capture.chromium import BrowserService
    from capture.platforms import get_platform
    from capture.watch import WatchSettings
    from evidence.purge import open_case

    with workspace.reading() as session:
        target = open_case(session, case_reference).target
    err.print(f"Tentative sur {target.url} …")
    if not assisted and get_platform(target.platform).captcha_on_every_visit:
        err.print("Un captcha protège cette page à chaque visite : sans --assisted, la tentative s'arrêtera dessus.")
    waiting = "Résolvez le captcha dans la fenêtre ; l'outil enregistre …" if assisted else "Tentative en cours …"
    with BrowserService(settings.chromium_path, headless=not assisted) as browser, spinner(waiting):
        if not assisted:
            return capture_target(workspace, target, browser, settings)
        window = WatchSettings.from_config(workspace.section("watch"), workspace.section("alerts")).accompanied_window
        done = assisted_capture(workspace, target, browser, settings, window)
    if done.planned_id is not None:
        err.print(f"Tentative accompagnée prévue n° {done.planned_id} : faite.")
    return done.outcome


def report_outcome(outcome: AttemptOutcome) -> None:
    capture, found = outcome.capture, outcome.classification
    out.print(
        f"Tentative n° {capture.attempt_no} du {paris_time(capture.started_at)} : "
        f"{found.state.label} — « {found.evidence_text} » (capture {capture.id}, "
        f"{len(capture.artefacts)} fichiers enregistrés)"
    )
    if capture.error:
        err.print(f"Incident : {capture.error}")
    if found.state is State.SLOTS:
        err.print(
            f"Des créneaux sont affichés ! Réservez vous-même, vite : {capture.final_url or capture.url_requested}",
            style="bold",
        )


def classify(
    file: Annotated[Path, typer.Argument(help="Page enregistrée (HTML).", metavar="FICHIER")],
    url: Annotated[str | None, typer.Option("--url", help="Adresse d'origine de la page.")] = None,
    platform: Annotated[str | None, typer.Option(help="Forcer la plateforme.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Dire ce que montre une page enregistrée, sans navigateur."""
    from capture.classify import classify as classify_page

    try:
        if file.stat().st_size > MAX_PAGE_BYTES:
            raise BadInput(f"{file} : fichier trop volumineux pour une page web")
        html = file.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise BadInput(f"{file} : lecture impossible ({plain_reason(exc)})") from exc
    found = classify_page(html, url, platform)
    if as_json:
        print_json({
            "state": found.state.value, "platform": found.platform, "evidence_text": found.evidence_text,
            "block_reference": found.block_reference,
            "next_release": found.next_release.isoformat() if found.next_release else None,
        })
        return
    out.print(f"{found.state.label} ({found.platform}) : « {found.evidence_text} »")
    if found.block_reference:
        out.print(f"Référence de la page de blocage : {found.block_reference}")
    if found.next_release:
        out.print(f"Prochaine mise en ligne annoncée : {paris_time(found.next_release)}")


def register(app: typer.Typer) -> None:
    app.command()(capture)
    app.command()(classify)
