"""Shared fixtures: a migrated temporary workspace (on SQLite, or on PostgreSQL too for the
modules marked `both_databases`), a CLI runner, the simulated site, a Chromium."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, make_url, text

from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from evidence import schema, tsa_defaults
from evidence.clock import SimulatedClock
from evidence.database import make_engine
from evidence.workspace import Workspace, init_workspace
from evidence.workspace_paths import DATABASE_NAME, DATABASE_URL_ENV
from preuves.cli import run
from simsite.server import SimulatedSite
from tests.postgres_server import find_pg_bin, postgres_server
from tests.year_ahead import (  # noqa: F401 (pytest_collection_modifyitems, a hook: starts that run)
    DAYS_AHEAD_ENV,
    PARIS,
    moved_instant,
    pytest_collection_modifyitems,
)

DATABASES = ("sqlite", "postgresql")
# The fixtures whose workspace starts from a database already at the newest schema (see _migrated_home).
WORKSPACE_FIXTURES = frozenset({"workspace", "demo_workspace"})


def pytest_configure(config: pytest.Config) -> None:
    days_ahead = int(os.environ.get(DAYS_AHEAD_ENV) or 0)
    if days_ahead:
        # The whole run believes it is `days_ahead` days later, at 00:20 in Paris, when Paris and UTC disagree
        # on the date (see test_a_year_ahead.py). The clock moves on from there, and monotonic time is
        # untouched, so timeouts still work: only "today" and the hour have changed.
        traveller = time_machine.travel(moved_instant(datetime.now(UTC), days_ahead), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)
    config.addinivalue_line(
        "markers", "both_databases: the module's tests that use a workspace run on SQLite and on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "only_database(name, reason): in a both_databases module, a test that runs on one of them, and why"
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    days_ahead = int(os.environ.get(DAYS_AHEAD_ENV) or 0)
    if not days_ahead:
        return None
    now = datetime.now(UTC)
    paris = now.astimezone(PARIS)
    return f"clock moved {days_ahead} days ahead: today is {paris:%Y-%m-%d %H:%M} in Paris ({now:%Y-%m-%d %H:%M} UTC)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """In a `both_databases` module, every test using the `database` fixture (hence `workspace`)
    runs once per database: test_x[sqlite], test_x[postgresql]."""
    if "database" not in metafunc.fixturenames or not metafunc.definition.get_closest_marker("both_databases"):
        return
    only = metafunc.definition.get_closest_marker("only_database")
    if only is not None and (only.args[0] not in DATABASES or not only.kwargs.get("reason")):
        raise pytest.UsageError(f"{metafunc.definition.nodeid} : only_database(nom, reason=...) attendu")
    metafunc.parametrize("database", [only.args[0]] if only else list(DATABASES), indirect=True)


@pytest.fixture(scope="session", autouse=True)
def no_public_timestamp_authority() -> Iterator[None]:
    """The workspaces the tests create name no public timestamp authority: no test may contact one
    (the tests that anchor configure a local OpenSSL authority, tests/tsa_helpers.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tsa_defaults, "PUBLIC_AUTHORITIES", ())
        yield


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL server for the run, started by the first test that needs it."""
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL absent : apt-get install postgresql")
    with postgres_server() as url:
        yield url


def _on_server(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE refuses transactions
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _named(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    """The name of a PostgreSQL database migrated once to the newest schema, the template of the
    workspace fixtures' databases."""
    name = "migrated_template"
    _on_server(postgres_url, f"CREATE DATABASE {name}")
    _migrate(_named(postgres_url, name))
    return name


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once to the newest schema, copied into each workspace fixture's home."""
    path = tmp_path_factory.mktemp("migrated") / DATABASE_NAME
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def postgres_database(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A new database, named in PREUVES_DATABASE_URL for this test and its child processes: a copy of
    the migrated template for a test that uses a workspace fixture, empty otherwise."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    migrated = WORKSPACE_FIXTURES & set(request.fixturenames)
    template = f" TEMPLATE {request.getfixturevalue('migrated_postgres')}" if migrated else ""
    _on_server(postgres_url, f"CREATE DATABASE {name}{template}")
    url = _named(postgres_url, name)
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    yield url
    _on_server(postgres_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """The database of the test's workspaces: "sqlite" unless parametrized (see
    pytest_generate_tests); "postgresql" names a fresh PostgreSQL database in the environment."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        request.getfixturevalue("postgres_database")
    return name


def _migrated_home(home: Path, database: str, migrated_sqlite: Path) -> Path:
    """`home`, its database already at the newest schema: on SQLite a copy of the run's migrated file (on
    PostgreSQL, postgres_database copied the migrated template). Migrating each test's workspace from empty
    cost a tenth of a second on SQLite, a second on PostgreSQL; the migrations themselves run from empty in
    test_migrations.py and in every test that runs `preuves init`."""
    if database == "sqlite":
        home.mkdir(mode=0o700)
        shutil.copyfile(migrated_sqlite, home / DATABASE_NAME)
        (home / DATABASE_NAME).chmod(0o600)
    return home


@pytest.fixture
def workspace(database: str, tmp_path: Path, migrated_sqlite: Path) -> Iterator[Workspace]:
    """A migrated workspace in <tmp>/ws, on the test's database."""
    ws, _ = init_workspace(_migrated_home(tmp_path / "ws", database, migrated_sqlite))
    yield ws
    ws.close()


@pytest.fixture
def demo_workspace(database: str, tmp_path: Path, migrated_sqlite: Path) -> Iterator[Workspace]:
    """A migrated demo workspace on a simulated clock (Sunday 29 November 2026, 13:00 in Paris)."""
    ws, _ = init_workspace(_migrated_home(tmp_path / "demo", database, migrated_sqlite), demo=True)
    ws.use_clock(SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC)))
    yield ws
    ws.close()


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `preuves --home <tmp>/ws ARGS…` in-process and return its exit code and output."""

    def invoke(*args: str, home: Path | None = None) -> CliResult:
        capsys.readouterr()
        code = run(["--home", str(home or tmp_path / "ws"), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


# --- the local simulated booking site and a shared Chromium -------------------------------


@pytest.fixture(scope="session")
def site_server() -> Iterator[SimulatedSite]:
    """One simulated site for the whole run; at the end its log must show that the tool never
    asked for a booking-completion path and never submitted a text field."""
    with SimulatedSite(mode="noslot") as server:
        yield server
        assert server.completion_requests() == []
        assert server.submitted_text_fields() == []


@pytest.fixture
def site(site_server: SimulatedSite) -> Iterator[SimulatedSite]:
    site_server.mode = "noslot"
    yield site_server
    site_server.mode = "noslot"


@pytest.fixture
def site_on_demo_clock(site: SimulatedSite, demo_workspace: Workspace) -> Iterator[SimulatedSite]:
    """The site's `Date` header follows the demo workspace's simulated clock, as in `preuves demo`:
    otherwise each capture would show the real today as the server's time, days away from the attempt's."""
    site.clock = demo_workspace.clock.now
    yield site
    site.clock = None


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserService]:
    with BrowserService() as service:
        yield service


@pytest.fixture
def fast_settings() -> CaptureSettings:
    """Test settings: no politeness wait between tests' attempts, a short attempt limit."""
    return CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=12)
