"""`preuves demo`: registered apart from `preuves.demo`, which loads the browser, the simulated site and the
PDF code that only the demo itself needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from preuves.console import out


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("demo-output"),
) -> None:
    """Démonstration complète contre un site de préfecture simulé en local."""
    from preuves.demo import run_demo

    for dossier in run_demo(out_dir):
        out.print(str(dossier))


def register(app: typer.Typer) -> None:
    app.command()(demo)
