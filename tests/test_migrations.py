"""The schema is built by the real migrations, matches the models, and goes down and up again."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from evidence import schema, triggers
from evidence.database import make_engine
from evidence.models import Base
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from evidence.workspace_paths import DATABASE_URL_ENV
from tests.evidence_helpers import add_sample_case, raw_sql, record_sample_captures

pytestmark = pytest.mark.both_databases


@pytest.fixture
def empty_database(database, tmp_path) -> str:
    """The URL of an empty database of the test's kind."""
    return os.environ[DATABASE_URL_ENV] if database == "postgresql" else f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def test_migration_from_empty_matches_the_models(empty_database):
    engine = make_engine(empty_database)
    schema.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert triggers.missing_triggers(connection) == []
    assert schema.current_revision(engine) == schema.head_revision(engine)
    engine.dispose()


def test_downgrade_then_upgrade_round_trip(empty_database):
    engine = make_engine(empty_database)
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    with engine.connect() as connection:
        assert triggers.missing_triggers(connection) == []
    engine.dispose()


def test_workspace_survives_reopening_and_stays_verifiable(workspace):
    record_sample_captures(workspace, add_sample_case(workspace), 3)
    workspace.close()
    reopened = open_workspace(workspace.home)
    assert reopened.migrated_from is None
    assert verify_workspace(reopened).ok
    reopened.close()


def test_newer_schema_is_refused(cli, workspace):
    raw_sql(workspace, "UPDATE alembic_version SET version_num = 'f00dcafe'")
    result = cli("case", "list", home=workspace.home)
    assert result.code == 2
    assert result.err.strip() == (
        "Erreur : cet espace de travail a été créé par une version plus récente de Preuves RDV "
        "(schéma f00dcafe) : mettez l'outil à jour avant de l'utiliser"
    )


def test_older_workspace_is_migrated_by_any_command(cli, workspace):
    record_sample_captures(workspace, add_sample_case(workspace), 2)
    schema.downgrade(workspace.engine, "0001")
    workspace.close()
    result = cli("case", "list", "--json", home=workspace.home)
    assert result.code == 0
    assert result.err.strip() == "Espace de travail mis à jour (schéma 0001 → actuel)."
    assert schema.current_revision(workspace.engine) == schema.head_revision(workspace.engine)
    assert cli("verify", home=workspace.home).code == 0
