"""Politeness towards the prefecture's servers: one attempt at a time per host, a minimum interval
between two attempts on one host, and growing pauses while an anti-bot service (Cloudflare) refuses
the host to us — across every process using the workspace, and on PostgreSQL across every machine
sharing the database (see `evidence.locks`).

Both the interval and the pauses are read from the recorded captures, which every watcher shares: a
watcher that restarts, or another one, knows at once that the site refused the last attempts. After
the n-th refusal in a row (block or rate limit, `PageObservations.block`), the host rests for
`block_pause` × 2ⁿ⁻¹, at most `MAX_BLOCK_PAUSE`, and never less than the interval. One attempt that
is not refused ends the episode.

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
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from evidence.errors import PreuvesError
from evidence.localtime import paris_time
from evidence.locks import exclusive
from evidence.models import Capture, Target
from evidence.observations import PageObservations
from evidence.workspace import Workspace

MAX_BLOCK_PAUSE = timedelta(hours=24)
BLOCK_KINDS = {"blocked": "site bloqué par Cloudflare", "rate-limited": "trop de requêtes selon Cloudflare"}
# How far back the refusals in a row are counted: the pause stops growing long before.
_MAX_COUNTED = 20


class PolitenessRefusal(PreuvesError):
    """An attempt now would be impolite to the site (one running, the last one too recent, or the site
    refusing us for now)."""

    exit_code = 1

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass(frozen=True)
class BlockEpisode:
    """The anti-bot refusals in a row on a host, up to its latest capture."""

    refusals: int
    last_refused_at: datetime | None
    kind: str | None
    """"blocked" or "rate-limited", as the latest refusal said."""

    def pause(self, first_pause: timedelta, min_interval: timedelta) -> timedelta:
        """How long the host rests after these refusals: doubled at each one, within the bounds."""
        if not self.refusals:
            return timedelta(0)
        growing = first_pause * 2 ** min(self.refusals - 1, 16)
        return max(min(growing, MAX_BLOCK_PAUSE), min_interval)


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


def block_episode(workspace: Workspace, host: str, until_capture: int | None = None) -> BlockEpisode:
    """The refusals in a row among the host's latest captures (up to `until_capture`, if given)."""
    query = select(Capture.id, Capture.started_at, Capture.observations).join(Target).where(Target.host == host)
    if until_capture is not None:
        query = query.where(Capture.id <= until_capture)
    query = query.order_by(Capture.started_at.desc(), Capture.id.desc()).limit(_MAX_COUNTED)
    with workspace.reading() as session:
        rows = session.execute(query).all()
    refused = []
    for row in rows:
        block = PageObservations.from_json(row.observations).block
        if block is None:
            break
        refused.append((row.started_at, block))
    if not refused:
        return BlockEpisode(0, None, None)
    return BlockEpisode(len(refused), refused[0][0], refused[0][1])


def check_interval(
    workspace: Workspace, host: str, min_interval: timedelta, block_pause: timedelta | None = None
) -> None:
    """Refuse an attempt on `host` before the interval since the last one, or, while the site refuses
    us (given `block_pause`), before the pause the refusals in a row call for."""
    last = last_attempt_on_host(workspace, host)
    if last is None:
        return
    retry_at = last + min_interval
    episode = block_episode(workspace, host) if block_pause is not None else BlockEpisode(0, None, None)
    if episode.last_refused_at is not None and block_pause is not None:
        rest_until = episode.last_refused_at + episode.pause(block_pause, min_interval)
        if workspace.clock.now() < rest_until and rest_until >= retry_at:
            refusals = "refus" if episode.refusals == 1 else "refus de suite"
            raise PolitenessRefusal(
                f"{host} refuse nos tentatives ({BLOCK_KINDS.get(episode.kind or '', episode.kind)}, "
                f"{episode.refusals} {refusals}) : pause jusqu'au {paris_time(rest_until)}",
                rest_until,
            )
    if workspace.clock.now() < retry_at:
        raise PolitenessRefusal(
            f"dernière tentative sur {host} trop récente : prochaine tentative possible "
            f"le {paris_time(retry_at)}",
            retry_at,
        )


def starts_block_episode(workspace: Workspace, capture: Capture, host: str) -> bool:
    """Whether this recorded capture is the host's first refusal after an attempt that was not refused."""
    return block_episode(workspace, host, until_capture=capture.id).refusals == 1 and (
        PageObservations.from_json(capture.observations).block is not None
    )

