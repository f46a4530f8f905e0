"""`preuves letter add|proof|list|draft`: the correspondence with the prefecture."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from dossier_builder.draft_kinds import DRAFT_KINDS
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day
from preuves.progress import spinner

if TYPE_CHECKING:
    from evidence.letters import LetterSummary


app = typer.Typer(help="Courriers échangés avec la préfecture.\n\nLes enregistrer, les lister, les rédiger.")


@app.command("add")
def add(
    ctx: typer.Context,
    case: CaseArgument,
    file: Annotated[Path, typer.Option("--file", help="Le courrier : PDF, image scannée (PNG, JPEG) ou courriel .eml.")],
    direction: Annotated[str, typer.Option("--direction", help="sent (envoyé) ou received (reçu).")],
    channel: Annotated[str, typer.Option("--channel", help="email, lrar, courrier, depot ou telephone.")],
    day: Annotated[
        str | None,
        typer.Option("--date", help="Date du courrier (AAAA-MM-JJ ou JJ/MM/AAAA) ; lue dans l'en-tête d'un .eml."),
    ] = None,
    tracking: Annotated[str | None, typer.Option("--tracking", help="Numéro de suivi (recommandé).")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Objet (sinon celui du courriel).")] = None,
    proof: Annotated[
        list[Path] | None,
        typer.Option(
            "--proof", metavar="<chemin>", help="Preuve jointe : accusé de réception, avis de réception … (répétable)."
        ),
    ] = None,
    answers: Annotated[int | None, typer.Option("--answers", help="Numéro du courrier auquel celui-ci répond.")] = None,
    received_on: Annotated[
        str | None,
        typer.Option("--received-on", help="Date à laquelle la préfecture l'a reçu (avis de réception)."),
    ] = None,
    receipt: Annotated[
        list[Path] | None,
        typer.Option("--receipt", metavar="<chemin>", help="L'avis de réception (avec --received-on)."),
    ] = None,
) -> None:
    """Enregistrer un courrier envoyé ou reçu.

    Avec ses preuves d'envoi et de réception.
    Un courrier envoyé qui contient encore un blanc « [à compléter …] » d'un brouillon est refusé.
    """
    from evidence.letters import CHANNELS, DIRECTIONS, LetterInput, record_letter

    request = LetterInput(
        file=file,
        direction=direction,
        channel=channel,
        letter_date=parse_day(day, "date du courrier") if day is not None else None,
        tracking=tracking,
        subject=subject,
        proofs=tuple(proof or ()),
        answers=answers,
        received_on=parse_day(received_on, "date de réception") if received_on is not None else None,
        receipts=tuple(receipt or ()),
    )
    with workspace_of(ctx) as workspace:
        letter = record_letter(workspace, case, request)
    err.print(
        f"Courrier n° {letter.id} du {letter.letter_date:%d/%m/%Y} enregistré "
        f"({DIRECTIONS[letter.direction]}, {CHANNELS[letter.channel]}, {len(letter.artefacts)} fichier(s))."
    )
    out.print(str(letter.id))


@app.command("proof")
def proof(
    ctx: typer.Context,
    case: CaseArgument,
    letter: Annotated[int, typer.Argument(help="Numéro du courrier.", metavar="COURRIER")],
    files: Annotated[
        list[Path] | None, typer.Argument(help="Preuves : preuve de dépôt, avis de réception …", metavar="FICHIERS")
    ] = None,
    received_on: Annotated[
        str | None,
        typer.Option(
            "--received-on",
            help="Date de réception par la préfecture : les fichiers donnés sont alors l'avis de réception.",
        ),
    ] = None,
) -> None:
    """Joindre une preuve reçue plus tard à un courrier.

    Ou la date à laquelle la préfecture l'a reçu, avec son avis de réception."""
    from evidence.letters import add_proofs, record_receipt

    paths = files or []
    with workspace_of(ctx) as workspace:
        if received_on is None:
            add_proofs(workspace, case, letter, paths)
        else:
            event = record_receipt(workspace, case, letter, parse_day(received_on, "date de réception"), paths)
            err.print(f"Courrier n° {letter} : reçu par la préfecture le {event.event_date:%d/%m/%Y}.")
    if paths:
        err.print(f"{len(paths)} preuve(s) jointe(s) au courrier n° {letter}.")


