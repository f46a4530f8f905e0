"""Each kind of tampering is detected and named; an untouched workspace has no false alarm."""

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError

from evidence import verify
from evidence.models import Capture
from evidence.observations import PageObservations
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from evidence.verify import verify_workspace
from tests.capture_samples import sample_facts
from tests.evidence_helpers import add_sample_case, drop_triggers, raw_sql, record_sample_captures

pytestmark = pytest.mark.both_databases


@pytest.fixture
def recorded(workspace):
    target_id = add_sample_case(workspace)
    captures = record_sample_captures(workspace, target_id, 5)
    assert verify_workspace(workspace).ok
    return workspace, captures


def lines(report):
    return [problem.line() for problem in report.problems]


def test_untouched_workspace_is_intact(recorded):
    workspace, _ = recorded
    report = verify_workspace(workspace)
    assert report.ok and report.orphans == []
    assert report.entries == 1 + 2 + 5  # workspace, target, case, captures
    assert report.blobs_checked == 10


def test_blob_byte_flipped(recorded):
    workspace, captures = recorded
    artefact = captures[2].artefacts[0]
    path = workspace.home / artefact.blob_path
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    [line] = lines(verify_workspace(workspace))
    assert line.startswith(f"fichier {artefact.id} (capture d'écran brute, capture {captures[2].id}) : contenu modifié")
    assert line.endswith(f"[{artefact.blob_path}]")


def test_blob_deleted(recorded):
    workspace, captures = recorded
    artefact = captures[1].artefacts[1]
    (workspace.home / artefact.blob_path).unlink()
    assert lines(verify_workspace(workspace)) == [
        f"fichier {artefact.id} (page HTML, capture {captures[1].id}) : fichier supprimé [{artefact.blob_path}]"
    ]


def test_case_row_edited(recorded):
    workspace, _ = recorded
    raw_sql(workspace, "UPDATE cases SET label = 'Durand' WHERE id = 1")
    assert lines(verify_workspace(workspace)) == [
        "dossier 1 « Durand » : champ « label » modifié : 'Durand' dans la base, "
        "'Dupont' dans le journal (entrée n° 3)"
    ]


def test_case_row_deleted(recorded):
    workspace, _ = recorded
    raw_sql(workspace, "DELETE FROM cases WHERE id = 1")
    assert lines(verify_workspace(workspace)) == [
        "dossier 1 « Dupont » : décrit par l'entrée n° 3 du journal mais absent de la base (supprimé ?)"
    ]


