"""Where a workspace's parts are: its folder, its configuration and its database (without SQLAlchemy, so that
quick_read.py finds them without loading it)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from evidence.names import HOME_ENV

CONFIG_NAME = "preuves.toml"
DATABASE_NAME = "preuves.sqlite3"
DATABASE_URL_ENV = "PREUVES_DATABASE_URL"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("preuves-rdv", appauthor=False))


def resolve_home(home: str | Path | None) -> Path:
    """--home, then PREUVES_HOME, then the platform's user data folder."""
    chosen = home or os.environ.get(HOME_ENV) or default_home()
    return Path(chosen).expanduser().resolve()


def database_url(home: Path) -> str:
    """The database of the workspace in `home`: PREUVES_DATABASE_URL, else its SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{home / DATABASE_NAME}"


def sqlite_file(home: Path, url: str) -> Path | None:
    """The workspace's own SQLite file, when `url` names it."""
    return home / DATABASE_NAME if url == f"sqlite:///{home / DATABASE_NAME}" else None
