"""Plain SQL on the workspace's database, however it was opened: through a SQLAlchemy session, or through the
standard library's sqlite3 alone (quick_read.py), for a command that must answer at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 60_000  # how long a SQLite reader or writer waits for another process's write
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime keeps a time in SQLite


@dataclass(frozen=True)
class Reader:
    """`rows(sql, **params)` gives the rows of one query; parameters are named `:name` in the SQL."""

    rows: Callable[..., Sequence[Sequence[Any]]]
    times_as_text: bool  # SQLite keeps times as text, PostgreSQL as timestamps

    def value(self, sql: str, **params: Any) -> Any:
        """The one value a one-row, one-column query gives (a count, a minimum)."""
        ((found,),) = self.rows(sql, **params)
        return found

    def moment(self, value: datetime) -> Any:
        """A time as a query parameter, in the form the database keeps it (naive UTC, see models.UTCDateTime)."""
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime(SQLITE_TIME) if self.times_as_text else naive


def utc(value: str | datetime | None) -> datetime | None:
    """A time as a query gives it back (text from SQLite, naive from PostgreSQL), aware UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def session_reader(session: Session) -> Reader:
    from sqlalchemy import text

    return Reader(
        rows=lambda sql, **params: session.execute(text(sql), params).all(),
        times_as_text=session.get_bind().dialect.name == "sqlite",
    )
