"""The workspace deleted while an attempt is being recorded: exit 1, « a disparu », nothing claimed as
kept — before, the blob store made its folder again and the database row went into the deleted
file, so the command said « N fichiers enregistrés » for a record that was gone."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

import capture.attempt
from evidence import records
from evidence.errors import EvidenceDamaged
from evidence.models import Capture
from evidence.records import NewArtefact, record_capture
from tests.capture_samples import sample_facts
from tests.evidence_helpers import add_sample_case

COUNTER = "16162"


@pytest.mark.both_databases
def test_deleted_between_the_files_and_the_commit(workspace, monkeypatch):
    target_id = add_sample_case(workspace)
    store_blobs = records.store_blobs

    def store_then_vanish(ws, artefacts):
        stored = store_blobs(ws, artefacts)
        shutil.rmtree(ws.home)
        return stored

    monkeypatch.setattr(records, "store_blobs", store_then_vanish)
    facts = sample_facts(target_id, 1, workspace.clock.now())
    with pytest.raises(EvidenceDamaged, match=f"l'espace de travail {workspace.home} a disparu pendant"):
        record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=b"png")])
    assert not workspace.home.exists()  # nothing made again
    with workspace.reading() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 0


def test_deleted_before_the_files(workspace):
    target_id = add_sample_case(workspace)
    shutil.rmtree(workspace.home)
    facts = sample_facts(target_id, 1, workspace.clock.now())
    with pytest.raises(EvidenceDamaged, match="a disparu pendant l'enregistrement : rien n'a été enregistré"):
        record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=b"png")])
    assert not workspace.home.exists()


@pytest.mark.browser
def test_capture_command_when_the_workspace_is_deleted_mid_attempt(cli, site, tmp_path, monkeypatch):
    """A real attempt on the simulated site; the folder is deleted once the walk is over, before
    the files are kept (where the environment is read)."""
    home = tmp_path / "ws"
    assert cli("init").code == 0
    url = f"{site.base_url}/booking/create/4963"
    assert cli("case", "add", "Dupont", "--url", url, "--counter", COUNTER, "--allow-any-domain").code == 0
    collect_environment = capture.attempt.collect_environment

    def vanish_then_collect(*args, **kwargs):
        shutil.rmtree(home)
        return collect_environment(*args, **kwargs)

    monkeypatch.setattr(capture.attempt, "collect_environment", vanish_then_collect)
    result = cli("capture", "Dupont")
    assert result.code == 1, result
    assert result.err.splitlines()[-1] == (
        f"Erreur : l'espace de travail {home} a disparu pendant l'enregistrement : rien n'a été enregistré"
    )
    assert "fichiers enregistrés" not in result.out
    assert not home.exists()


def test_database_file_replaced_while_a_process_writes(workspace, tmp_path):
    """The database file deleted and another put in its place (a repair, a copy from a backup) while
    this process holds the old one open: its commits would go to the old file."""
    add_sample_case(workspace)
    database = workspace.home / "preuves.sqlite3"
    shutil.copy(database, tmp_path / "remplacante.sqlite3")
    database.unlink()
    shutil.copy(tmp_path / "remplacante.sqlite3", database)
    with pytest.raises(EvidenceDamaged, match="a été supprimée ou remplacée pendant l'écriture : rien n'a été enregistré"):
        records.add_correction(workspace, 2, "written into the old file")
