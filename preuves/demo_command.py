"""`preuves demo`: registered apart from `preuves.demo`, which loads the browser, the simulated site and the
PDF code that only the demo itself needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from preuves.console import out
from preuves.context import home_option


def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("demo-output"),
) -> None:
    """Démonstration complète contre une préfecture simulée.

    Le site simulé tourne en local. Son espace de travail est créé dans le dossier de sortie, ou dans
    celui que nomme --home (neuf ou vide)."""
    from preuves.demo import run_demo

    # Only a --home typed for this run: PREUVES_HOME names the user's own workspace, never a demo's.
    typed = ctx.find_root().get_parameter_source("home")
    home = home_option(ctx) if typed is not None and typed.name == "COMMANDLINE" else None
    for dossier in run_demo(out_dir, home):
        out.print(str(dossier))


def register(app: typer.Typer) -> None:
    app.command()(demo)
