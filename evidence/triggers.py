"""Database triggers that make evidence tables append-only (SQLite and PostgreSQL).

The migrations create them; `verify` checks they are still there. A trigger can be dropped by
someone with write access to the database, which is why `verify` also recomputes the hash chain.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from evidence.models import APPEND_ONLY_TABLES

PG_FUNCTION = "preuves_refuse_change"


def trigger_names(table: str) -> tuple[str, ...]:
    return (f"{table}_no_update", f"{table}_no_delete")


def create_statements(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    statements: list[str] = []
    if dialect == "postgresql":
        statements.append(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
    for table in tables:
        for name, operation in zip(trigger_names(table), ("UPDATE", "DELETE"), strict=True):
            if dialect == "postgresql":
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
                )
            else:
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
    return statements


def drop_statements(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    on_table = " ON {table}" if dialect == "postgresql" else ""
    return [
        f"DROP TRIGGER IF EXISTS {name}" + on_table.format(table=table)
        for table in tables
        for name in trigger_names(table)
    ]


def missing_triggers(connection: Connection) -> list[str]:
    """Names of the append-only triggers that are absent from the database."""
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    present = set(connection.execute(text(query)).scalars())
    expected = [name for table in APPEND_ONLY_TABLES for name in trigger_names(table)]
    return [name for name in expected if name not in present]
