"""`preuves anchor`: timestamp the journal with the configured authorities (RFC 3161)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from evidence.localtime import paris_time
from preuves.console import err, out, print_json
from preuves.context import JsonFlag, workspace_of
from preuves.progress import spinner

if TYPE_CHECKING:
    from evidence.anchors import AnchorOutcome


# What became of each authority's request, by status: after `preuves anchor`, and after the anchor
# `preuves dossier` asks for first.
_AFTER_ANCHOR = {
    "anchored": "{authority} : entrées 1 à {tree_size} horodatées le {time} (ancrage n° {anchor_id}, racine {root}).",
    "pending": "{authority} : en attente, {error} ; nouvel essai au prochain « preuves anchor » ou « preuves anchor --retry ».",
    "cancelled": "{authority} : demande abandonnée ({error}).",
    "unchanged": "{authority} : rien de nouveau dans le journal depuis le dernier horodatage.",
}
_BEFORE_DOSSIER = {
    "anchored": "Horodatage : entrées 1 à {tree_size} du journal horodatées par {authority} le {time}.",
    "pending": (
        "Horodatage : {authority} n'a pas répondu ({error}) ; le dossier est construit avec les horodatages déjà "
        "obtenus, la demande sera renouvelée au prochain « preuves anchor »."
    ),
    "cancelled": "Horodatage : demande à {authority} abandonnée ({error}).",
    "unchanged": "Horodatage : le journal était déjà horodaté par {authority}.",
}


def _line(outcome: AnchorOutcome, lines: dict[str, str] = _AFTER_ANCHOR) -> str:
    return lines[outcome.status].format(
        authority=outcome.authority, tree_size=outcome.tree_size, root=outcome.root, anchor_id=outcome.anchor_id,
        error=outcome.error, time=paris_time(outcome.time) if outcome.time else "",
    )


def before_dossier_line(outcome: AnchorOutcome) -> str:
    """How `preuves dossier` tells what became of the anchor it asked for first."""
    return _line(outcome, _BEFORE_DOSSIER)


def anchor(
    ctx: typer.Context,
    retry: Annotated[
        bool, typer.Option("--retry", help="Seulement réessayer les demandes restées en attente.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Faire horodater l'état du journal (RFC 3161).

    Par les autorités configurées.
    Sans réseau, la demande est gardée et réessayée plus tard. Code de sortie 1 si une demande
    reste en attente.
    """
    from evidence.anchors import anchor_now, retry_pending

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
