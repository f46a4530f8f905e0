"""Politeness towards the prefecture's servers: one attempt at a time per host, and a minimum
interval between two attempts on one host, across every process using the workspace.

The one-at-a-time lock is a file lock in the workspace folder; on PostgreSQL it is also a lock
of the database (an advisory lock), so that watchers on different machines sharing one database
take turns too. The interval is read from the recorded captures, which every watcher shares.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from evidence.errors import PreuvesError
from evidence.localtime import paris_time
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
    path = lock_file_for(workspace, host)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PolitenessRefusal(f"une tentative est déjà en cours sur {host}") from None
        with _database_turn(workspace, host):
            yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _database_turn(workspace: Workspace, host: str) -> Iterator[None]:
    """On PostgreSQL, the host's advisory lock, held on a connection of its own for the attempt."""
    if workspace.engine.dialect.name != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(f"preuves-host:{host}".encode()).digest()[:8], "big", signed=True)
    with workspace.engine.connect() as connection:
        if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
            raise PolitenessRefusal(f"une tentative est déjà en cours sur {host} (autre machine)")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


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


def lock_file_for(workspace: Workspace, host: str) -> Path:
    return workspace.home / "locks" / (re.sub(r"[^a-z0-9.-]", "_", host.lower()) + ".lock")
