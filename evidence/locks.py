"""Named locks held across every process using a workspace — and, on PostgreSQL, every machine.

A lock is a file lock in the workspace folder's `locks/` (the processes of one machine) and, on
PostgreSQL, an advisory lock of the database (the machines sharing it). It is never waited for:
`exclusive` says at once whether the lock was taken, so the caller can refuse or skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from evidence.workspace import Workspace


def lock_file_for(workspace: Workspace, name: str) -> Path:
    return workspace.home / "locks" / (re.sub(r"[^a-z0-9.-]", "_", name.lower()) + ".lock")


@contextmanager
def exclusive(workspace: Workspace, name: str) -> Iterator[bool]:
    """Yield True while holding the lock `name`, or False at once if someone else holds it."""
    path = lock_file_for(workspace, name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held_here = True
        except BlockingIOError:
            held_here = False
        if not held_here:
            yield False
        else:
            with _database_lock(workspace, name) as taken:
                yield taken
    finally:
        os.close(fd)  # releases the file lock


@contextmanager
def _database_lock(workspace: Workspace, name: str) -> Iterator[bool]:
    """On PostgreSQL, the advisory lock of `name`, held on a connection of its own."""
    if workspace.engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(f"preuves:{name}".encode()).digest()[:8], "big", signed=True)
    with workspace.engine.connect() as connection:
        taken = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()  # the lock belongs to the connection, not to a transaction left open
        try:
            yield taken
        finally:
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