def test_capture_rows_are_protected_by_triggers(recorded):
    workspace, _ = recorded
    for statement in (
        "UPDATE captures SET state = 'slots'",
        "DELETE FROM captures",
        "UPDATE journal_entries SET kind = 'x'",
        "DELETE FROM journal_entries WHERE seq = 4",
        "DELETE FROM artefacts",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            raw_sql(workspace, statement)
    assert verify_workspace(workspace).ok


def test_triggers_dropped_then_capture_edited(recorded):
    workspace, captures = recorded
    raw_sql(workspace, *drop_triggers(workspace), f"UPDATE captures SET state = 'slots' WHERE id = {captures[3].id}")
    found = lines(verify_workspace(workspace))
    assert found[0].startswith("base de données : protections supprimées : journal_entries_no_update")
    assert found[1].startswith(f"capture {captures[3].id} du ")
    assert found[1].endswith(
        "champ « state » modifié : 'slots' dans la base, 'noslot' dans le journal (entrée n° 7)"
    )
    assert len(found) == 2


def test_capture_row_deleted(recorded):
    workspace, captures = recorded
    gone = captures[0]
    raw_sql(workspace, *drop_triggers(workspace), f"DELETE FROM artefacts WHERE capture_id = {gone.id}",
            f"DELETE FROM captures WHERE id = {gone.id}")
    found = lines(verify_workspace(workspace))
    assert any(
        line.startswith(f"capture {gone.id} du 02/11/2026 ") and "absent de la base" in line
        for line in found
    )
    assert sum("absent de la base" in line for line in found) == 3  # capture + its 2 files


def test_row_inserted_outside_the_tool(recorded):
    workspace, _ = recorded
    raw_sql(
        workspace,
        "INSERT INTO captures (target_id, attempt_no, started_at, finished_at, url_requested, "
        "state, platform, assisted) VALUES (1, 99, '2026-11-20 10:00:00', '2026-11-20 10:00:05', "
        "'https://x', 'noslot', 'ezbooking', false)",
    )
    [line] = lines(verify_workspace(workspace))
    assert line.startswith("capture 6 du 20/11/2026 11:00:00 (UTC+01:00) : absent du journal")


def test_journal_entry_edited(recorded):
    workspace, _ = recorded
    raw_sql(workspace, *drop_triggers(workspace),
            "UPDATE journal_entries SET payload = replace(payload, 'noslot', 'slots') WHERE seq = 6")
    found = lines(verify_workspace(workspace))
    assert "entrée n° 6 du journal (capture.recorded) : contenu modifié : l'empreinte recalculée diffère" in found


def test_journal_entry_deleted(recorded):
    workspace, _ = recorded
    raw_sql(workspace, *drop_triggers(workspace), "DELETE FROM journal_entries WHERE seq = 5")
    found = lines(verify_workspace(workspace))
    assert "entrée n° 6 du journal (capture.recorded) : entrée n° 5 supprimée(s) ou déplacée(s)" in found
    assert any("absent du journal" in line for line in found)


def test_journal_entries_reordered(recorded):
    workspace, _ = recorded
    raw_sql(
        workspace,
        *drop_triggers(workspace),
        "UPDATE journal_entries SET seq = -5 WHERE seq = 5",
        "UPDATE journal_entries SET seq = 5 WHERE seq = 6",
        "UPDATE journal_entries SET seq = 6 WHERE seq = -5",
    )
    found = lines(verify_workspace(workspace))
    assert any(line.startswith("entrée n° 5 du journal") and "chaînage rompu" in line for line in found)


def test_orphan_blob_is_reported_not_a_failure(recorded):
    workspace, _ = recorded
    workspace.blobs.put(b"written, then the process died before the commit")
    report = verify_workspace(workspace)
    assert report.ok
    assert len(report.orphans) == 1 and report.orphans[0].startswith("blobs/")


def test_verify_one_case_ignores_others(workspace):
    first = add_sample_case(workspace, "Dupont")
    record_sample_captures(workspace, first, 2)
    other, _ = add_case(workspace, "Martin", TargetSpec("https://www.essonne.gouv.fr/booking/create/1", "ezbooking"))
    assert verify_workspace(workspace, "Martin").ok
    raw_sql(workspace, *drop_triggers(workspace), "UPDATE captures SET state = 'slots' WHERE id = 1")
    assert len(lines(verify_workspace(workspace, "Dupont"))) == 2
    assert lines(verify_workspace(workspace, "Martin")) == [lines(verify_workspace(workspace))[0]]


def test_a_case_added_while_verify_reads_is_not_out_of_step(recorded, monkeypatch):
    """verify reads one snapshot: what is committed between its reading of the journal and of
    the rows is in neither."""
    workspace, _ = recorded
    check_chain = verify._check_chain

    def check_chain_then_add_a_case(session, report):
        records = check_chain(session, report)
        add_case(workspace, "Martin", TargetSpec("https://www.essonne.gouv.fr/booking/create/1", "ezbooking"))
        return records

    monkeypatch.setattr(verify, "_check_chain", check_chain_then_add_a_case)
    report = verify_workspace(workspace)
    assert lines(report) == [] and report.entries == 8


def test_observations_are_journaled_and_their_change_is_named(workspace):
    """What an attempt read besides its state (server clock, Ray ID, …) is evidence like the state."""
    target_id = add_sample_case(workspace)
    seen = PageObservations(
        server_date=datetime(2026, 11, 30, 8, 0, 3, tzinfo=UTC), clock_skew_ms=-1200,
        counter_label="Guichet 3 — renouvellement", decisive_box=(10, 200, 600, 40),
    )
    facts = replace(sample_facts(target_id, 1, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)), observations=seen)
    capture = record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=b"png")])
    with workspace.reading() as session:
        assert PageObservations.from_json(session.get(Capture, capture.id).observations) == seen
    assert verify_workspace(workspace).ok
    raw_sql(workspace, *drop_triggers(workspace), "UPDATE captures SET observations = '{\"clock_skew_ms\": 0}'")
    dropped, edited = lines(verify_workspace(workspace))
    assert dropped.startswith("base de données : protections supprimées")
    assert edited.startswith(f"capture {capture.id} du ") and "champ « observations » modifié" in edited
