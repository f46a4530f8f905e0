"""Built dossiers waiting to be downloaded: a unique folder per build, gone once downloaded or
after a day.

A zip holds every personal document of a case: it must not stay on the server longer than it is
needed. A download that did not finish means building the dossier again (a minute or so).
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

KEPT_S = 24 * 3600


def build_folder(exports: Path, case_id: int, now: datetime) -> Path:
    """A new, empty folder for one build: two builds of the same second never share one."""
    return Path(tempfile.mkdtemp(prefix=f"dossier-{case_id}-{now:%Y%m%d-%H%M%S}-", dir=exports))


def sweep_exports(exports: Path, kept_s: float = KEPT_S) -> None:
    """Remove the archives older than `kept_s` (never downloaded, or left by a stopped server)."""
    oldest = time.time() - kept_s
    for archive in exports.glob("dossier-*.zip"):
        try:
            if archive.stat().st_mtime < oldest:
                archive.unlink()
        except FileNotFoundError:  # removed by a download meanwhile
            continue


def send_once(archive: Path) -> Response:
    """Send the archive and remove it from the server: the open file is still read to the end,
    but no second download (nor anyone else) can find it."""
    try:
        opened = archive.open("rb")
        archive.unlink()
    except FileNotFoundError:
        abort(404, "Ce dossier a déjà été téléchargé ou a plus d'un jour : constituez-le de nouveau.")
    response = send_file(
        opened, mimetype="application/zip", as_attachment=True, download_name=archive.name, etag=False
    )
    response.cache_control.no_store = True
    return response
