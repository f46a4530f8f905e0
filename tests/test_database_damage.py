"""A damaged database is never reported as intact: `verify` checks its integrity first, says
« base endommagée », exits 1, and `repair` rebuilds it from the journal's copy and the files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from evidence.repair import repair_workspace
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace, open_workspace
from evidence.workspace_paths import DATABASE_URL_ENV
from tests.evidence_helpers import add_sample_case, evidence_rows, record_sample_captures
from tests.postgres_server import find_pg_bin, postgres_cluster

PAGE = 4096


def overwrite(path: Path, offset: int, size: int = 8192) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xaa" * size)


def root_page(database: Path, name: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]


def integrity_check(database: Path) -> list[str]:
    """SQLite's own answer: ["ok"], the defects it lists, or the error it stops on."""
    try:
        with sqlite3.connect(database) as db:
            return [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


@pytest.fixture
def recorded(workspace):
    record_sample_captures(workspace, add_sample_case(workspace), 40)
    workspace.close()
    return workspace.home


def test_a_damaged_page_makes_verify_fail_and_repair_rebuilds(recorded, cli):
    """8 KB overwritten where the tool seldom reads (the pages of the case–organisation links):
    before, `verify` read nothing there and said INTACT."""
    home = recorded
    before = evidence_rows(home)
    database = home / "preuves.sqlite3"
    overwrite(database, (root_page(database, "case_organisations") - 1) * PAGE)
    assert integrity_check(database) != ["ok"]
    checked = cli("verify", home=home)
    assert checked.code == 1
    assert checked.out.splitlines()[-1] == "BASE ENDOMMAGÉE — rien n'a pu être vérifié."
    assert checked.out.startswith("base de données : base endommagée (")
    assert "« preuves repair » reconstruit la base à partir de la copie et des fichiers" in checked.out
    as_json = cli("verify", "--json", home=home)
    assert as_json.code == 1 and '"damaged": true' in as_json.out

    repaired = cli("repair", home=home)
    assert repaired.code == 0, repaired
    assert repaired.out.splitlines()[-1].startswith("INTACT — 44 entrées du journal, 80 fichiers vérifiés.")
    [aside] = [path.name for path in home.iterdir() if ".mis-de-cote-" in path.name]
    assert f"Mis de côté, conservé : {aside}" in repaired.err
    after = evidence_rows(home)
    assert after["journal"][-1][1] == "workspace.repaired"
    assert {**after, "journal": after["journal"][:-1]} == before
    assert cli("verify", home=home).code == 0


def test_a_file_that_is_no_longer_a_database(recorded, cli):
    home = recorded
    overwrite(home / "preuves.sqlite3", 0, 100)  # the header
    checked = cli("verify", home=home)
    assert checked.code == 1
    assert checked.err.strip() == (
        f"Erreur : base de données endommagée ({home / 'preuves.sqlite3'} : le fichier n'est pas une base "
        "SQLite) : « preuves repair » la reconstruit à partir de la copie du journal et des fichiers"
    )
    assert cli("status", home=home).code == 1
    assert cli("repair", home=home).code == 0
    assert cli("verify", home=home).code == 0


def test_other_commands_on_a_damaged_database_say_so_in_french(recorded, cli):
    home = recorded
    database = home / "preuves.sqlite3"
    overwrite(database, (root_page(database, "captures") - 1) * PAGE)
    status = cli("status", home=home)
    assert (status.code, status.err) == (
        1,
        "Erreur de base de données : le fichier de la base est abîmé : « preuves verify » le confirme, "
        "« preuves repair » la reconstruit\n",
    )


@pytest.mark.skipif(find_pg_bin() is None, reason="PostgreSQL absent : apt-get install postgresql")
def test_postgresql_index_checked_by_amcheck(tmp_path, monkeypatch):
    """Without amcheck, `verify` says what it could not check; with it, a damaged index page (8 KB
    overwritten while the server was stopped) is « base endommagée »."""
    with postgres_cluster() as cluster:
        monkeypatch.setenv(DATABASE_URL_ENV, cluster.url)
        workspace, _ = init_workspace(tmp_path / "ws")
        try:
            record_sample_captures(workspace, add_sample_case(workspace), 40)
            report = verify_workspace(workspace)
            assert report.ok and any("extension amcheck absente" in note for note in report.notes)
        finally:
            workspace.close()
        engine = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION amcheck"))
            index_file = cluster.data / connection.scalar(text("SELECT pg_relation_filepath('ix_artefacts_sha256')"))
            connection.execute(text("CHECKPOINT"))
        engine.dispose()
        workspace = open_workspace(tmp_path / "ws")
        try:
            report = verify_workspace(workspace)
            assert report.ok and report.notes == []
        finally:
            workspace.close()
        cluster.stop()
        overwrite(index_file, 8192)  # page 0 is the b-tree's metapage; page 1 holds its entries
        cluster.start()
        workspace = open_workspace(tmp_path / "ws")
        try:
            report = verify_workspace(workspace)
        finally:
            workspace.close()
        assert report.damaged
        [problem] = [p.line() for p in report.problems]
        assert problem.startswith("base de données : base endommagée (index ix_artefacts_sha256 : ")
        with pytest.raises(Exception, match="la base PostgreSQL n'est pas vide : créez une base vide"):
            repair_workspace(tmp_path / "ws")