def _answer_text(summary: LetterSummary) -> str:
    if summary.answered_by:
        return "réponse : n° " + ", ".join(str(n) for n in summary.answered_by)
    if summary.silence_since:
        return f"SILENCE depuis le {summary.silence_since:%d/%m/%Y}"
    if summary.answers_id:
        return f"répond au n° {summary.answers_id}"
    return "—"


@app.command("list")
def list_letters(
    ctx: typer.Context,
    case: CaseArgument,
    as_json: JsonFlag = False,
) -> None:
    """Lister les courriers d'un dossier.

    Ceux restés sans réponse deux mois sont signalés."""
    from evidence.letters import DIRECTIONS, PROOF_KIND, RECEIPT_KIND, letter_summaries, paris_today
    from evidence.records import find_case

    with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
        summaries = letter_summaries(session, find_case(session, case), paris_today(workspace))
    if as_json:
        print_json([summary.to_json() for summary in summaries])
        return
    if not summaries:
        err.print("Aucun courrier. Enregistrez-en un avec « preuves letter add DOSSIER --file … ».")
        return
    # Dates and tracking numbers are never cut, even at 80 columns: the subject wraps instead.
    table = Table(
        Column("N°", no_wrap=True), Column("Date", no_wrap=True), "Sens", "Objet",
        Column("Suivi", no_wrap=True), "Preuves", Column("Réponse", min_width=7),
    )
    for s in summaries:
        proofs = sum(1 for f in s.files if f.kind in (PROOF_KIND, RECEIPT_KIND))
        received = f"\nreçu le {s.received_on:%d/%m/%Y}" if s.received_on else ""
        table.add_row(
            str(s.id), f"{s.letter_date:%d/%m/%Y}{received}", f"{DIRECTIONS[s.direction]}\n{s.channel}",
            s.subject or "—", s.tracking or "—", str(proofs), _answer_text(s),
        )
    out.print(table)
    for s in summaries:
        if s.silence_since:
            received = f", reçu le {s.received_on:%d/%m/%Y}" if s.received_on else ""
            err.print(
                f"Courrier n° {s.id} du {s.letter_date:%d/%m/%Y}{received} : sans réponse depuis plus de deux mois "
                f"(silence gardé par l'administration depuis le {s.silence_since:%d/%m/%Y})."
            )


@app.command("draft")
def draft(
    ctx: typer.Context,
    case: CaseArgument,
    kind: Annotated[str, typer.Option("--kind", help=" ou ".join(DRAFT_KINDS) + ".")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Fichier PDF à écrire.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Remplacer le fichier s'il existe déjà.")] = False,
    counsel: Annotated[
        str | None, typer.Option("--counsel", help="Requête : nom de l'avocat qui représente le demandeur.")
    ] = None,
    bar: Annotated[str | None, typer.Option("--bar", help="Requête : barreau de l'avocat (Val-d'Oise, Paris …).")] = None,
    legal_aid: Annotated[
        bool,
        typer.Option(
            "--aide-juridictionnelle", help="Requête : demander l'aide juridictionnelle provisoire (loi du 10 juillet 1991, art. 20)."
        ),
    ] = False,
    costs: Annotated[
        int | None, typer.Option("--frais", help="Requête : somme demandée au titre de l'article L. 761-1 CJA (euros).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rédiger un courrier prêt à signer, ou la requête en référé.

    À partir du dossier.
    Ce que seule une personne peut fournir reste un blanc visible « [à compléter : …] » ; les
    dernières lignes les listent, avec la façon de les remplir.
    """
    from dossier_builder.drafts import parse_options, write_draft

    options = parse_options(counsel, bar, legal_aid, costs, kind)
    with workspace_of(ctx) as workspace, spinner("Rédaction du PDF …"):
        written = write_draft(workspace, case, kind, out_file, options, replace=replace)
    if as_json:
        print_json(written.to_json())
        return
    for warning in written.warnings:
        err.print(f"À vérifier : {warning}")
    err.print(f"{DRAFT_KINDS[kind]} : PDF écrit dans {written.path}")
    if written.blanks:
        err.print(f"Blancs à compléter avant l'envoi ou le dépôt ({len(written.blanks)}) :")
        for blank in written.blanks:
            err.print(f"  - {blank.what} : {blank.how}")
    else:
        err.print("Aucun blanc : relisez le document, puis signez-le.")
    out.print(str(written.path))
