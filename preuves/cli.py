"""The one error boundary of the command line (`preuves.entry` loads it and calls `run`).

Exit codes: 0 ok, 1 a check or an attempt failed, 2 bad input or usage, 130 interrupted (Ctrl-C).
Every error is one French line on stderr; a traceback is shown only with PREUVES_DEBUG=1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
import typer.main
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from evidence.blobs import plain_reason
from evidence.errors import BadInput, PreuvesError
from evidence.names import HOME_ENV
from preuves import (
    anchor_commands,
    applicant_commands,
    capture_commands,
    case_commands,
    cli_french,
    demo_command,
    dossier_commands,
    event_commands,
    interrupts,
    letter_commands,
    piece_commands,
    serve_commands,
    watch_commands,
    workspace_commands,
)
from preuves.console import err, out

cli_french.install()
app = typer.Typer(
    name="preuves",
    help="Preuves RDV : prouver l'impossibilité d'obtenir un rendez-vous en préfecture.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option(
            "--home",
            envvar=HOME_ENV,
            metavar="<chemin>",
            help="Dossier de l'espace de travail (par défaut : le dossier de données de l'utilisateur).",
        ),
    ] = None,
) -> None:
    if home is not None and not home.strip():  # Path("") would be the current folder
        raise BadInput("--home vide : donnez le chemin du dossier de l'espace de travail")
    ctx.obj = None if home is None else Path(home)


workspace_commands.register(app)
capture_commands.register(app)
watch_commands.register(app)
dossier_commands.register(app)
anchor_commands.register(app)
serve_commands.register(app)
demo_command.register(app)
app.add_typer(case_commands.app, name="case")
app.add_typer(letter_commands.app, name="letter")
app.add_typer(event_commands.app, name="event")
app.add_typer(applicant_commands.app, name="applicant")
app.add_typer(piece_commands.app, name="piece")
app.add_typer(serve_commands.app, name="user")


def run(argv: list[str]) -> int:
    """Run one command; return its exit code instead of exiting (tests call this)."""
    os.umask(0o077)
    with interrupts.remembered():
        try:
            return _run(argv)
        except KeyboardInterrupt:  # Ctrl-C outside Typer's own handling (the error lines below …)
            err.print("Interrompu.")
            return 130


def global_options_first(argv: list[str]) -> list[str]:
    """`preuves init --home DIR` works as `preuves --home DIR init` does: people (and our own hints)
    write the workspace after the command. Only `--home`, the one global option, is moved."""
    front: list[str] = []
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest += [arg, *args]
        elif arg == "--home":
            value = next(args, None)
            if value is None:
                raise BadInput("l'option --home attend une valeur")
            front += [arg, value]
        elif arg.startswith("--home="):
            front.append(arg)
        else:
            rest.append(arg)
    return front + rest


def _run(argv: list[str]) -> int:
    try:
        code = typer.main.get_command(app).main(
            args=global_options_first(argv), prog_name="preuves", standalone_mode=False
        )
    except UsageError as exc:
        if exc.ctx is not None and (isinstance(exc, NoArgsIsHelpError) or exc.format_message() == "Missing command."):
            out.print(exc.ctx.get_help())  # `preuves` or `preuves case` alone: the help, as --help gives it
            return 0
        err.print(cli_french.usage_error(exc))
        return exc.exit_code
    except typer.Abort:
        err.print("Interrompu.")
        return 130
    except PreuvesError as exc:
        err.print(f"Erreur : {exc}")
        return exc.exit_code
    except OSError as exc:
        if os.environ.get("PREUVES_DEBUG"):
            raise
        err.print(f"Erreur d'accès au fichier {exc.filename or ''} : {plain_reason(exc)}")
        return 1
    except Exception as exc:
        if not _from_database(exc) or os.environ.get("PREUVES_DEBUG"):
            raise
        from evidence.integrity import damage_reason, says_damaged

        hint = " : « preuves verify » le confirme, « preuves repair » la reconstruit" if says_damaged(exc) else ""
        err.print(f"Erreur de base de données : {damage_reason(exc)}{hint}")
        return 1
    if code == 130:  # Typer turns Ctrl-C into exit code 130
        err.print("Interrompu.")
    return code if isinstance(code, int) else 0



def _from_database(exc: Exception) -> bool:
    """Whether SQLAlchemy raised `exc`. Only the commands that open a workspace import SQLAlchemy, so an error
    can come from it only once it is loaded; `preuves --help` then never pays for its import."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError)
