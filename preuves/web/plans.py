"""A case's plan on the dashboard: made or replaced from the case page (the same call as `preuves plan`)."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from capture.plan import DAY_HOURS, MODES, parse_hours, plan_target
from evidence.errors import BadInput, PreuvesError
from preuves.parsing import parse_day
from preuves.plan_text import plan_summary
from preuves.web.context import case_or_404, state

blueprint = Blueprint("plans", __name__)


def _number(name: str, default: int, what: str) -> int:
    text = (request.form.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or len(text) > 3:
        raise BadInput(f"{what} invalide : {text!r}")
    return int(text)


@blueprint.route("/dossiers/<int:case_id>/plan", methods=["POST"])
def make(case_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        target_id = case_or_404(session, case_id).target_id
    form = request.form
    try:
        mode = form.get("mode") or None
        if mode is not None and mode not in MODES:
            raise BadInput(f"type de tentatives inconnu : {mode!r}")
        result = plan_target(
            web.workspace, target_id,
            first_day=parse_day(form["from"], "date de début") if form.get("from") else None,
            weeks=_number("weeks", 4, "nombre de semaines"),
            per_day=_number("per_day", 3, "tentatives par jour"),
            mode=mode, min_interval=web.settings.min_interval, seed=secrets.randbits(32),
            replace=bool(form.get("replace")),
            hours=parse_hours(form["hours"]) if form.get("hours", "").strip() else DAY_HOURS,
        )
    except PreuvesError as exc:
        flash(f"Plan refusé : {exc}", "error")
    else:
        for line in plan_summary(result, str(case_id)):
            flash(line)
    return redirect(url_for("cases.show", case_id=case_id, _anchor="plan"))
