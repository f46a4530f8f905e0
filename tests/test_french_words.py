"""The codes the tool keeps (artefact kinds) are shown to users in French words (issue 16 §4)."""

from __future__ import annotations

from evidence.records import TargetSpec, add_case
from tests.evidence_helpers import record_sample_captures
from tests.web_client import Client
from tests.web_helpers import dashboard


def test_the_dashboard_names_each_file_of_an_attempt_in_french(workspace):
    case, _ = add_case(workspace, "Dupont", TargetSpec("https://www.val-doise.gouv.fr/booking/create/1", "ezbooking"))
    [capture] = record_sample_captures(workspace, case.target_id, 1)
    with dashboard(workspace, accounts=False) as base:
        page = Client(base).get(f"/tentatives/{capture.id}").text
    assert "capture d&#39;écran brute" in page and "page HTML" in page
    assert ">screenshot<" not in page and ">html<" not in page


def test_dossier_keeps_pypdf_quiet_about_a_sloppy_letter_accepted_earlier(cli, tmp_path):
    """A PDF whose cross-reference pointer is off by a few bytes: pypdf repairs it, and says so in English."""
    import io
    import re
    import subprocess
    import sys

    from pypdf import PdfWriter

    from evidence.workspace import init_workspace
    from tests.evidence_helpers import add_sample_case, sample_png

    buffer = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(buffer)
    pointer = re.search(rb"startxref\s+(\d+)", buffer.getvalue())
    sloppy = tmp_path / "lettre.pdf"
    sloppy.write_bytes(buffer.getvalue()[: pointer.start(1)] + str(int(pointer[1]) + 7).encode()
                       + buffer.getvalue()[pointer.end(1):])
    workspace, _ = init_workspace(tmp_path / "ws")
    try:
        record_sample_captures(workspace, add_sample_case(workspace), 3, screenshot=sample_png())
    finally:
        workspace.close()
    added = cli("letter", "add", "Dupont", "--file", str(sloppy), "--direction", "sent", "--channel", "lrar",
                "--date", "2026-11-02")
    assert (added.code, added.err.startswith("Courrier n° 1 du 02/11/2026 enregistré")) == (0, True), added.err
    # In a process of its own: the pièces may be built by worker processes, whose output capsys does not see.
    built = subprocess.run(
        [sys.executable, "-m", "preuves", "--home", str(tmp_path / "ws"), "dossier", "Dupont",
         "--out", str(tmp_path / "pieces"), "--no-attempt-first"],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    assert "pièces, inventaire et copie de travail" in built.stderr
    assert "startxref" not in built.stderr and "Object Streams" not in built.stderr, built.stderr
