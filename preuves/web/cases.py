"""The pages of cases: the list with the strength of their evidence, one case, a new case, a letter."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from capture.accompanied import open_windows
from capture.platforms import checked_target, get_platform
from dossier_builder.glance import case_glance
from evidence.accounts import visible_cases
from evidence.applicant_pieces import PIECE_KINDS, piece_summaries
from evidence.case_status import case_status
from evidence.errors import PreuvesError
from evidence.letters import (
    CHANNELS,
    DIRECTIONS,
    LetterInput,
    letter_summaries,
    paris_today,
    record_letter,
)
from evidence.models import Artefact, Capture, PlannedAttempt
from evidence.records import add_case
from preuves.attempt_modes import every_platform, mode_sentence
from preuves.parsing import parse_day
from preuves.plan_text import MODE_LABELS, REASON_LABELS
from preuves.web.context import attempts_since, case_or_404, state, viewer, visible_attempts
from preuves.web.security import without_server_paths

blueprint = Blueprint("cases", __name__)

PAGE_SIZE = 48  # attempts per page of a case's timeline
UPCOMING = 8  # planned attempts shown ahead
MAX_PAGE = 100_000  # a larger page number would overflow the query's OFFSET
STATUS_LABELS = {
    "planned": "prévues", "reminded": "rappel envoyé", "done": "faites", "missed": "manquées", "failed": "échouées",
    "running": "en cours",
}


@blueprint.route("/")
def index() -> str:
    web = state()
    with web.workspace.reading() as session:
        cases = visible_cases(session, viewer().organisation_id)
        since = {case.id: attempts_since(session, case.target_id) for case in cases}
    statuses = [(case, case_status(web.workspace, case, since[case.id])) for case in cases]
    due = {window.target_id for window in open_windows(web.workspace, web.watch_settings.accompanied_window)}
    return render_template("index.html", statuses=statuses, due=[case for case in cases if case.target_id in due])


@blueprint.route("/dossiers/nouveau", methods=["GET", "POST"])
def new_case() -> str | Response:
    form = request.form
    if request.method == "POST":
        try:
            spec = checked_target(
                form.get("url", ""), counter=form.get("counter") or None, platform=form.get("platform") or None,
                prefecture=form.get("prefecture") or None, procedure=form.get("procedure") or None,
                allow_any_domain=state().web_settings.allow_any_domain,  # the server owner's choice only
            )
            case, _ = add_case(
                state().workspace, form.get("label", ""), spec,
                notes=form.get("notes") or None, organisation=viewer().organisation,
            )
        except PreuvesError as exc:
            return render_template("new_case.html", error=str(exc), form=form, platforms=every_platform()), 400
        flash(f"Dossier « {case.label} » créé.")
        flash(f"{mode_sentence(spec.platform)} Établissez maintenant le plan des tentatives.")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="plan"))
    return render_template("new_case.html", error=None, form=form, platforms=every_platform())


@blueprint.route("/dossiers/<int:case_id>")
def show(case_id: int) -> str:
    web = state()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    with web.workspace.reading() as session:
        case = case_or_404(session, case_id)
        target = case.target
        visible = visible_attempts(session, target.id)
        since = attempts_since(session, target.id)
        total = session.scalar(select(func.count()).select_from(Capture).where(visible)) or 0
        attempts = list(
            session.scalars(
                select(Capture).where(visible)
                .order_by(Capture.started_at.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
            )
        )
        thumbnails = {
            capture_id: artefact_id
            for capture_id, artefact_id in session.execute(
                select(Artefact.capture_id, Artefact.id).where(
                    Artefact.capture_id.in_([a.id for a in attempts]), Artefact.kind == "screenshot_annotated"
                )
            )
        }
        plan = {
            status: count
            for status, count in session.execute(
                select(PlannedAttempt.status, func.count()).where(PlannedAttempt.target_id == target.id)
                .group_by(PlannedAttempt.status)
            )
        }
        upcoming = list(
            session.scalars(
                select(PlannedAttempt).where(
                    PlannedAttempt.target_id == target.id, PlannedAttempt.status == "planned"
                ).order_by(PlannedAttempt.planned_at).limit(UPCOMING)
            )
        )
        letters = letter_summaries(session, case, paris_today(web.workspace))
        pieces = piece_summaries(session, case)
        session.expunge_all()
    return render_template(
        "case.html",
        case=case, target=target, status=case_status(web.workspace, case, since),
        attempts=attempts, thumbnails=thumbnails, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        plan={STATUS_LABELS.get(k, k): v for k, v in plan.items() if k != "cancelled"}, upcoming=upcoming,
        now_due=open_windows(web.workspace, web.watch_settings.accompanied_window, target.id),
        attempts_sentence=mode_sentence(target.platform), attempt_mode=get_platform(target.platform).attempt_mode,
        mode_labels=MODE_LABELS, reason_labels=REASON_LABELS,
        letters=letters, directions=DIRECTIONS, channels=CHANNELS, today=paris_today(web.workspace),
        glance=case_glance(web.workspace, case), pieces=pieces, piece_kinds=PIECE_KINDS,
    )


@blueprint.route("/dossiers/<int:case_id>/courriers", methods=["POST"])
def add_letter(case_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        case_or_404(session, case_id)
    form = request.form
    main = request.files.get("file")
    if main is None or not main.filename:
        flash("Choisissez le fichier du courrier.", "error")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="courriers"))
    # The uploads wait in a private folder of the workspace until the store has checked and kept them.
    with tempfile.TemporaryDirectory(dir=web.workspace.home, prefix="upload-") as folder:
        try:
            letter = record_letter(
                web.workspace,
                str(case_id),
                LetterInput(
                    file=save_upload(main, Path(folder), "courrier"),
                    direction=form.get("direction", ""),
                    channel=form.get("channel", ""),
                    letter_date=_optional_day(form.get("date")),
                    tracking=form.get("tracking") or None,
                    subject=form.get("subject") or None,
                    proofs=tuple(
                        save_upload(proof, Path(folder), f"preuve-{n}")
                        for n, proof in enumerate(request.files.getlist("proofs"), 1) if proof.filename
                    ),
                    answers=form.get("answers", type=int),
                    received_on=_optional_day(form.get("received_on"), "date de réception"),
                ),
            )
        except PreuvesError as exc:
            flash(f"Courrier refusé : {without_server_paths(str(exc), web.workspace.home)}", "error")
        else:
            flash(f"Courrier n° {letter.id} du {letter.letter_date:%d/%m/%Y} enregistré.")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="courriers"))


def save_upload(upload: FileStorage, folder: Path, fallback: str) -> Path:
    """Keep an upload under a safe version of its own name (the letter's file name is evidence)."""
    name = secure_filename(upload.filename or "") or fallback
    path = folder / name
    if path.exists():
        path = folder / f"{fallback}-{name}"
    upload.save(path)
    return path


def _optional_day(text: str | None, what: str = "date du courrier") -> date | None:
    return parse_day(text, what) if text else None
