"""The evidence store on PostgreSQL (PREUVES_DATABASE_URL): migrations, triggers, chain, verify.

The server is started by the test set-up (tests/postgres_server.py, the `postgres_url` fixture).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import DBAPIError

from evidence import journal
from evidence.verify import verify_workspace
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


def test_concurrent_writers_keep_one_chain_on_postgres(workspace):
    def write(worker: int) -> None:
        for n in range(25):
            with workspace.writing() as session:
                journal.append(session, "test.note", {"worker": worker, "n": n}, workspace.clock.now())

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_workspace(workspace)
    assert report.ok and report.head.seq == 101
