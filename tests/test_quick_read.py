"""`preuves status` reads a plain SQLite workspace with the standard library alone (evidence/quick_read.py), and
says exactly what the ordinary opening through SQLAlchemy says; anything not plain goes the ordinary way."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from capture.plan import PlannedTime, save_plan
from capture.settings import CaptureSettings
from capture.watch import PlanRunner, WatchSettings
from evidence.case_status import all_statuses
from evidence.plain_sql import session_reader
from evidence.purge import purge_case
from evidence.quick_read import read_quickly
from evidence.records import TargetSpec, add_case
from evidence.schema import downgrade
from evidence.workspace_paths import CONFIG_NAME, DATABASE_URL_ENV
from tests.dossier_helpers import add_letters
from tests.evidence_helpers import URL, add_sample_case, record_sample_captures
from tests.test_server_time import record

pytestmark = pytest.mark.both_databases


def varied_workspace(workspace, folder) -> None:
    """Dupont: three attempts (one with the server's clock 3 min 12 s off), two sent letters, a plan of three
    attempts, one of them missed; Martin: purged."""
    target_id = add_sample_case(workspace, "Dupont")
    record(workspace, target_id, [400, 192_000, None])
    add_letters(workspace, folder)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    save_plan(workspace, target_id, [
        PlannedTime(now + timedelta(hours=1), "morning", "regular"),
        PlannedTime(now + timedelta(days=1, hours=3), "midday", "regular", "accompanied"),
        PlannedTime(now + timedelta(days=2), "afternoon", "regular"),
    ])
    runner = PlanRunner(workspace, None, CaptureSettings(), WatchSettings())  # type: ignore[arg-type]  (no browser to mark)
    [first, *_] = runner.pending()
    runner.mark(first.id, "missed", "heure prévue dépassée de plus que le délai de grâce")
    martin, _ = add_case(workspace, "Martin", TargetSpec(URL + "0", "ezbooking"))
    record_sample_captures(workspace, martin.target_id, 2)
    purge_case(workspace, "Martin")


def ordinary(workspace) -> list[dict]:
    with workspace.reading() as session:
        statuses = all_statuses(session_reader(session), workspace.keys, workspace.clock.now())
    return json.loads(json.dumps(statuses))


def test_status_says_the_same_as_the_ordinary_opening(workspace, database, tmp_path, cli):
    varied_workspace(workspace, tmp_path)
    expected = ordinary(workspace)
    dupont, martin = expected
    assert (dupont["label"], dupont["attempts_done"], dupont["letters_sent"], dupont["attempts_planned"]) == (
        "Dupont", 3, 2, 2
    )
    assert (dupont["unattended_missed"], dupont["largest_clock_gap_ms"]) == (1, 192_000)
    assert datetime.fromisoformat(dupont["next_attempt"]) > datetime.now(UTC) + timedelta(days=1)
    assert (martin["label"], martin["warnings"], martin["purged"]["seq"] > 0) == ("effacé", [], True)

    quick = read_quickly(workspace.home, lambda reader, keys: all_statuses(reader, keys, datetime.now(UTC)))
    if database == "sqlite":
        assert json.loads(json.dumps(quick)) == expected
    else:
        assert quick is None  # PREUVES_DATABASE_URL names PostgreSQL: the ordinary opening reads it
    assert json.loads(cli("status", "--json", home=workspace.home).out) == expected


@pytest.mark.only_database("sqlite", reason="the quick read is only for the workspace's own SQLite file")
def test_what_is_not_plain_goes_the_ordinary_way(workspace, cli, monkeypatch):
    add_sample_case(workspace, "Dupont")
    statuses = lambda reader, keys: all_statuses(reader, keys, datetime.now(UTC))  # noqa: E731
    assert read_quickly(workspace.home, statuses) is not None

    # An older schema: the ordinary opening migrates it, and says so.
    downgrade(workspace.engine, "0011")
    assert read_quickly(workspace.home, statuses) is None
    result = cli("status", home=workspace.home)
    assert result.code == 0 and "Espace de travail mis à jour (schéma 0011 → actuel)." in result.err
    assert read_quickly(workspace.home, statuses) is not None

    # Another database named: never the folder's SQLite file.
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert read_quickly(workspace.home, statuses) is None
    monkeypatch.delenv(DATABASE_URL_ENV)

    # A configuration that does not read: the ordinary opening's one-line error.
    config = workspace.home / CONFIG_NAME
    config.write_text("[capture\n", encoding="utf-8")
    assert read_quickly(workspace.home, statuses) is None
    result = cli("status", home=workspace.home)
    assert result.code != 0 and "fichier de configuration invalide" in result.err and "Traceback" not in result.err


@pytest.mark.only_database("sqlite", reason="a damaged SQLite file")
def test_a_damaged_database_is_said_damaged(workspace, cli):
    add_sample_case(workspace, "Dupont")
    workspace.close()
    database = workspace.home / "preuves.sqlite3"
    data = bytearray(database.read_bytes())
    data[100:4096] = os.urandom(3996)  # the first page's schema, after the 100-byte header
    database.write_bytes(bytes(data))
    assert read_quickly(workspace.home, lambda reader, keys: all_statuses(reader, keys, datetime.now(UTC))) is None
    result = cli("status", home=workspace.home)
    assert result.code != 0 and "base de données endommagée" in result.err and "Traceback" not in result.err
