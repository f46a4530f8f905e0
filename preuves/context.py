"""What every command needs: the --home chosen on the root command, and the opened workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from preuves.console import err

if TYPE_CHECKING:
    from evidence.workspace import Workspace


def home_option(ctx: typer.Context) -> Path | None:
    return ctx.find_root().obj


@contextmanager
def workspace_of(ctx: typer.Context, *, read_only: bool = False) -> Iterator[Workspace]:
    """Open the workspace named by --home (migrating an older schema), and close it after.
    A command that only reads passes `read_only`: it then also works on read-only media."""
    from evidence.workspace import open_workspace

    workspace = open_workspace(home_option(ctx), read_only=read_only)
    if workspace.migrated_from:
        err.print(f"Espace de travail mis à jour (schéma {workspace.migrated_from} → actuel).")
    try:
        yield workspace
    finally:
        workspace.close()


# The options every command shares, declared once.
CaseArgument = Annotated[str, typer.Argument(help="Numéro ou nom du dossier.", metavar="DOSSIER")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Résultat en JSON.")]
