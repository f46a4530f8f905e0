"""`preuves demo`: the whole job end to end against the local simulated prefecture site.

The demo workspace is created as a demo (recorded in its journal), so it may run on a simulated
clock and everything made from it is watermarked « DÉMONSTRATION — données simulées ».
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capture.attempt import capture_target
from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace
from preuves.console import err, out
from simsite.server import SimulatedSite


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("demo-output"),
) -> None:
    """Démonstration complète contre un site de préfecture simulé en local."""
    out_dir = out_dir.resolve()
    workspace, _ = init_workspace(out_dir / "espace-demo", demo=True)
    settings = CaptureSettings()
    with SimulatedSite(mode="noslot") as site, BrowserService() as browser:
        case, _ = add_case(
            workspace,
            "Démonstration",
            TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162", "Val-d'Oise (simulée)"),
        )
        with workspace.reading() as session:
            from evidence.models import Target

            target = session.get(Target, case.target_id)
        outcome = capture_target(workspace, target, browser, settings)
        err.print(f"Tentative : {outcome.classification.state.label}")
    report = verify_workspace(workspace)
    err.print(f"Vérification : {'intact' if report.ok else 'PROBLÈMES'} — tête n° {report.head.seq}")
    workspace.close()
    out.print(str(out_dir))


def register(app: typer.Typer) -> None:
    app.command()(demo)
