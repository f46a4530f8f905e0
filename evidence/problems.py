"""One problem found by a verification, named so that a person can find the item."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

ROW_BATCH = 500


@dataclass(frozen=True)
class Problem:
    item: str
    detail: str
    file: str | None = None

    def line(self) -> str:
        where = f" [{self.file}]" if self.file else ""
        return f"{self.item} : {self.detail}{where}"

    def to_json(self) -> dict[str, str | None]:
        """The one shape of a problem in every `verify --json` (workspace, dossier)."""
        return {"item": self.item, "detail": self.detail, "file": self.file}


def readable_rows(
    session: Session, model: Any, unreadable: Callable[[int, Exception], None]
) -> Iterator[Any]:
    """Every row of `model`, by id. A row whose values cannot even be read (a date that is no
    date, written behind the tool's back) goes to `unreadable` instead of stopping the check."""
    ids = list(session.scalars(select(model.id).order_by(model.id)))
    for start in range(0, len(ids), ROW_BATCH):
        batch = ids[start : start + ROW_BATCH]
        try:
            rows = session.scalars(select(model).where(model.id.in_(batch)).order_by(model.id)).all()
        except (ValueError, TypeError, OverflowError):
            rows = []
            for row_id in batch:
                try:
                    rows.append(session.scalars(select(model).where(model.id == row_id)).one())
                except (ValueError, TypeError, OverflowError) as exc:
                    unreadable(row_id, exc)
        yield from rows
