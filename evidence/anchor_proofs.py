"""What a dossier says about the anchors: the list of tokens, and for one journal entry the first
anchor that covers it and the inclusion proof that ties the entry to that anchor's root.

Leaf i of the tree is journal entry seq = i + 1 (see `merkle.py`). Nothing here checks a token:
`anchor_checks.verify_anchors` does, and a dossier should be built from a workspace that passes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evidence import journal
from evidence.anchor_models import Anchor, AnchorRequest
from evidence.merkle import MerkleTree, leaf_hash
from evidence.models import JournalEntry, iso

CAPTURE_ENTRY = "capture.recorded"
_BATCH = 1000


@dataclass(frozen=True)
class AnchorSummary:
    """One kept token, as the method note and the manifest show it."""

    id: int
    authority: str
    url: str
    time: datetime
    root: str
    tree_size: int
    serial_number: str
    token_sha256: str
    token_filename: str | None
    ca_sha256: str
    ca_filename: str | None

    @classmethod
    def of(cls, anchor: Anchor) -> AnchorSummary:
        return cls(
            id=anchor.id,
            authority=anchor.tsa_name,
            url=anchor.tsa_url,
            time=anchor.gen_time,
            root=anchor.root,
            tree_size=anchor.tree_size,
            serial_number=anchor.serial_number,
            token_sha256=anchor.token.sha256,
            token_filename=anchor.token.filename,
            ca_sha256=anchor.ca_certificates.sha256,
            ca_filename=anchor.ca_certificates.filename,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "authority": self.authority,
            "url": self.url,
            "time": iso(self.time),
            "root": self.root,
            "tree_size": self.tree_size,
            "serial_number": self.serial_number,
            "token_sha256": self.token_sha256,
            "token_filename": self.token_filename,
            "ca_sha256": self.ca_sha256,
            "ca_filename": self.ca_filename,
        }


def anchor_summary(session: Session) -> list[AnchorSummary]:
    """Every kept token, oldest first."""
    anchors = session.scalars(select(Anchor).order_by(Anchor.gen_time, Anchor.id))
    return [AnchorSummary.of(anchor) for anchor in anchors]


def first_anchor_covering(session: Session, journal_seq: int) -> AnchorSummary | None:
    """The earliest token whose tree holds entry `journal_seq`, or None if none does yet."""
    anchor = session.scalars(
        select(Anchor)
        .where(Anchor.tree_size >= journal_seq)
        .order_by(Anchor.gen_time, Anchor.id)
        .limit(1)
    ).first()
    return None if anchor is None else AnchorSummary.of(anchor)


def waiting_since(session: Session) -> datetime | None:
    """When a token was first asked for journal entries that no token covers yet, if one is still
    awaited (a request pending, e.g. while offline); None otherwise."""
    if session.scalar(select(AnchorRequest.id).where(AnchorRequest.status == "pending").limit(1)) is None:
        return None
    covered = session.scalar(select(func.max(Anchor.tree_size))) or 0
    since: datetime | None = session.scalar(
        select(func.min(AnchorRequest.queued_at)).where(
            AnchorRequest.tree_size > covered, AnchorRequest.status.in_(("pending", "superseded"))
        )
    )
    return since


def journal_tree(session: Session) -> MerkleTree:
    """The tree of the journal's entry hashes as stored. Build it once for many proofs."""
    hashes = session.scalars(select(JournalEntry.entry_hash).order_by(JournalEntry.seq))
    return MerkleTree([leaf_hash(h) for h in hashes])


def recomputed_tree(session: Session) -> MerkleTree:
    """The tree of the entry hashes recomputed from the payloads (what `verify` trusts)."""
    leaves: list[bytes] = []
    previous, last_seq = journal.GENESIS_HASH, 0
    while True:
        rows = session.execute(
            select(JournalEntry.seq, JournalEntry.payload)
            .where(JournalEntry.seq > last_seq)
            .order_by(JournalEntry.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return MerkleTree(leaves)
        for _, payload in rows:
            previous = journal.entry_hash(previous, payload)
            leaves.append(leaf_hash(previous))
        last_seq = rows[-1].seq


def inclusion_proof(
    session: Session, journal_seq: int, anchor: AnchorSummary | Anchor, tree: MerkleTree | None = None
) -> list[str]:
    """The audit path (hex, leaf to root) of entry `journal_seq` in the tree the anchor timestamped."""
    tree = tree or journal_tree(session)
    return [node.hex() for node in tree.inclusion_proof(journal_seq - 1, anchor.tree_size)]


def proof_record(
    session: Session, journal_seq: int, anchor: AnchorSummary, tree: MerkleTree | None = None
) -> dict[str, Any]:
    """Everything a reader needs to tie one entry to a token: for manifest.json."""
    entry = session.get_one(JournalEntry, journal_seq)
    return {
        "journal_seq": journal_seq,
        "entry_hash": entry.entry_hash,
        "leaf_index": journal_seq - 1,
        "anchor_id": anchor.id,
        "tree_size": anchor.tree_size,
        "root": anchor.root,
        "token_sha256": anchor.token_sha256,
        "proof": inclusion_proof(session, journal_seq, anchor, tree),
    }


def capture_entry_seqs(session: Session) -> dict[int, int]:
    """For each capture id, the journal entry that recorded it."""
    rows = session.execute(
        select(JournalEntry.seq, JournalEntry.payload)
        .where(JournalEntry.kind == CAPTURE_ENTRY)
        .order_by(JournalEntry.seq)
    )
    seqs: dict[int, int] = {}
    for seq, payload in rows:
        try:
            capture = json.loads(payload)["data"]["capture"]
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable entry: `verify` reports it
        if isinstance(capture, dict) and isinstance(capture.get("id"), int):
            seqs.setdefault(capture["id"], seq)
    return seqs
