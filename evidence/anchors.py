"""Independent time anchors: RFC 3161 timestamps over the journal's Merkle root.

A hash chain kept in the same database only shows tampering against a copy of its head kept
elsewhere. A timestamp authority's token over the Merkle root of the first n journal entries lets
a third party check that those entries existed, unchanged, at the token's time (eIDAS art. 41: a
qualified timestamp is presumed accurate).

`anchor_now` queues one request per main authority for the journal as it is, then tries every
pending request of theirs; `retry_pending` only retries; `anchor_if_due` (the watchers' daily
anchor, also run by each `watch --once` pass, and `preuves dossier`'s) queues only for the
authorities last asked long enough ago, and retries. A fallback authority (`fallback = true`) is
asked, in the order of the configuration, only when no main authority has a token for the journal
as it is; once one has, the fallbacks' pending requests are cancelled. The network is used outside
any database transaction, and no capture ever waits on it: without network a request stays pending
and the next run retries it. A newer request for an authority supersedes its older pending one: a
token over a larger tree, obtained at the same moment, proves strictly more.

A kept token is two artefacts (the TimeStampResp as the authority sent it, and a copy of the
configured root certificates for readers of a dossier), an `Anchor` row and one
"anchor.recorded" journal entry, written in one transaction.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evidence import journal
from evidence.anchor_models import Anchor, AnchorRequest
from evidence.anchor_proofs import journal_tree
from evidence.errors import BadInput, WorkspaceError
from evidence.models import JournalEntry, iso
from evidence.records import NewArtefact, artefact_rows, store_blobs
from evidence.timestamps import TokenError, TokenFacts, check_token, parse_certificates
from evidence.tsa_client import REPLY_TYPE, TsaRefused, TsaUnreachable, ask_for_token
from evidence.workspace import CONFIG_NAME, Workspace

ANCHOR_ENTRY = "anchor.recorded"
TOKEN_KIND = "timestamp_token"
CA_KIND = "tsa_certificates"
DEFAULT_TIMEOUT_S = 20
# What a dossier waits, at most, for each authority before it is built without a new token.
DOSSIER_TIMEOUT_S = 10
# How old an authority's last request must be for `anchor_if_due` to queue a new one: short of a
# day, so that a daily job, or a timer every few minutes, anchors once a day.
ANCHOR_EVERY = timedelta(hours=20)
MAX_TIMEOUT_S = 300
NOT_CONFIGURED = (
    "aucune autorité d'horodatage configurée : ajoutez-en dans la section « anchors » de "
    f"{CONFIG_NAME} (voir docs/verify-by-hand.md)"
)


@dataclass(frozen=True)
class Authority:
    """A timestamp authority of the configuration, and the root certificates that vouch for it."""

    name: str
    url: str
    ca_file: Path
    fallback: bool = False


@dataclass(frozen=True)
class AnchorSettings:
    """The [anchors] section of preuves.toml."""

    authorities: tuple[Authority, ...] = ()
    timeout_s: int = DEFAULT_TIMEOUT_S

    @property
    def main(self) -> tuple[Authority, ...]:
        return tuple(a for a in self.authorities if not a.fallback)

    @property
    def fallbacks(self) -> tuple[Authority, ...]:
        return tuple(a for a in self.authorities if a.fallback)

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> AnchorSettings:
        section = workspace.section("anchors")
        entries = section.get("tsa", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise _config_error("« tsa » doit être une liste de tables {name, url, ca_file}")
        authorities = tuple(_authority(entry, workspace.home) for entry in entries)
        names = [a.name for a in authorities]
        if len(set(names)) != len(names):
            raise _config_error("deux autorités portent le même nom")
        timeout = section.get("timeout_seconds", DEFAULT_TIMEOUT_S)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= MAX_TIMEOUT_S:
            raise _config_error(f"« timeout_seconds » doit être un entier de 1 à {MAX_TIMEOUT_S}")
        return cls(authorities, timeout)

    def authority(self, name: str) -> Authority | None:
        return next((a for a in self.authorities if a.name == name), None)


def _config_error(detail: str) -> WorkspaceError:
    return WorkspaceError(f"{CONFIG_NAME}, section « anchors » : {detail}")


def _authority(entry: dict[str, Any], home: Path) -> Authority:
    name, url, ca_file, fallback = entry.get("name"), entry.get("url"), entry.get("ca_file"), entry.get("fallback", False)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _config_error("chaque autorité doit avoir un nom (« name », 100 caractères au plus)")
    parts = urlsplit(url if isinstance(url, str) else "")
    if not isinstance(url, str) or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _config_error(f"adresse invalide pour l'autorité « {name} » (http:// ou https:// attendu)")
    if not isinstance(ca_file, str) or not ca_file:
        raise _config_error(
            f"l'autorité « {name} » n'a pas de « ca_file » (certificats racines qui la garantissent)"
        )
    if not isinstance(fallback, bool):
        raise _config_error(f"« fallback » de l'autorité « {name} » : true ou false attendu")
    return Authority(name.strip(), url, (home / Path(ca_file).expanduser()).resolve(), fallback)


@dataclass(frozen=True)
class AnchorOutcome:
    """What became of one authority's request in a run.

    status: "anchored" (token kept), "pending" (to retry; `error` says why), "unchanged" (nothing
    new in the journal since this authority's last anchor) or "cancelled" (authority no longer
    configured).
    """

    authority: str
    status: str
    tree_size: int
    root: str
    anchor_id: int | None = None
    time: datetime | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "status": self.status,
            "tree_size": self.tree_size,
            "root": self.root,
            "anchor_id": self.anchor_id,
            "time": iso(self.time),
            "error": self.error,
        }


def anchor_now(workspace: Workspace, settings: AnchorSettings | None = None) -> list[AnchorOutcome]:
    """Anchor the journal as it is now (main authorities first, fallbacks if none of them has a
    token for it); retry what is pending."""
    settings = settings or AnchorSettings.from_workspace(workspace)
    if not settings.authorities:
        raise BadInput(NOT_CONFIGURED)
    return _run(workspace, settings, lambda group: group)


def retry_pending(workspace: Workspace, settings: AnchorSettings | None = None) -> list[AnchorOutcome]:
    """Try again the requests left pending (e.g. queued while offline); queue nothing new."""
    settings = settings or AnchorSettings.from_workspace(workspace)
    if not settings.authorities:
        raise BadInput(NOT_CONFIGURED)
    return _cancel_removed(workspace, settings) + _process(workspace, settings, settings.authorities)


def anchor_if_due(
    workspace: Workspace, settings: AnchorSettings | None = None, every: timedelta = ANCHOR_EVERY
) -> list[AnchorOutcome]:
    """Anchor with each authority last asked `every` ago or more (or never) if the journal has news
    for it (fallbacks only if no main authority has a token for the journal as it is); retry what
    is pending. Authorities with nothing due get no outcome.

    Without configured authorities, nothing to do: an empty list.
    """
    settings = settings or AnchorSettings.from_workspace(workspace)
    if not settings.authorities:
        return []

    def due(group: tuple[Authority, ...]) -> tuple[Authority, ...]:
        now = workspace.clock.now()
        with workspace.reading() as session:
            last_asked = dict(
                session.execute(
                    select(AnchorRequest.tsa_name, func.max(AnchorRequest.queued_at)).group_by(AnchorRequest.tsa_name)
                ).all()
            )
            # Checked before the Merkle tree is computed: a timer's pass finds most often nothing due.
            return tuple(
                a for a in group
                if (a.name not in last_asked or now - last_asked[a.name] >= every) and _has_news(session, a.name)
            )

    return _run(workspace, settings, due)


def anchor_before_dossier(workspace: Workspace) -> list[AnchorOutcome]:
    """What `preuves dossier` does first: anchor the journal as it is if it has news, each authority
    given at most DOSSIER_TIMEOUT_S. Without configured authorities, nothing: an empty list."""
    settings = AnchorSettings.from_workspace(workspace)
    if not settings.authorities:
        return []
    return anchor_now(workspace, replace(settings, timeout_s=min(settings.timeout_s, DOSSIER_TIMEOUT_S)))


def _run(
    workspace: Workspace,
    settings: AnchorSettings,
    due: Callable[[tuple[Authority, ...]], tuple[Authority, ...]],
) -> list[AnchorOutcome]:
    """Queue for the `due` main authorities and try theirs; then, while no authority asked has a
    token for the journal as it is, the fallbacks one after the other."""
    outcomes = _cancel_removed(workspace, settings)
    asked: tuple[Authority, ...] = ()
    groups = [group for group in (settings.main, *((f,) for f in settings.fallbacks)) if group]
    for group in groups:
        if asked and _up_to_date(workspace, asked):
            _cancel_fallbacks(workspace, settings)
            break
        queued = due(group)
        if queued:
            outcomes += _queue(workspace, AnchorSettings(queued, settings.timeout_s))
        outcomes += _process(workspace, settings, group)
        asked += group
    return outcomes


def _up_to_date(workspace: Workspace, group: tuple[Authority, ...]) -> bool:
    """Whether one of these authorities has nothing left to obtain (no pending request)."""
    with workspace.reading() as session:
        waiting = set(
            session.scalars(
                select(AnchorRequest.tsa_name).where(
                    AnchorRequest.status == "pending", AnchorRequest.tsa_name.in_([a.name for a in group])
                )
            )
        )
    return any(a.name not in waiting for a in group)


def pending_requests(session: Session) -> list[AnchorRequest]:
    return list(
        session.scalars(
            select(AnchorRequest).where(AnchorRequest.status == "pending").order_by(AnchorRequest.id)
        )
    )


def _queue(workspace: Workspace, settings: AnchorSettings) -> list[AnchorOutcome]:
    """One pending request per authority over the current journal, unless nothing is new."""
    with workspace.reading() as session:
        tree = journal_tree(session)
        size, root = tree.size, tree.root().hex()
        due = [a.name for a in settings.authorities if _has_news(session, a.name)]
    unchanged = [
        AnchorOutcome(a.name, "unchanged", size, root)
        for a in settings.authorities
        if a.name not in due
    ]
    now = workspace.clock.now()
    with workspace.writing() as session:
        for name in due:
            pending = session.scalars(
                select(AnchorRequest).where(
                    AnchorRequest.tsa_name == name, AnchorRequest.status == "pending"
                )
            ).all()
            if any(request.tree_size >= size for request in pending):
                continue
            for request in pending:
                request.status = "superseded"
            session.add(
                AnchorRequest(
                    tsa_name=name, tree_size=size, root=root, queued_at=now, status="pending", tries=0
                )
            )
    return unchanged


def _has_news(session: Session, authority: str) -> bool:
    """Whether the journal holds entries, other than anchors, beyond this authority's last anchor."""
    anchored = session.scalar(select(func.max(Anchor.tree_size)).where(Anchor.tsa_name == authority))
    if anchored is None:
        return True
    newer = session.scalar(
        select(func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.seq > anchored, JournalEntry.kind != ANCHOR_ENTRY)
    )
    return bool(newer)


