"""A purged case is said to be purged everywhere it is listed — `status`, `case list`, `case show` and the
dashboard — with no weak-evidence warning, no next step and no button to add evidence (issue 16 §4)."""

from __future__ import annotations

import json

from evidence.localtime import PARIS
from evidence.purge import purge_case
from evidence.records import TargetSpec, add_case
from tests.evidence_helpers import record_sample_captures
from tests.web_client import Client
from tests.web_helpers import dashboard

URL = "https://www.val-doise.gouv.fr/booking/create/11343"


def two_cases_one_purged(workspace) -> int:
    """Case 1 « Dupont » still active, case 2 « Martin » purged; returns the purge's journal entry."""
    add_case(workspace, "Dupont", TargetSpec(URL, "ezbooking"))
    martin, _ = add_case(workspace, "Martin", TargetSpec(URL + "0", "ezbooking"))
    record_sample_captures(workspace, martin.target_id, 2)
    return purge_case(workspace, "Martin").purge.seq


def test_status_and_case_list_say_a_purged_case_is_purged_and_warn_no_more(workspace, cli):
    seq = two_cases_one_purged(workspace)
    day = workspace.clock.now().astimezone(PARIS).strftime("%d/%m/%Y")
    sentence = (
        f"Dossier purgé le {day} (entrée n° {seq} du journal) : ses fichiers et l'identité du demandeur sont "
        "effacés, il ne reçoit plus de preuves."
    )
    status = cli("status", home=workspace.home).out.split("effacé (n° 2)\n")  # its name was erased with its key
    assert "Preuves encore faibles" in status[0]
    assert status[1] == f"  {sentence}\n"
    dupont, martin = json.loads(cli("status", "--json", home=workspace.home).out)
    assert (dupont["label"], dupont["purged"], martin["label"], martin["warnings"]) == ("Dupont", None, "effacé", [])
    assert martin["purged"]["seq"] == seq

    listed = json.loads(cli("case", "list", "--json", home=workspace.home).out)
    assert [(c["label"], c["active"], bool(c["purged"])) for c in listed] == [
        ("Dupont", True, False), ("effacé", False, True)
    ]
    assert "│ effacé (purgé) │" in cli("case", "list", home=workspace.home).out
    shown = cli("case", "show", "2", home=workspace.home).out.splitlines()
    assert "Actif : non" in shown and shown[-1] == sentence
    assert "Actif : oui" in cli("case", "show", "Dupont", home=workspace.home).out.splitlines()


def test_the_dashboard_shows_a_purged_case_without_warnings_or_buttons(workspace):
    two_cases_one_purged(workspace)
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        index = client.get("/").text
        assert index.count("data-purged") == 1 and index.count("encore faibles") == 1
        purged = client.get("/dossiers/2").text
        assert "data-purged" in purged and "Preuves encore faibles" not in purged
        for action in ("Faire une tentative maintenant", "Constituer le dossier", "Établir le plan",
                       "Ajouter un courrier", "Ajouter une pièce"):
            assert action not in purged, action
        active = client.get("/dossiers/1").text
        assert "Faire une tentative maintenant" in active and "data-purged" not in active
