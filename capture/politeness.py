"""Politeness towards the prefecture's servers: one attempt at a time per host, and a minimum
interval between two attempts on one host, across every process using the workspace — and on
PostgreSQL across every machine sharing the database (see `evidence.locks`). The interval is read
from the recorded captures, which every watcher shares.

A host is its name and, for a machine of this computer or of a private network, each address the
name resolves to: « localhost » and « 127.0.0.1 » are one server, not two. Public addresses are
left out on purpose: prefecture sites share hosting and CDN addresses, and keying them would make
every prefecture wait on every other.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


def local_addresses(host: str) -> frozenset[str]:
    """The loopback, private or link-local addresses `host` names (none for a public site)."""
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return frozenset()
    addresses = {ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers}
    return frozenset(str(address) for address in addresses if not address.is_global)


def same_server_hosts(workspace: Workspace, host: str) -> list[str]:
    """`host` and the other watched hosts that name the same local or private machine."""
    mine = local_addresses(host)
    if not mine:
        return [host]
    with workspace.reading() as session:
        known = set(session.scalars(select(Target.host).distinct()))
    return [host, *sorted(other for other in known - {host} if local_addresses(other) & mine)]


@contextmanager
def host_turn(workspace: Workspace, host: str) -> Iterator[None]:
    """Hold the host's locks (its name, its local addresses) for the length of one attempt, or
    refuse at once if someone holds one."""
    with ExitStack() as locks:
        for name in [host, *sorted(local_addresses(host) - {host})]:
            if not locks.enter_context(exclusive(workspace, name)):
                raise PolitenessRefusal(f"une tentative est déjà en cours sur {host}")
        yield


def last_attempt_on_host(workspace: Workspace, host: str) -> datetime | None:
    hosts = same_server_hosts(workspace, host)
    with workspace.reading() as session:
        return session.scalar(
            select(func.max(Capture.started_at)).join(Target).where(Target.host.in_(hosts))
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
