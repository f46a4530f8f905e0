"""The evidence store on PostgreSQL (PREUVES_DATABASE_URL): migrations, triggers, chain, verify.

The server is started by the test set-up (tests/postgres_server.py, the `postgres_url` fixture).
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.exc import DBAPIError

from capture.politeness import PolitenessRefusal, host_turn
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace
from tests.evidence_helpers import add_sample_case, raw_sql, record_sample_captures

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def test_records_and_verify_on_postgres(workspace):
    assert workspace.database_url.startswith("postgresql")
    assert not (workspace.home / "preuves.sqlite3").exists()
    captures = record_sample_captures(workspace, add_sample_case(workspace), 4)
    report = verify_workspace(workspace)
    assert report.ok and report.entries == 7 and report.blobs_checked == 8
    assert captures[-1].artefacts[0].blob_path.startswith("blobs/")


def test_triggers_refuse_changes_on_postgres(workspace):
    record_sample_captures(workspace, add_sample_case(workspace), 1)
    for statement in (
        "UPDATE captures SET state = 'slots'",
        "DELETE FROM journal_entries",
        "UPDATE artefacts SET size = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            raw_sql(workspace, statement)


def test_tampering_detected_on_postgres(workspace):
    captures = record_sample_captures(workspace, add_sample_case(workspace), 2)
    raw_sql(workspace, "DROP TRIGGER captures_no_update ON captures")
    raw_sql(workspace, f"UPDATE captures SET state = 'slots' WHERE id = {captures[1].id}")
    lines = [p.line() for p in verify_workspace(workspace).problems]
    assert lines[0] == "base de données : protections supprimées : captures_no_update"
    assert lines[1].startswith(f"capture {captures[1].id} du ")
    assert "champ « state » modifié : 'slots' dans la base, 'noslot' dans le journal" in lines[1]


def test_watchers_on_two_machines_take_turns_on_a_host(workspace, tmp_path):
    """Two workspace folders (two machines) on one database: the file lock cannot see the other
    folder's, the database's lock does."""
    other_machine, _ = init_workspace(tmp_path / "autre-machine")
    try:
        with host_turn(workspace, "www.val-doise.gouv.fr"):
            with pytest.raises(PolitenessRefusal, match="déjà en cours sur www.val-doise.gouv.fr"):
                with host_turn(other_machine, "www.val-doise.gouv.fr"):
                    pass
            with host_turn(other_machine, "www.seine-saint-denis.gouv.fr"):  # another host: no wait
                pass
        with host_turn(other_machine, "www.val-doise.gouv.fr"):  # released
            pass
    finally:
        other_machine.close()


def test_a_server_that_does_not_answer_is_said_unreachable_not_damaged(workspace, cli, monkeypatch):
    """A stopped server, or a wrong address in PREUVES_DATABASE_URL, damages nothing: `verify` used to call
    the database damaged and send the person to `preuves repair`, which then failed in English."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("PREUVES_DATABASE_URL", f"postgresql+psycopg://preuves@127.0.0.1:{closed}/preuves")
    for command in ("verify", "init", "repair"):
        result = cli(command, home=workspace.home)
        assert result.code == 2 and result.out == "", command
        [line] = result.err.splitlines()
        assert line.startswith("Erreur : base PostgreSQL injoignable (connection failed: "), line
        assert line.endswith(") : vérifiez PREUVES_DATABASE_URL et que le serveur est démarré"), line