def _cancel_removed(workspace: Workspace, settings: AnchorSettings) -> list[AnchorOutcome]:
    """Cancel the pending requests of authorities no longer configured."""
    outcomes = []
    with workspace.writing() as session:
        for request in pending_requests(session):
            if settings.authority(request.tsa_name) is None:
                request.status = "cancelled"
                request.last_error = "autorité retirée de la configuration"
                outcomes.append(
                    AnchorOutcome(request.tsa_name, "cancelled", request.tree_size, request.root,
                                  error=request.last_error)
                )
    return outcomes


def _cancel_fallbacks(workspace: Workspace, settings: AnchorSettings) -> None:
    """A main (or earlier) authority has a token for the journal: the fallbacks' requests are moot."""
    names = {a.name for a in settings.fallbacks}
    with workspace.writing() as session:
        for request in pending_requests(session):
            if request.tsa_name in names:
                request.status = "cancelled"
                request.last_error = "une autre autorité a horodaté le journal"


def _process(workspace: Workspace, settings: AnchorSettings, group: tuple[Authority, ...]) -> list[AnchorOutcome]:
    """Try every pending request of the authorities of `group`."""
    names = {a.name for a in group}
    with workspace.reading() as session:
        todo = [(r.id, r.tsa_name, r.tree_size, r.root) for r in pending_requests(session) if r.tsa_name in names]
    outcomes = []
    for request_id, name, size, root in todo:
        authority = settings.authority(name)
        assert authority is not None  # requests of unknown authorities were cancelled before
        outcomes.append(_obtain(workspace, settings, request_id, authority, size, root))
    return outcomes


