"""The applicant's pièces on the dashboard: add one (an upload), withdraw one (a journal entry, the file stays)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from evidence.applicant_pieces import PieceInput, record_piece, withdraw_piece
from evidence.errors import PreuvesError
from preuves.parsing import parse_day
from preuves.web.cases import save_upload
from preuves.web.context import case_or_404, state

blueprint = Blueprint("pieces", __name__)


def _back(case_id: int) -> Response:
    return redirect(url_for("cases.show", case_id=case_id, _anchor="pieces"))


@blueprint.route("/dossiers/<int:case_id>/pieces", methods=["POST"])
def add(case_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        case_or_404(session, case_id)
    upload = request.files.get("piece_file")
    if upload is None or not upload.filename:
        flash("Choisissez le fichier de la pièce.", "error")
        return _back(case_id)
    form = request.form
    # The upload waits in a private folder of the workspace until the store has checked and kept it.
    with tempfile.TemporaryDirectory(dir=web.workspace.home, prefix="upload-") as folder:
        try:
            day = form.get("piece_date")
            piece = record_piece(
                web.workspace,
                str(case_id),
                PieceInput(
                    file=save_upload(upload, Path(folder), "piece"),
                    kind=form.get("kind", ""),
                    label=form.get("label", ""),
                    piece_date=parse_day(day, "date du document") if day else None,
                ),
            )
        except PreuvesError as exc:
            flash(f"Pièce refusée : {exc}", "error")
        else:
            flash(f"Pièce du demandeur n° {piece.id} enregistrée : « {piece.label} ».")
    return _back(case_id)


@blueprint.route("/dossiers/<int:case_id>/pieces/<int:piece_id>/retrait", methods=["POST"])
def withdraw(case_id: int, piece_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        case_or_404(session, case_id)
    try:
        withdraw_piece(web.workspace, str(case_id), piece_id, request.form.get("reason") or None)
    except PreuvesError as exc:
        flash(f"Retrait refusé : {exc}", "error")
    else:
        flash(f"Pièce n° {piece_id} retirée du dossier ; son fichier reste conservé.")
    return _back(case_id)
