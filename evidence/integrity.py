"""The database's own integrity, checked before anything is read from it.

SQLite: `PRAGMA integrity_check` reads every page, b-tree and index (a page overwritten on disk is
found here, where reading the rows might only fail later, or not at all). PostgreSQL keeps its
files to itself: when the `amcheck` extension is installed, every b-tree index of the database's
tables is checked with `bt_index_check` (what a damaged page most often breaks); without it, only
the data is checked (hash chain, rows, journal copy), which is said.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

SQLITE_MESSAGES_KEPT = 5
# What SQLite says of a damaged file, in French (the rest of its messages are kept as they are).
_SQLITE_DAMAGE = {
    "database disk image is malformed": "le fichier de la base est abîmé",
    "file is not a database": "le fichier n'est pas une base SQLite",
}


@dataclass
class IntegrityReport:
    damage: list[str] = field(default_factory=list)  # empty: the database's structure is sound
    note: str | None = None  # what could not be checked


def check_database(connection: Connection) -> IntegrityReport:
    if connection.dialect.name == "postgresql":
        return _check_postgresql(connection)
    return _check_sqlite(connection)


def _check_sqlite(connection: Connection) -> IntegrityReport:
    try:
        found = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
    except DBAPIError as exc:
        return IntegrityReport([damage_reason(exc)])
    if found == ["ok"]:
        return IntegrityReport()
    return IntegrityReport(found[:SQLITE_MESSAGES_KEPT] + _more(len(found) - SQLITE_MESSAGES_KEPT))


def _check_postgresql(connection: Connection) -> IntegrityReport:
    installed = connection.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'"))
    if not installed:
        return IntegrityReport(
            note="PostgreSQL : extension amcheck absente, la structure des index n'a pas été contrôlée "
            "(« CREATE EXTENSION amcheck » par l'administrateur de la base)"
        )
    indexes = connection.execute(
        text(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = current_schema() ORDER BY c.relname"
        )
    ).all()
    damage = []
    for oid, name in indexes:
        try:
            with connection.begin_nested():
                connection.execute(text("SELECT bt_index_check(:oid)"), {"oid": oid})
        except DBAPIError as exc:
            damage.append(f"index {name} : {damage_reason(exc)}")
    return IntegrityReport(damage)


def says_damaged(exc: Exception) -> bool:
    """Whether a database error is one a damaged SQLite file gives."""
    return damage_reason(exc) in _SQLITE_DAMAGE.values()


def damage_reason(exc: Exception) -> str:
    """The first line of a database error, in French when it is one a damaged file gives."""
    line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return _SQLITE_DAMAGE.get(line, line)


def _more(count: int) -> list[str]:
    return [f"… et {count} autre(s) défaut(s)"] if count > 0 else []
