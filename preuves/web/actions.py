"""The buttons of a case page: capture now, assisted capture, build the dossier, verify.

Each starts a background job and shows its page, which refreshes itself until the job ends.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from capture.accompanied import assisted_capture
from capture.attempt import AttemptOutcome, capture_target
from capture.chromium import BrowserService, require_display
from capture.states import State
from dossier_builder.build import build_dossier
from evidence.anchors import anchor_before_dossier
from evidence.errors import BadInput
from evidence.models import Target
from evidence.purge import open_case
from evidence.verify import verify_workspace
from preuves.web.context import WebState, case_or_404, state
from preuves.web.exports import build_folder, send_once, sweep_exports
from preuves.web.jobs import Job, Progress
from preuves.web.security import without_server_paths

blueprint = Blueprint("actions", __name__)


def _start(case_id: int, kind: str, title: str, work: Callable[[WebState, int, Progress], dict[str, Any]]) -> Response:
    web = state()
    with web.workspace.reading() as session:
        case_or_404(session, case_id)
    job = web.jobs.start(kind, case_id, title, lambda progress: work(web, case_id, progress))
    return redirect(url_for("actions.job", job_id=job.id))


@blueprint.route("/dossiers/<int:case_id>/tentative", methods=["POST"])
def capture_now(case_id: int) -> Response:
    return _start(case_id, "capture", "Tentative maintenant", _capture)


@blueprint.route("/dossiers/<int:case_id>/tentative-assistee", methods=["POST"])
def capture_assisted(case_id: int) -> Response:
    if state().accounts:
        abort(400, "la tentative assistée ouvre une fenêtre sur l'ordinateur du serveur : "
                   "lancez-la sur cet ordinateur avec « preuves capture DOSSIER --assisted »")
    try:
        require_display()
    except BadInput as exc:
        abort(400, str(exc))
    return _start(case_id, "capture", "Tentative accompagnée (résolvez le captcha dans la fenêtre)", _assisted)


@blueprint.route("/dossiers/<int:case_id>/constituer", methods=["POST"])
def build(case_id: int) -> Response:
    return _start(case_id, "dossier", "Constitution du dossier pour Télérecours", _dossier)


@blueprint.route("/dossiers/<int:case_id>/verifier", methods=["POST"])
def verify(case_id: int) -> Response:
    return _start(case_id, "verify", "Vérification des preuves", _verify)


@blueprint.route("/travaux/<job_id>")
def job(job_id: str) -> str:
    found = _job_or_404(job_id)
    return render_template("job.html", job=found)


@blueprint.route("/travaux/<job_id>/dossier.zip")
def download(job_id: str) -> Response:
    found = _job_or_404(job_id)
    if found.kind != "dossier" or found.error or not found.finished:
        abort(404)
    return send_once(state().exports / found.result["archive"])


def _job_or_404(job_id: str) -> Job:
    web = state()
    found = web.jobs.get(job_id)
    if found is None:
        abort(404)
    with web.workspace.reading() as session:
        case_or_404(session, found.case_id)
    return found


# --- the work of each job, run in a worker thread -----------------------------------------


def _capture(web: WebState, case_id: int, progress: Progress) -> dict[str, Any]:
    progress("ouverture de la page de réservation", 0, 1)
    outcome = capture_target(web.workspace, _target(web, case_id), web.browser(), web.settings)
    progress("tentative enregistrée", 1, 1)
    return _result(outcome)


def _target(web: WebState, case_id: int) -> Target:
    with web.workspace.reading() as session:  # access was checked when the job was started
        return open_case(session, str(case_id)).target


def _result(outcome: AttemptOutcome, planned_id: int | None = None) -> dict[str, Any]:
    capture, found = outcome.capture, outcome.classification
    return {
        "planned_id": planned_id,
        "capture_id": capture.id,
        "state": found.state.value,
        "evidence_text": found.evidence_text,
        "error": capture.error,
        "slots": found.state is State.SLOTS,
        "booking_url": capture.final_url or capture.url_requested,
    }


def _assisted(web: WebState, case_id: int, progress: Progress) -> dict[str, Any]:
    """A visible window: the person solves the captcha there; it performs the accompanied attempt due now."""
    progress("résolvez le captcha dans la fenêtre ouverte", 0, 1)
    target = _target(web, case_id)
    with BrowserService(web.settings.chromium_path, headless=False) as window:
        done = assisted_capture(web.workspace, target, window, web.settings, web.watch_settings.accompanied_window)
    progress("tentative enregistrée", 1, 1)
    return _result(done.outcome, done.planned_id)


def _dossier(web: WebState, case_id: int, progress: Progress) -> dict[str, Any]:
    sweep_exports(web.exports)
    progress("horodatage du journal", 0, 1)
    anchor_before_dossier(web.workspace)  # as `preuves dossier`: the note says what became of it
    folder = build_folder(web.exports, case_id, web.workspace.clock.now())
    try:
        result = build_dossier(web.workspace, str(case_id), folder, progress=progress)
        progress("archive à télécharger", 0, 1)
        archive = Path(shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name))
        archive.chmod(0o600)
    finally:  # the zip holds it all (one copy of a large bundle is enough); a failed build leaves nothing
        shutil.rmtree(folder, ignore_errors=True)
    progress("archive à télécharger", 1, 1)
    return {
        "archive": f"{folder.name}.zip",
        "pieces": [piece.path.name for piece in result.pieces],
        "review_pages": result.review_pages,
        "review_warning": result.review_warning,
    }


def _verify(web: WebState, case_id: int, progress: Progress) -> dict[str, Any]:
    progress("relecture du journal et des fichiers", 0, 1)
    report = verify_workspace(web.workspace, str(case_id))
    progress("vérification terminée", 1, 1)
    return {
        "ok": report.ok,
        "problems": [without_server_paths(problem.line(), web.workspace.home) for problem in report.problems],
        "purges": report.purges,
        "entries": report.entries,
        "blobs": report.blobs_checked,
        "head_seq": report.head.seq,
        "head_hash": report.head.entry_hash,
    }
