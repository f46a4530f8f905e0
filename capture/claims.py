"""Who holds a planned attempt while it is performed.

A watcher (or a person's assisted capture) claims a plan row — planned → running — with one
conditional UPDATE naming itself "host:pid:nonce", so two of them never take the same attempt; the
capture then marks it done in the same transaction as it is recorded. A claim whose owner died is
given back to the plan.
"""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import case

from evidence.models import PlannedAttempt

# The status a claimed row goes back to: an accompanied attempt already reminded stays so.
BACK_TO_PLAN = case((PlannedAttempt.reminded_at.is_not(None), "reminded"), else_="planned")


def claimer_identity() -> str:
    """This process, told apart from other watchers and captures on the same database."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_died(claimed_by: str | None) -> bool:
    """Whether the process named in a claim is a process of this machine that no longer runs."""
    host, _, rest = (claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only its claim's age tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
