"""`preuves event add|list`: phone calls, visits to the counter, referrals to the Défenseur des droits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evidence.names import EVENT_KINDS
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day


app = typer.Typer(help="Démarches autres que les courriers.\n\nAppel, passage au guichet, Défenseur des droits.")


@app.command("add")
def add(
    ctx: typer.Context,
    case: CaseArgument,
    kind: Annotated[str, typer.Option("--kind", help=" ou ".join(EVENT_KINDS) + ".")],
    day: Annotated[str, typer.Option("--date", help="Date de la démarche (AAAA-MM-JJ ou JJ/MM/AAAA).")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="Ce qui a été répondu ou constaté (« aucune réponse après 40 minutes » …).")
    ],
    proof: Annotated[
        list[Path] | None,
        typer.Option("--proof", metavar="<chemin>", help="Preuve : relevé d'appels, ticket, accusé de saisine … (répétable)."),
    ] = None,
) -> None:
    """Enregistrer une démarche.

    Appel à la préfecture, passage au guichet, saisine du Défenseur des droits."""
    from evidence.events import EventInput, record_event

    request = EventInput(kind, parse_day(day, "date de la démarche"), outcome, tuple(proof or ()))
    with workspace_of(ctx) as workspace:
        event = record_event(workspace, case, request)
    err.print(
        f"Démarche n° {event.id} du {event.event_date:%d/%m/%Y} enregistrée "
        f"({EVENT_KINDS[event.kind]}, {len(event.artefacts)} preuve(s))."
    )
    out.print(str(event.id))


@app.command("list")
def list_events(ctx: typer.Context, case: CaseArgument, as_json: JsonFlag = False) -> None:
    """Lister les démarches d'un dossier.

    Et les dates de réception de ses courriers."""
    from evidence.events import event_summaries
    from evidence.records import find_case

    with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
        events = event_summaries(session, find_case(session, case))
    if as_json:
        print_json([event.to_json() for event in events])
        return
    if not events:
        err.print("Aucune démarche. Enregistrez-en une avec « preuves event add DOSSIER --kind … ».")
        return
    table = Table("N°", "Date", "Démarche", "Résultat", "Preuves")
    for event in events:
        what = f"{event.label} (courrier n° {event.letter_id})" if event.letter_id else event.label
        table.add_row(str(event.id), f"{event.event_date:%d/%m/%Y}", what, event.outcome or "—", str(len(event.files)))
    out.print(table)
