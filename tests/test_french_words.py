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
