"""The evidence store on PostgreSQL (PREUVES_DATABASE_URL): migrations, triggers, chain, verify.

The server is started by the test set-up (tests/postgres_server.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from evidence import journal
from evidence.verify import verify_workspace
from evidence.workspace import DATABASE_URL_ENV, Workspace, init_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures
from tests.postgres_server import find_pg_bin, postgres_server

pytestmark = pytest.mark.skipif(find_pg_bin() is None, reason="PostgreSQL absent")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_workspace(postgres_url, tmp_path, monkeypatch) -> Iterator[Workspace]:
    engine = create_engine(postgres_url)
    with engine.begin() as connection:  # an empty database for each test
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_url)
    workspace, _ = init_workspace(tmp_path / "ws")
    yield workspace
    workspace.close()


def raw(workspace: Workspace, statement: str) -> None:
    engine = create_engine(workspace.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def test_records_and_verify_on_postgres(pg_workspace):
    assert pg_workspace.database_url.startswith("postgresql")
    assert not (pg_workspace.home / "preuves.sqlite3").exists()
    captures = record_sample_captures(pg_workspace, add_sample_case(pg_workspace), 4)
    report = verify_workspace(pg_workspace)
    assert report.ok and report.entries == 7 and report.blobs_checked == 8
    assert captures[-1].artefacts[0].blob_path.startswith("blobs/")


def test_triggers_refuse_changes_on_postgres(pg_workspace):
    record_sample_captures(pg_workspace, add_sample_case(pg_workspace), 1)
    for statement in (
        "UPDATE captures SET state = 'slots'",
        "DELETE FROM journal_entries",
        "UPDATE artefacts SET size = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            raw(pg_workspace, statement)


def test_tampering_detected_on_postgres(pg_workspace):
    captures = record_sample_captures(pg_workspace, add_sample_case(pg_workspace), 2)
    raw(pg_workspace, "DROP TRIGGER captures_no_update ON captures")
    raw(pg_workspace, f"UPDATE captures SET state = 'slots' WHERE id = {captures[1].id}")
    lines = [p.line() for p in verify_workspace(pg_workspace).problems]
    assert lines[0] == "base de données : protections supprimées : captures_no_update"
    assert lines[1].startswith(f"capture {captures[1].id} du ")
    assert "champ « state » modifié : 'slots' dans la base, 'noslot' dans le journal" in lines[1]


def test_concurrent_writers_keep_one_chain_on_postgres(pg_workspace):
    def write(worker: int) -> None:
        for n in range(25):
            with pg_workspace.writing() as session:
                journal.append(session, "test.note", {"worker": worker, "n": n}, pg_workspace.clock.now())

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_workspace(pg_workspace)
    assert report.ok and report.head.seq == 101
