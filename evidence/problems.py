"""One problem found by a verification, named so that a person can find the item."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    item: str
    detail: str
    file: str | None = None

    def line(self) -> str:
        where = f" [{self.file}]" if self.file else ""
        return f"{self.item} : {self.detail}{where}"