def _obtain(
    workspace: Workspace, settings: AnchorSettings, request_id: int, authority: Authority,
    size: int, root: str,
) -> AnchorOutcome:
    """Ask one authority for a token over `root`, check it, and keep it (or note the failure)."""
    digest, nonce = bytes.fromhex(root), secrets.randbits(63)
    try:
        try:
            ca_pem = authority.ca_file.read_bytes()
        except OSError as exc:
            raise TokenError(f"certificats racines illisibles : {authority.ca_file} ({exc.strerror})") from exc
        roots = parse_certificates(ca_pem, str(authority.ca_file))
        token = ask_for_token(authority.url, digest, nonce, settings.timeout_s)
        facts = check_token(token, digest, roots, nonce)
    except (TsaUnreachable, TsaRefused, TokenError) as exc:
        with workspace.writing() as session:
            request = session.get_one(AnchorRequest, request_id)
            request.tries += 1
            request.last_try_at = workspace.clock.now()
            request.last_error = str(exc)
        return AnchorOutcome(authority.name, "pending", size, root, error=str(exc))
    anchor = _store(workspace, request_id, authority, size, root, token, ca_pem, facts)
    return AnchorOutcome(authority.name, "anchored", size, root, anchor.id, facts.gen_time)


def _store(
    workspace: Workspace, request_id: int, authority: Authority, size: int, root: str,
    token: bytes, ca_pem: bytes, facts: TokenFacts,
) -> Anchor:
    ascii_name = unicodedata.normalize("NFKD", authority.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "autorite"
    files = [
        NewArtefact(TOKEN_KIND, REPLY_TYPE, data=token, filename=f"horodatage-{slug}-{size}.tsr"),
        NewArtefact(CA_KIND, "application/pem-certificate-chain", data=ca_pem, filename=f"racines-{slug}.pem"),
    ]
    stored = store_blobs(workspace, files)
    now = workspace.clock.now()
    with workspace.writing() as session:
        token_row, ca_row = artefact_rows(files, stored, now)
        session.add_all([token_row, ca_row])
        session.flush()
        anchor = Anchor(
            tsa_name=authority.name,
            tsa_url=authority.url,
            tree_size=size,
            root=root,
            gen_time=facts.gen_time,
            serial_number=facts.serial_number,
            policy=facts.policy,
            token_artefact_id=token_row.id,
            ca_artefact_id=ca_row.id,
            created_at=now,
        )
        session.add(anchor)
        session.flush()
        journal.append(
            session,
            ANCHOR_ENTRY,
            {"anchor": anchor.to_record(), "artefacts": [token_row.to_record(), ca_row.to_record()]},
            now,
        )
        request = session.get_one(AnchorRequest, request_id)
        request.status, request.anchor_id = "done", anchor.id
        request.tries += 1
        request.last_try_at, request.last_error = now, None
    return anchor
