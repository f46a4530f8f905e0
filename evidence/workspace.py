"""The workspace: a folder holding `preuves.toml`, the SQLite database and `blobs/`.

Everything created here is owner-only (0700 folders, 0600 files): the workspace holds personal
data of vulnerable people. `PREUVES_DATABASE_URL` points the database elsewhere (PostgreSQL for
multi-user set-ups); the blobs and the configuration stay in the folder.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from evidence import journal, schema, tsa_defaults
from evidence.blobs import BlobStore
from evidence.clock import Clock, SystemClock
from evidence.database import make_engine, make_session_factory, read_session, write_session
from evidence.errors import WorkspaceError
from evidence.models import JournalEntry

CONFIG_NAME = "preuves.toml"
DATABASE_NAME = "preuves.sqlite3"
HOME_ENV = "PREUVES_HOME"
DATABASE_URL_ENV = "PREUVES_DATABASE_URL"

DEFAULT_CONFIG = """\
# Espace de travail Preuves RDV. Les valeurs commentées sont les valeurs par défaut.

[capture]
# Délai minimal entre deux tentatives sur un même site, en minutes (jamais moins de 2).
# min_interval_minutes = 10
# Durée maximale d'une tentative, en secondes.
# attempt_timeout_seconds = 90
# Chemin d'un Chromium précis (sinon : celui de Playwright, puis /usr/lib/chromium/chromium).
# chromium_path = ""

[watch]
# Sites différents surveillés en parallèle.
# max_parallel_hosts = 4
# Une tentative en retard de plus que ce délai (minutes) est notée « manquée ».
# grace_minutes = 30
# Relecture des plans, en secondes : nouveaux plans, tentatives laissées par une surveillance arrêtée.
# poll_seconds = 60

[alerts]
# Adresses Apprise à prévenir quand des créneaux apparaissent, par exemple
# urls = ["mailto://utilisateur:motdepasse@exemple.fr", "ntfy://mon-sujet"]
# urls = []

[letters]
# Taille maximale d'un courrier ou d'une preuve importés, en Mo.
# max_file_mb = 50
"""  # then the [anchors] section of `tsa_defaults.anchors_section`


def tool_version() -> str:
    try:
        return version("preuves-rdv")
    except PackageNotFoundError:
        return "0+unknown"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("preuves-rdv", appauthor=False))


def resolve_home(home: str | Path | None) -> Path:
    """--home, then PREUVES_HOME, then the platform's user data folder."""
    chosen = home or os.environ.get(HOME_ENV) or default_home()
    return Path(chosen).expanduser().resolve()


@dataclass
class Workspace:
    home: Path
    database_url: str
    config: dict[str, Any]
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    demo: bool
    clock: Clock = field(default_factory=SystemClock)
    migrated_from: str | None = None

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: all of it is kept, or none of it."""
        with write_session(self.sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction: every query in it sees the database as it was at the first one."""
        with read_session(self.sessions) as session:
            yield session

    def use_clock(self, clock: Clock) -> None:
        """Only a demo workspace may run on another clock than the system's."""
        if not self.demo and not isinstance(clock, SystemClock):
            raise WorkspaceError(
                "horloge simulée refusée : seul un espace de démonstration peut en utiliser une"
            )
        self.clock = clock

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        if not isinstance(value, dict):
            raise WorkspaceError(f"{CONFIG_NAME} : la section [{name}] est mal formée")
        return value

    def close(self) -> None:
        self.engine.dispose()


def _database_url(home: Path) -> str:
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{home / DATABASE_NAME}"


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _touch_private(path: Path, content: str | None = None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if content:
            handle.write(content)


def _read_config(home: Path) -> dict[str, Any]:
    path = home / CONFIG_NAME
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path} : fichier de configuration invalide ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path} : fichier de configuration invalide (pas en UTF-8)") from exc
    except OSError as exc:
        raise WorkspaceError(f"{path} : lecture impossible ({exc.strerror})") from exc


def _workspace_is_demo(sessions: sessionmaker[Session]) -> bool:
    """The demo flag is read from the journal's first entry, not from an editable file."""
    with sessions() as session:
        first = session.get(JournalEntry, 1)
        if first is None or first.kind != "workspace.created":
            return False
        return bool(json.loads(first.payload)["data"].get("demo", False))


def init_workspace(home: str | Path | None = None, *, demo: bool = False) -> tuple[Workspace, bool]:
    """Create (or re-open) a workspace and bring its schema to the newest version.

    Returns the workspace and whether it was newly created. Idempotent.
    """
    root = resolve_home(home)
    try:
        _make_private_dir(root)
        _make_private_dir(root / "blobs")
        if not (root / CONFIG_NAME).exists():
            _touch_private(root / CONFIG_NAME, DEFAULT_CONFIG + tsa_defaults.anchors_section(root, demo=demo))
        url = _database_url(root)
        if url.startswith("sqlite") and not (root / DATABASE_NAME).exists():
            _touch_private(root / DATABASE_NAME)
    except OSError as exc:
        raise WorkspaceError(f"impossible de créer l'espace de travail {root} : {exc.strerror}") from exc
    engine = make_engine(url)
    if schema.current_revision(engine) is None:
        schema.upgrade(engine)
    else:
        schema.ensure_current(engine)
    sessions = make_session_factory(engine)
    created = False
    with write_session(sessions) as session:
        if journal.head(session).seq == 0:
            journal.append(
                session,
                "workspace.created",
                {"demo": demo, "tool_version": tool_version(), "schema": schema.head_revision(engine)},
                SystemClock().now(),
            )
            created = True
    workspace = Workspace(
        home=root,
        database_url=url,
        config=_read_config(root),
        engine=engine,
        sessions=sessions,
        blobs=BlobStore(root),
        demo=_workspace_is_demo(sessions),
    )
    if not created and demo != workspace.demo:
        workspace.close()
        kind = "de démonstration" if workspace.demo else "réel"
        raise WorkspaceError(f"{root} est déjà un espace de travail {kind}")
    return workspace, created


def open_workspace(home: str | Path | None = None) -> Workspace:
    """Open an existing workspace, migrating an older schema; refuse a newer one."""
    root = resolve_home(home)
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(
            f"aucun espace de travail dans {root} : lancez « preuves init --home {root} »"
        )
    config = _read_config(root)
    url = _database_url(root)
    engine = make_engine(url)
    try:
        migrated_from = schema.ensure_current(engine)
    except WorkspaceError:
        engine.dispose()
        raise
    sessions = make_session_factory(engine)
    return Workspace(
        home=root,
        database_url=url,
        config=config,
        engine=engine,
        sessions=sessions,
        blobs=BlobStore(root),
        demo=_workspace_is_demo(sessions),
        migrated_from=migrated_from,
    )
