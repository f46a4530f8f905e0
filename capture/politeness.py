"""Politeness towards the prefecture's servers: one attempt at a time per host, and a minimum
interval between two attempts on one host, across every process using the workspace — and on
PostgreSQL across every machine sharing the database (see `evidence.locks`). The interval is read
from the recorded captures, which every watcher shares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, select

from evidence.errors import PreuvesError
from evidence.localtime import paris_time
from evidence.locks import exclusive
from evidence.models import Capture, Target
from evidence.workspace import Workspace


class PolitenessRefusal(PreuvesError):
    """An attempt now would be impolite to the site (one running, or the last one too recent)."""

    exit_code = 1

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@contextmanager
def host_turn(workspace: Workspace, host: str) -> Iterator[None]:
    """Hold the host's lock for the length of one attempt, or refuse at once if someone holds it."""
    with exclusive(workspace, host) as taken:
        if not taken:
            raise PolitenessRefusal(f"une tentative est déjà en cours sur {host}")
        yield


def last_attempt_on_host(workspace: Workspace, host: str) -> datetime | None:
    with workspace.reading() as session:
        return session.scalar(
            select(func.max(Capture.started_at)).join(Target).where(Target.host == host)
        )


def check_interval(workspace: Workspace, host: str, min_interval: timedelta) -> None:
    last = last_attempt_on_host(workspace, host)
    if last is None:
        return
    retry_at = last + min_interval
    if workspace.clock.now() < retry_at:
        raise PolitenessRefusal(
            f"dernière tentative sur {host} trop récente : prochaine tentative possible "
            f"le {paris_time(retry_at)}",
            retry_at,
        )
