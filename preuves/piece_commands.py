"""`preuves piece add|list|remove`: the applicant's own pièces (titre de séjour, identity, address …)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evidence.names import PIECE_KINDS
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day


app = typer.Typer(
    help="Pièces du demandeur, placées en tête du dossier.\n\nTitre de séjour, identité, domicile, situation."
)


@app.command("add")
def add(
    ctx: typer.Context,
    case: CaseArgument,
    file: Annotated[Path, typer.Option("--file", help="Le document : PDF ou image (PNG, JPEG).")],
    kind: Annotated[str, typer.Option("--kind", help=", ".join(PIECE_KINDS) + ".")],
    label: Annotated[
        str, typer.Option("--label", help="Intitulé de la pièce, tel que l'inventaire et le nom du fichier le donneront.")
    ],
    day: Annotated[
        str | None,
        typer.Option("--date", help="Date du document (délivrance, facture, attestation), AAAA-MM-JJ ou JJ/MM/AAAA."),
    ] = None,
) -> None:
    """Joindre au dossier un document du demandeur.

    Une pièce par document."""
    from evidence.applicant_pieces import PieceInput, kind_label, record_piece

    request = PieceInput(
        file=file, kind=kind, label=label, piece_date=parse_day(day, "date du document") if day is not None else None
    )
    with workspace_of(ctx) as workspace:
        piece = record_piece(workspace, case, request)
    err.print(f"Pièce du demandeur n° {piece.id} enregistrée : {kind_label(piece.kind)}, « {piece.label} ».")
    out.print(str(piece.id))


@app.command("list")
def list_pieces(ctx: typer.Context, case: CaseArgument, as_json: JsonFlag = False) -> None:
    """Lister les pièces du demandeur, retirées comprises."""
    from evidence.applicant_pieces import kind_label, piece_summaries
    from evidence.records import find_case

    with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
        summaries = piece_summaries(session, find_case(session, case))
    if as_json:
        print_json([summary.to_json() for summary in summaries])
        return
    if not summaries:
        err.print("Aucune pièce du demandeur. Ajoutez-en une avec « preuves piece add DOSSIER --file … ».")
        return
    table = Table("N°", "Nature", "Intitulé", "Date", "Fichier", "SHA-256", "État")
    for s in summaries:
        table.add_row(
            str(s.id), kind_label(s.kind), s.label, f"{s.piece_date:%d/%m/%Y}" if s.piece_date else "—",
            s.filename or "—", s.sha256[:12],
            f"retirée le {s.withdrawn.day:%d/%m/%Y}" if s.withdrawn else "dans le dossier",
        )
    out.print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    case: CaseArgument,
    piece: Annotated[int, typer.Argument(help="Numéro de la pièce (voir « preuves piece list »).", metavar="PIÈCE")],
    reason: Annotated[str | None, typer.Option("--reason", help="Pourquoi la pièce est retirée.")] = None,
) -> None:
    """Retirer une pièce du dossier.

    Une correction est inscrite au journal ; le fichier reste conservé."""
    from evidence.applicant_pieces import withdraw_piece

    with workspace_of(ctx) as workspace:
        withdrawal = withdraw_piece(workspace, case, piece, reason)
    err.print(
        f"Pièce n° {piece} retirée du dossier (entrée n° {withdrawal.seq} du journal) ; "
        "son fichier reste conservé dans le dépôt de preuves."
    )
