"""Engine and session factories (made by functions, never at import time).

SQLite is the embedded default: WAL so that readers (a dossier build, `verify`) never block the
watcher, a busy timeout instead of "database is locked" failures, full fsync on commit, and
write transactions opened with BEGIN IMMEDIATE so that two writers queue instead of failing when
both try to extend the journal. A read transaction sees one snapshot on either database (on
PostgreSQL, READ COMMITTED would give each statement a newer one).

A workspace on read-only media (a copy on a DVD or a locked USB key, a client's export checked by
a lawyer) is opened read-only: SQLite's `mode=ro`, and `immutable=1` unless a write-ahead log was
copied along (SQLite would then ignore what it holds), so that nothing is created beside the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from evidence.errors import WorkspaceError
from evidence.integrity import damage_reason
from evidence.plain_sql import SQLITE_BUSY_TIMEOUT_MS
from evidence.workspace_paths import DATABASE_URL_ENV

# The largest row id of every database we run on (a PostgreSQL INTEGER): a larger number names no row.
MAX_ROW_ID = 2**31 - 1
_Row = TypeVar("_Row")
_BEGIN_MODE = "preuves_begin_mode"


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for `url`; with `read_only` (SQLite only), one that never writes nor creates a file."""
    if url.startswith("sqlite"):
        if read_only:
            url = _read_only_sqlite_url(Path(make_url(url).database or ""))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _configure_read_only_sqlite if read_only else _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _read_only_sqlite_url(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    immutable = "" if wal.exists() and wal.stat().st_size else "&immutable=1"
    return f"sqlite:///file:{quote(str(path))}?mode=ro{immutable}&uri=true"


def _configure_read_only_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let us issue BEGIN ourselves (pysqlite's implicit transactions cannot do BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    # What is deleted or replaced (a purged applicant's identity) is overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def require_reachable(engine: Engine) -> None:
    """Connect once to a database server: one stopped, or a wrong address in the URL, is said so, not as a
    damaged database (it damages nothing, and `preuves repair` can do nothing for it)."""
    try:
        engine.connect().close()
    except OperationalError as exc:
        raise WorkspaceError(
            f"base PostgreSQL injoignable ({damage_reason(exc)}) : vérifiez {DATABASE_URL_ENV} et que le "
            "serveur est démarré"
        ) from exc


def get_row(session: Session, model: type[_Row], row_id: int) -> _Row | None:
    """`session.get`, where a number no row can have (a typo: 99999999999999999999) is simply not found,
    instead of overflowing inside the query."""
    return session.get(model, row_id) if abs(row_id) <= MAX_ROW_ID else None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One read transaction on one snapshot: SQLite's deferred BEGIN takes it at the first read;
    PostgreSQL needs REPEATABLE READ (never refused for a transaction that only reads)."""
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One write transaction: committed on success, rolled back (leaving nothing) on any error."""
    with factory() as session:
        session.connection(execution_options={_BEGIN_MODE: "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
