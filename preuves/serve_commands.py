"""`preuves serve` (the web dashboard) and `preuves user add|passwd|remove|list` (its accounts)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from contextlib import closing
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from capture.settings import CaptureSettings
from evidence.blobs import plain_reason
from evidence.errors import BadInput
from evidence.localtime import paris_time
from preuves.console import err, out
from preuves.context import workspace_of

if TYPE_CHECKING:
    from capture.watch import PlanRunner
    from preuves.watcher import Watcher


app = typer.Typer(help="Comptes du tableau de bord web (une organisation par compte).")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute ; autre que 127.0.0.1 : comptes obligatoires.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port d'écoute.")] = 8000,
    no_watch: Annotated[
        bool,
        typer.Option("--no-watch", help="Ne pas suivre les plans ici (des « preuves watch » séparés s'en chargent)."),
    ] = False,
) -> None:
    """Ouvrir le tableau de bord web et suivre les plans.

    Sur cet espace de travail ; avec --no-watch, le tableau de bord seul."""
    from capture.chromium import BrowserService
    from capture.watch import PlanRunner, WatchSettings
    from evidence.accounts import has_accounts
    from preuves.web.app import create_app
    from preuves.web.security import is_loopback
    from preuves.web.server import exposure_warning, make_server

    with workspace_of(ctx) as workspace:
        accounts = has_accounts(workspace)
        if not accounts and not is_loopback(host):
            raise BadInput(
                f"écoute sur {host} refusée sans comptes : créez-en un d'abord (« preuves user add NOM --organisation ORG »)"
            )
        capture_settings = CaptureSettings.from_config(workspace.section("capture"))
        watch_settings = WatchSettings.from_config(workspace.section("watch"), workspace.section("alerts"))
        with BrowserService(capture_settings.chromium_path) as browser:
            web = create_app(workspace, accounts=accounts, settings=capture_settings, browser=browser)
            # Warnings and errors only: the libraries' progress notes (APScheduler's jobs, WeasyPrint's
            # steps of every PDF), in English, buried the tool's own lines in the person's terminal.
            logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
            # « Task queue depth is 1 »: requests waiting for a thread, as a case page's thumbnails make; no fault.
            logging.getLogger("waitress.queue").setLevel(logging.ERROR)
            try:
                server = make_server(web, host, port)
            except OSError as exc:
                raise BadInput(f"impossible d'écouter sur {host}:{port} ({plain_reason(exc)})") from exc
            if warning := exposure_warning(host, accounts, web.extensions["preuves"].web_settings):
                err.print(warning)
            url = f"http://{_url_host(host)}:{server.effective_port}"
            mode = "avec comptes (connexion obligatoire)" if accounts else "local, sans comptes"
            err.print(f"Tableau de bord {mode} : {url}/  (Ctrl-C pour arrêter)")
            signal.signal(signal.SIGTERM, _interrupt)  # a service manager stops it as Ctrl-C does
            watcher = None
            try:
                if not no_watch:
                    watcher = _start_watcher(PlanRunner(
                        workspace, browser, capture_settings,
                        replace(watch_settings, dashboard_url=watch_settings.dashboard_url or url), report=err.print,
                    ))
                server.run()  # returns on Ctrl-C (waitress catches KeyboardInterrupt itself)
            finally:
                server.close()
                with closing(web.extensions["preuves"]):
                    if watcher is not None:
                        _finish_watching(watcher)
        err.print("Tableau de bord arrêté.")


def _start_watcher(runner: PlanRunner) -> Watcher:
    """The plans followed in this process, beside the dashboard (the same work as `preuves watch`)."""
    from preuves.watcher import Watcher

    watcher = Watcher(runner, threading.Event(), say_failure=True)
    err.print(f"Surveillance des plans dans ce processus ({len(runner.pending())} tentative(s) prévue(s)).")
    return watcher


def _finish_watching(watcher: Watcher) -> None:
    """Let the attempt in progress finish and be recorded: as in `preuves watch`, another Ctrl-C or
    SIGTERM meanwhile only says so again (it used to end the process under the attempt)."""

    def say_stopping(_signum: int, _frame: object) -> None:
        err.print("Arrêt de la surveillance : fin de la tentative en cours…")

    signal.signal(signal.SIGTERM, say_stopping)
    signal.signal(signal.SIGINT, say_stopping)
    say_stopping(signal.SIGTERM, None)
    watcher.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard (scripts).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Identifiant de connexion.", metavar="IDENTIFIANT")],
    organisation: Annotated[str, typer.Option("--organisation", help="Organisation (association, cabinet …) ; créée si nouvelle.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Créer un compte ; ses dossiers seront ceux de son organisation."""
    from evidence.accounts import add_user

    password = _read_password(password_stdin)
    with workspace_of(ctx) as workspace:
        user = add_user(workspace, username, password, organisation)
    err.print(f"Compte « {user.username} » créé dans l'organisation « {organisation.strip()} ».")


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Identifiant du compte.", metavar="IDENTIFIANT")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Changer le mot de passe d'un compte.

    Ses sessions ouvertes sont fermées."""
    from evidence.accounts import change_password

    password = _read_password(password_stdin)
    with workspace_of(ctx) as workspace:
        change_password(workspace, username, password)
    err.print(f"Mot de passe de « {username} » changé ; ses sessions ouvertes sont fermées.")


@app.command("remove")
def remove(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Identifiant du compte.", metavar="IDENTIFIANT")],
) -> None:
    """Supprimer un compte.

    Ses sessions sont fermées ; les dossiers de son organisation restent."""
    from evidence.accounts import remove_user

    with workspace_of(ctx) as workspace:
        remove_user(workspace, username)
    err.print(f"Compte « {username} » supprimé ; ses sessions sont fermées.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Mot de passe", hide_input=True, prompt_suffix=" : ", err=True)
    if typer.prompt("Le même, pour confirmer", hide_input=True, prompt_suffix=" : ", err=True) != first:
        raise BadInput("les deux mots de passe tapés diffèrent : rien n'a été changé")
    return first


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """Lister les comptes et leur organisation."""
    from sqlalchemy import select

    from evidence.account_models import Organisation, User

    with workspace_of(ctx) as workspace, workspace.reading() as session:
        rows = session.execute(
            select(User.username, Organisation.name, User.created_at).join(Organisation).order_by(User.username)
        ).all()
    if not rows:
        err.print("Aucun compte : le tableau de bord ne répond qu'en local (127.0.0.1), sans connexion.")
        return
    table = Table("Identifiant", "Organisation", "Créé le")
    for username, organisation, created_at in rows:
        table.add_row(username, organisation, paris_time(created_at))
    out.print(table)


def register(root: typer.Typer) -> None:
    root.command()(serve)
