"""One attempt in full, and the files of the store: screenshots inline, everything else downloaded."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, render_template, send_file
from PIL import Image
from werkzeug.wrappers import Response

from evidence.models import Artefact
from preuves.web.context import capture_or_404, case_or_404, may_see, state

blueprint = Blueprint("captures", __name__)

THUMBNAIL_WIDTH = 360
# Only these are shown in the page; anything else (a saved page's HTML above all) is served as a
# download, so that nothing recorded from a booking site can run in the dashboard's origin.
INLINE_TYPES = frozenset({"image/png", "image/jpeg"})
IMMUTABLE = 365 * 24 * 3600  # a file of the store never changes: its name is its hash


@blueprint.route("/tentatives/<int:capture_id>")
def show(capture_id: int) -> str:
    with state().workspace.reading() as session:
        capture = capture_or_404(session, capture_id)
        artefacts = list(capture.artefacts)
        cases = [case for case in capture.target.cases if may_see(session, case)]
        session.expunge_all()
    annotated = next((a for a in artefacts if a.kind == "screenshot_annotated"), None)
    original = next((a for a in artefacts if a.kind == "screenshot"), None)
    return render_template(
        "capture.html", capture=capture, artefacts=artefacts, annotated=annotated, original=original, cases=cases
    )


@blueprint.route("/fichiers/<int:artefact_id>")
def artefact(artefact_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        row = session.get(Artefact, artefact_id) or abort(404)
        if row.capture_id is not None:
            capture_or_404(session, row.capture_id)
        elif row.letter is not None:
            case_or_404(session, row.letter.case_id)
        elif row.applicant_piece is not None:
            case_or_404(session, row.applicant_piece.case_id)
        else:
            abort(404)  # timestamp tokens and the like belong to no one case
        session.expunge(row)
    inline = row.media_type in INLINE_TYPES
    return _private(
        send_file(
            web.workspace.blobs.path_for(row.sha256),
            mimetype=row.media_type if inline else "application/octet-stream",
            as_attachment=not inline,
            download_name=row.filename or f"fichier-{row.id}",
            max_age=IMMUTABLE,
            etag=row.sha256,
        )
    )


@blueprint.route("/fichiers/<int:artefact_id>/vignette.jpg")
def thumbnail(artefact_id: int) -> Response:
    web = state()
    with web.workspace.reading() as session:
        row = session.get(Artefact, artefact_id)
        if row is None or row.capture_id is None or row.media_type not in INLINE_TYPES:
            abort(404)
        capture_or_404(session, row.capture_id)
        blob = web.workspace.blobs.path_for(row.sha256)
    return _private(send_file(io.BytesIO(_thumbnail(blob)), mimetype="image/jpeg", max_age=IMMUTABLE))


def _private(response: Response) -> Response:
    """Personal data: a browser may keep it, a shared cache on the way may not."""
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@lru_cache(maxsize=512)
def _thumbnail(blob: Path) -> bytes:
    """The top of a screenshot (what a person sees first), scaled down; kept in memory."""
    with Image.open(blob) as image:
        top = image.crop((0, 0, image.width, min(image.height, round(image.width * 0.75))))
        top.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH))
        out = io.BytesIO()
        top.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
