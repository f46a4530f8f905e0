"""Rows of the timestamp anchors (see `anchors.py`).

An `Anchor` is evidence: a timestamp authority's token over the Merkle root of the first
`tree_size` journal entries, written once (triggers refuse UPDATE and DELETE) and described by an
"anchor.recorded" journal entry. An `AnchorRequest` is bookkeeping: a token still to obtain from
one authority, kept while the network is down, updated as it is retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evidence.models import Artefact, Base, UTCDateTime, iso


class Anchor(Base):
    __tablename__ = "anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    tsa_name: Mapped[str] = mapped_column(String(100))
    tsa_url: Mapped[str] = mapped_column(String(2000))
    tree_size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    gen_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    serial_number: Mapped[str] = mapped_column(String(80))
    policy: Mapped[str] = mapped_column(String(200))
    token_artefact_id: Mapped[int] = mapped_column(ForeignKey("artefacts.id"))
    ca_artefact_id: Mapped[int] = mapped_column(ForeignKey("artefacts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    token: Mapped[Artefact] = relationship(foreign_keys=[token_artefact_id])
    ca_certificates: Mapped[Artefact] = relationship(foreign_keys=[ca_artefact_id])

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tsa_name": self.tsa_name,
            "tsa_url": self.tsa_url,
            "tree_size": self.tree_size,
            "root": self.root,
            "gen_time": iso(self.gen_time),
            "serial_number": self.serial_number,
            "policy": self.policy,
            "token_artefact_id": self.token_artefact_id,
            "ca_artefact_id": self.ca_artefact_id,
            "created_at": iso(self.created_at),
        }


class AnchorRequest(Base):
    """A token to ask one authority for, over the root of the first `tree_size` entries.

    `status` is "pending" until a token is kept ("done"), a newer request for the same authority
    covers it ("superseded"), or the authority left the configuration ("cancelled").
    """

    __tablename__ = "anchor_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    tsa_name: Mapped[str] = mapped_column(String(100))
    tree_size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)
    tries: Mapped[int] = mapped_column(Integer)
    last_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id"))
