"""Reading a workspace's SQLite database with the standard library alone, for a command that must answer at
once (`preuves status`): loading SQLAlchemy would take about half of its time (docs/performance.md).

Only the plain case is read this way: the workspace's own SQLite file (no PREUVES_DATABASE_URL), readable, at the
newest schema, with a configuration that reads. For anything else, or any error while reading, `read_quickly`
gives None and the command opens the workspace the ordinary way, which migrates an older schema, refuses a newer
one, and explains a damaged or missing database.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from evidence.plain_sql import SQLITE_BUSY_TIMEOUT_MS, Reader
from evidence.schema import VERSION_TABLE, shipped_head
from evidence.sealing import KEYS_DIR, KeyStore
from evidence.workspace_paths import CONFIG_NAME, database_url, resolve_home, sqlite_file

_Read = TypeVar("_Read")


def read_quickly(home: str | Path | None, read: Callable[[Reader, KeyStore], _Read]) -> _Read | None:
    """`read(reader, keys)` in one read transaction on the workspace's SQLite file, opened read-only; None when
    the workspace is not the plain case, or the read fails (the ordinary opening then says why)."""
    root = resolve_home(home)
    database = sqlite_file(root, database_url(root))
    if database is None or not database.is_file() or not _config_reads(root / CONFIG_NAME):
        return None
    try:
        connection = sqlite3.connect(
            f"{database.as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")  # every query sees the database as it was at the first one
        versions = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        if versions != [(shipped_head(),)]:
            return None
        reader = Reader(rows=lambda sql, **params: connection.execute(sql, params).fetchall(), times_as_text=True)
        return read(reader, KeyStore(root / KEYS_DIR))
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _config_reads(path: Path) -> bool:
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return True
