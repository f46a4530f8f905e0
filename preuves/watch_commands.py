"""`preuves plan`, `preuves watch` and `preuves status`."""

from __future__ import annotations

import secrets
import signal
import threading
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from capture.chromium import BrowserService
from capture.plan import build_plan, busy_on_host, save_plan, saved_plan
from capture.scheduler import daily_anchor, serve
from capture.settings import CaptureSettings
from capture.watch import PlanRunner, WatchSettings
from evidence.case_status import case_status
from evidence.localtime import PARIS, paris_time
from evidence.models import Case
from evidence.purge import open_case
from evidence.records import find_case
from evidence.stats import WINDOWS
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, workspace_of
from preuves.parsing import parse_day

WINDOW_LABELS = {name: label for name, label, *_ in WINDOWS}
STATUS_LABELS = {
    "planned": "prévue", "running": "en cours", "done": "faite", "missed": "manquée",
    "failed": "échouée", "cancelled": "annulée",
}
REASON_LABELS = {
    "regular": "tentative régulière",
    "monday_morning": "lundi matin (mise en ligne)",
    "month_release": "1er ou 15 du mois (mise en ligne)",
    "early_evening": "début de soirée (mise en ligne)",
}


def plan(
    ctx: typer.Context,
    case: CaseArgument,
    weeks: Annotated[int, typer.Option(help="Nombre de semaines.")] = 4,
    per_day: Annotated[int, typer.Option("--per-day", help="Tentatives par jour ouvré.")] = 3,
    from_: Annotated[str | None, typer.Option("--from", help="Premier jour (AAAA-MM-JJ).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Afficher le plan enregistré.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Liste JSON des dates prévues.")] = False,
) -> None:
    """Établir (ou afficher) le plan des tentatives de la page du dossier."""
    with workspace_of(ctx) as workspace:
        with workspace.reading() as session:
            target_id = (find_case(session, case) if show else open_case(session, case)).target_id
        if not show:
            settings = CaptureSettings.from_config(workspace.section("capture"))
            first_day = parse_day(from_, "date de début") if from_ else workspace.clock.now().astimezone(PARIS).date()
            times = build_plan(
                first_day, weeks=weeks, per_day=per_day, min_interval=settings.min_interval,
                seed=secrets.randbits(32), busy=busy_on_host(workspace, target_id),
            )
            cancelled = save_plan(workspace, target_id, times)
            if cancelled:
                err.print(f"{cancelled} tentative(s) prévue(s) de l'ancien plan remplacée(s).")
        rows = saved_plan(workspace, target_id)
    if as_json:
        print_json([row.planned_at.astimezone(PARIS).isoformat() for row in rows])
        return
    table = Table("Date et heure (Paris)", "Plage", "Raison", "État")
    for row in rows:
        table.add_row(
            f"{row.planned_at.astimezone(PARIS):%a %d/%m/%Y %H:%M}",
            WINDOW_LABELS.get(row.window, row.window).split(" (")[0],
            REASON_LABELS.get(row.reason, row.reason),
            STATUS_LABELS.get(row.status, row.status),
        )
    out.print(table)
    err.print(f"{len(rows)} tentative(s) au plan.")


def watch(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Faire ce qui est dû maintenant, puis s'arrêter.")] = False,
) -> None:
    """Suivre les plans de tous les dossiers actifs (Ctrl-C pour arrêter proprement)."""
    with workspace_of(ctx) as workspace:
        capture_settings = CaptureSettings.from_config(workspace.section("capture"))
        settings = WatchSettings.from_config(workspace.section("watch"), workspace.section("alerts"))
        if once:
            with BrowserService(capture_settings.chromium_path) as browser:
                runner = PlanRunner(workspace, browser, capture_settings, settings, report=err.print)
                runner.reconcile()
                done = runner.run_due()
            err.print(f"{done} tentative(s) faite(s).")
            # A running watcher's daily anchor, for those who run passes from a timer instead.
            daily_anchor(workspace, err.print)
            return
        with BrowserService(capture_settings.chromium_path) as browser:
            runner = PlanRunner(workspace, browser, capture_settings, settings, report=err.print)
            stop = threading.Event()

            def request_stop(signum: int, _frame: Any) -> None:
                err.print("Arrêt demandé : fin de la tentative en cours…")
                stop.set()

            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
            err.print(f"Surveillance en cours ({len(runner.pending())} tentative(s) prévue(s)). Ctrl-C pour arrêter.")
            serve(runner, stop)
            err.print("Surveillance arrêtée.")


def status(
    ctx: typer.Context,
    as_json: JsonFlag = False,
) -> None:
    """Où en sont les preuves de chaque dossier ?"""
    with workspace_of(ctx, read_only=True) as workspace:
        with workspace.reading() as session:
            cases = list(session.scalars(select(Case).order_by(Case.id)))
        statuses = [case_status(workspace, case) for case in cases]
    if as_json:
        print_json(statuses)
        return
    for s in statuses:
        out.print(f"{s['case']} (n° {s['id']})", style="bold")
        out.print(
            f"  {s['attempts_done']} tentative(s) faite(s), {s['attempts_planned']} prévue(s) ; "
            f"{s['distinct_days']} jour(s), {s['distinct_weeks']} semaine(s), "
            f"plages : {', '.join(WINDOW_LABELS.get(w, 'nuit') for w in s['hour_windows']) or '—'}"
        )
        states = ", ".join(f"{state} : {count}" for state, count in s["per_state"].items()) or "—"
        out.print(f"  États : {states} ; courriers envoyés : {s['letters_sent']}")
        if s["last_attempt"]:
            out.print(f"  Dernière tentative : {paris_time(datetime.fromisoformat(s['last_attempt']))}")
        for warning in s["warnings"]:
            out.print(f"  Preuves encore faibles : {warning}", style="yellow")


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(watch)
    app.command()(status)

