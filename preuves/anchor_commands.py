"""`preuves anchor`: timestamp the journal with the configured authorities (RFC 3161)."""

from __future__ import annotations

from typing import Annotated

import typer

from evidence.anchors import AnchorOutcome, anchor_now, retry_pending
from evidence.localtime import paris_time
from preuves.console import err, out, print_json
from preuves.context import JsonFlag, workspace_of
from preuves.progress import spinner


def _line(outcome: AnchorOutcome) -> str:
    if outcome.status == "anchored" and outcome.time is not None:
        return (
            f"{outcome.authority} : entrées 1 à {outcome.tree_size} horodatées le "
            f"{paris_time(outcome.time)} (ancrage n° {outcome.anchor_id}, racine {outcome.root})."
        )
    if outcome.status == "pending":
        return (
            f"{outcome.authority} : en attente, {outcome.error} ; nouvel essai au prochain "
            "« preuves anchor » ou « preuves anchor --retry »."
        )
    if outcome.status == "cancelled":
        return f"{outcome.authority} : demande abandonnée ({outcome.error})."
    return f"{outcome.authority} : rien de nouveau dans le journal depuis le dernier horodatage."


def anchor(
    ctx: typer.Context,
    retry: Annotated[
        bool, typer.Option("--retry", help="Seulement réessayer les demandes restées en attente.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Faire horodater l'état du journal par les autorités configurées (RFC 3161).

    Sans réseau, la demande est gardée et réessayée plus tard. Code de sortie 1 si une demande
    reste en attente.
    """
    with workspace_of(ctx) as workspace, spinner("Demande d'horodatage aux autorités …"):
        outcomes = retry_pending(workspace) if retry else anchor_now(workspace)
    if as_json:
        print_json([outcome.to_json() for outcome in outcomes])
    elif not outcomes:
        err.print("Aucune demande d'horodatage en attente.")
    else:
        for outcome in outcomes:
            out.print(_line(outcome))
    if any(outcome.status == "pending" for outcome in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("anchor")(anchor)
