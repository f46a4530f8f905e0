"""`preuves plan`, `preuves watch` and `preuves status`."""

from __future__ import annotations

import secrets
import signal
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from capture.settings import CaptureSettings
from capture.states import State
from evidence.errors import BadInput
from evidence.localtime import PARIS, paris_time
from preuves.console import err, out, print_json
from preuves.context import CaseArgument, JsonFlag, home_option, workspace_of
from preuves.parsing import parse_day

if TYPE_CHECKING:
    from capture.watch import Due, PlanRunner
    from evidence.workspace import Workspace


def plan(
    ctx: typer.Context,
    case: CaseArgument,
    new: Annotated[bool, typer.Option("--new", help="Établir un plan (refusé si un plan est en cours).")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Remplacer le plan en cours par un nouveau.")] = False,
    weeks: Annotated[int | None, typer.Option(help="Nombre de semaines (4 par défaut).")] = None,
    per_day: Annotated[
        int | None, typer.Option("--per-day", help="Tentatives par jour ouvré, mises en ligne comprises (3 par défaut).")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Premier jour (AAAA-MM-JJ), aujourd'hui au plus tôt.")] = None,
    accompanied: Annotated[
        bool | None,
        typer.Option(
            "--accompanied/--unattended",
            help="Tentatives accompagnées (vous résolvez un captcha) ou automatiques ; par défaut, selon la plateforme.",
        ),
    ] = None,
    hours: Annotated[
        str | None,
        typer.Option(
            "--hours", help="Heures où vous pouvez être là, par exemple 9-18 (8-21 par défaut ; au-delà : la nuit aussi)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Liste JSON des dates prévues.")] = False,
) -> None:
    """Afficher le plan des tentatives de la page du dossier.

    --new ou --replace pour l'établir."""
    from capture.plan import DAY_HOURS, parse_hours, plan_target, saved_plan
    from evidence.purge import open_case
    from evidence.records import find_case
    from preuves.plan_text import MODE_LABELS, REASON_LABELS, STATUS_LABELS, french_moment, plan_summary, window_label

    making = new or replace
    if not making and (weeks, per_day, from_, accompanied, hours) != (None, None, None, None, None):
        raise BadInput("pour établir un plan, ajoutez --new (ou --replace pour remplacer le plan en cours)")
    with workspace_of(ctx) as workspace:
        with workspace.reading() as session:
            found = open_case(session, case) if making else find_case(session, case)
            target_id, case_id = found.target_id, found.id
        if making:
            settings = CaptureSettings.from_config(workspace.section("capture"))
            result = plan_target(
                workspace, target_id,
                first_day=parse_day(from_, "date de début") if from_ else None,
                weeks=4 if weeks is None else weeks, per_day=3 if per_day is None else per_day,
                mode=None if accompanied is None else ("accompanied" if accompanied else "unattended"),
                min_interval=settings.min_interval, seed=secrets.randbits(32), replace=replace,
                hours=parse_hours(hours) if hours else DAY_HOURS,
            )
            for line in plan_summary(result, str(case_id)):
                err.print(line)
        rows = saved_plan(workspace, target_id)
    if as_json:
        print_json([row.planned_at.astimezone(PARIS).isoformat() for row in rows])
        return
    if not rows:
        err.print(f"Aucun plan pour ce dossier : établissez-le avec « preuves plan {case_id} --new ».")
        return
    table = Table("Date et heure (Paris)", "Plage", "Raison", "Tentative", "État")
    for row in rows:
        table.add_row(
            french_moment(row.planned_at),
            window_label(row.window),
            REASON_LABELS.get(row.reason, row.reason),
            MODE_LABELS.get(row.mode, row.mode),
            STATUS_LABELS.get(row.status, row.status),
        )
    out.print(table)
    err.print(f"{len(rows)} tentative(s) au plan.")


def watch(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Faire ce qui est dû maintenant, puis s'arrêter.")] = False,
) -> None:
    """Suivre les plans de tous les dossiers actifs.

    Ctrl-C pour arrêter proprement."""
    from concurrent.futures import ThreadPoolExecutor

    from capture.chromium import BrowserService
    from capture.scheduler import daily_anchor
    from capture.watch import PlanRunner, WatchSettings
    from preuves.watcher import Watcher

    with workspace_of(ctx) as workspace:
        capture_settings = CaptureSettings.from_config(workspace.section("capture"))
        settings = WatchSettings.from_config(workspace.section("watch"), workspace.section("alerts"))
        if once:
            with BrowserService(capture_settings.chromium_path) as browser:
                runner = PlanRunner(workspace, browser, capture_settings, settings, report=err.print)
                _stop_on_signals(runner.stopping)
                with ThreadPoolExecutor(1, thread_name_prefix="preuves-watch-once") as pool:
                    done, upcoming = pool.submit(_one_pass, runner).result()
            err.print(f"{done} tentative(s) faite(s).")
            if runner.stopping.is_set():
                err.print("Passage arrêté : les tentatives qui n'ont pas été faites restent au plan.")
                return
            err.print(_next_due_line(workspace, upcoming))
            # A running watcher's daily anchor, for those who run passes from a timer instead.
            daily_anchor(workspace, err.print)
            return
        with BrowserService(capture_settings.chromium_path) as browser:
            runner = PlanRunner(workspace, browser, capture_settings, settings, report=err.print)
            stop = threading.Event()
            _stop_on_signals(stop)
            err.print(f"Surveillance en cours ({len(runner.pending())} tentative(s) prévue(s)). Ctrl-C pour arrêter.")
            Watcher(runner, stop).wait()
            err.print("Surveillance arrêtée.")


def _one_pass(runner: PlanRunner) -> tuple[int, Due | None]:
    """`watch --once`'s work: what is due now, then the next attempt. Run outside the main thread, as the
    watcher's passes are (preuves/watcher.py), so that a signal is heard at once."""
    runner.reconcile()
    return runner.run_due(), runner.next_due()


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (a service manager, a timer's stop) and Ctrl-C let the attempt in progress end and be recorded,
    then the command stops: no attempt is cut short, none is started after."""

    def request_stop(signum: int, _frame: Any) -> None:
        err.print("Arrêt demandé : fin de la tentative en cours…")
        # Safe in a handler: the main thread only waits for the thread doing the work, never holds `stop`'s lock.
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def _next_due_line(workspace: Workspace, due: Due | None) -> str:
    from sqlalchemy import select

    from evidence.models import Case, PlannedAttempt
    from preuves.plan_text import french_moment

    if due is None:
        return "Aucune tentative prévue : établissez un plan avec « preuves plan DOSSIER --new »."
    with workspace.reading() as session:
        target_id = session.scalar(select(PlannedAttempt.target_id).where(PlannedAttempt.id == due.id))
        labels = list(session.scalars(select(Case.label).where(Case.target_id == target_id, Case.active.is_(True))))
    kind = "accompagnée, captcha à résoudre" if due.mode == "accompanied" else "automatique"
    return f"Prochaine tentative : {french_moment(due.planned_at)} ({kind} ; {', '.join(labels)})."


def status(
    ctx: typer.Context,
    as_json: JsonFlag = False,
) -> None:
    """Où en sont les preuves de chaque dossier ?"""
    from evidence.case_status import all_statuses, purged_sentence
    from evidence.quick_read import read_quickly
    from preuves.plan_text import WINDOW_LABELS, french_moment

    now = datetime.now(UTC)
    statuses = read_quickly(home_option(ctx), lambda reader, keys: all_statuses(reader, keys, now))
    if statuses is None:  # not a plain SQLite workspace at the newest schema: the ordinary opening deals with it
        from evidence.plain_sql import session_reader

        with workspace_of(ctx, read_only=True) as workspace, workspace.reading() as session:
            statuses = all_statuses(session_reader(session), workspace.keys, workspace.clock.now())
    if as_json:
        print_json(statuses)
        return
    if not statuses:
        err.print("Aucun dossier. Créez-en un avec « preuves case add NOM --url … ».")
    for s in statuses:
        out.print(f"{s['label']} (n° {s['id']})", style="bold")
        if s["purged"]:
            out.print(f"  {purged_sentence(s['purged'])}")
            continue
        out.print(
            f"  {s['attempts_done']} tentative(s) faite(s), {s['attempts_planned']} prévue(s) ; "
            f"{s['distinct_days']} jour(s), {s['distinct_weeks']} semaine(s), "
            f"plages : {', '.join(WINDOW_LABELS.get(w, 'nuit') for w in s['hour_windows']) or '—'}"
        )
        states = ", ".join(f"{State(state).label} : {count}" for state, count in s["per_state"].items()) or "—"
        out.print(f"  États : {states} ; courriers envoyés : {s['letters_sent']}")
        if s["accompanied_missed"] or s["unattended_missed"]:
            out.print(
                f"  Tentatives prévues non faites (comptées à part) : {s['accompanied_missed']} accompagnée(s) "
                f"manquée(s), {s['unattended_missed']} automatique(s) manquée(s)"
            )
        if s["last_attempt"]:
            out.print(f"  Dernière tentative : {paris_time(datetime.fromisoformat(s['last_attempt']))}")
        if s["next_attempt"]:
            out.print(f"  Prochaine tentative prévue : {french_moment(datetime.fromisoformat(s['next_attempt']))}")
        elif not s["attempts_planned"]:
            out.print(f"  Aucune tentative prévue : établissez un plan avec « preuves plan {s['id']} --new ».")
        for warning in s["warnings"]:
            out.print(f"  Preuves encore faibles : {warning}", style="yellow")


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(watch)
    app.command()(status)

