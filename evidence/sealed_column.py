"""The column type of sealed personal text (see sealing.py): it stores the sealed form and, as rows are read,
opens it with the workspace's keys, which the engine's dialect carries (see `attach`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect

from evidence.sealing import ERASED, PREFIX, KeyStore, SealedText, stored

_KEYSTORE_ATTRIBUTE = "preuves_keystore"


def attach(engine: Engine, keys: KeyStore) -> None:
    """Let the engine's sealed columns read with `keys` (the dialect is the engine's own)."""
    setattr(engine.dialect, _KEYSTORE_ATTRIBUTE, keys)


def opened(dialect: Dialect, record: dict[str, Any]) -> dict[str, Any]:
    """A row's description (as the journal holds it) with its sealed values opened, to be shown."""
    return {name: SealedString().process_result_value(value, dialect) if isinstance(value, str) else value
            for name, value in record.items()}


class SealedString(TypeDecorator[str]):
    """A text column that may hold sealed values: VARCHAR(length) on SQLite, which does not enforce
    lengths; TEXT on PostgreSQL, which does (a sealed value is longer than its text)."""

    impl = String
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or self.length is None:
            return Text()
        return String(self.length)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return stored(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        keys: KeyStore | None = getattr(dialect, _KEYSTORE_ATTRIBUTE, None)
        if keys is not None:
            return keys.shown(value)
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        return SealedText(ERASED, value, erased=True)
