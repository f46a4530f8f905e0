"""The evidence schema (SQLAlchemy 2, typed).

Rows that are evidence (captures, artefacts, letters, journal entries) are written once; database
triggers created by the migrations refuse UPDATE and DELETE on them. Every row is also described
by a journal entry (see `journal.py`); `to_record()` gives the exact dict that entry holds, so
`verify` can compare the two.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from evidence.sealed_column import SealedString
from evidence.sealing import stored

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and gives them back aware (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: evidence times are always timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def iso(value: datetime | date | None) -> str | None:
    """The form every time takes in a journal payload."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Target(Base):
    """A booking page that is observed. Several cases may wait on one target."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("url", "counter", name="uq_targets_url_counter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    host: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(40))
    counter: Mapped[str | None] = mapped_column(String(200))
    prefecture: Mapped[str | None] = mapped_column(String(200))
    procedure: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    cases: Mapped[list[Case]] = relationship(back_populates="target")

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "host": self.host,
            "platform": self.platform,
            "counter": self.counter,
            "prefecture": self.prefecture,
            "procedure": self.procedure,
            "created_at": iso(self.created_at),
        }


class Case(Base):
    """An applicant's matter: what they wait for, on which page, over which period."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(SealedString(80), unique=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    notes: Mapped[str | None] = mapped_column(SealedString())
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    target: Mapped[Target] = relationship(back_populates="cases")

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": stored(self.label),
            "target_id": self.target_id,
            "notes": stored(self.notes),
            "period_start": iso(self.period_start),
            "period_end": iso(self.period_end),
            "active": self.active,
            "created_at": iso(self.created_at),
        }


class Capture(Base):
    """One attempt on a target: what was asked, what the page showed, when."""

    __tablename__ = "captures"
    __table_args__ = (UniqueConstraint("target_id", "attempt_no", name="uq_captures_attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    url_requested: Mapped[str] = mapped_column(String(2000))
    final_url: Mapped[str | None] = mapped_column(String(2000))
    http_status: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str] = mapped_column(String(40))
    evidence_text: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    assisted: Mapped[bool] = mapped_column(Boolean, default=False)
    # PageObservations as JSON (see evidence/observations.py); NULL when nothing besides the state was read.
    observations: Mapped[str | None] = mapped_column(Text)

    target: Mapped[Target] = relationship()
    artefacts: Mapped[list[Artefact]] = relationship(
        back_populates="capture", order_by="Artefact.id"
    )

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_id": self.target_id,
            "attempt_no": self.attempt_no,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "url_requested": self.url_requested,
            "final_url": self.final_url,
            "http_status": self.http_status,
            "state": self.state,
            "platform": self.platform,
            "evidence_text": self.evidence_text,
            "error": self.error,
            "assisted": self.assisted,
            "observations": json.loads(self.observations) if self.observations else None,
        }


class Letter(Base):
    """A letter sent to or received from the prefecture (filled by the correspondence commands)."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    letter_date: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(SealedString(500))
    tracking: Mapped[str | None] = mapped_column(String(100))
    sender: Mapped[str | None] = mapped_column(SealedString(500))
    recipient: Mapped[str | None] = mapped_column(SealedString(500))
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    artefacts: Mapped[list[Artefact]] = relationship(
        back_populates="letter", order_by="Artefact.id"
    )

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "letter_date": iso(self.letter_date),
            "direction": self.direction,
            "channel": self.channel,
            "subject": stored(self.subject),
            "tracking": self.tracking,
            "sender": stored(self.sender),
            "recipient": stored(self.recipient),
            "answers_id": self.answers_id,
            "created_at": iso(self.created_at),
        }


class Artefact(Base):
    """A file kept as evidence (screenshot, HTML, HAR, letter scan …), stored by its SHA-256."""

    __tablename__ = "artefacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), index=True)
    # The event (phone call, visit, referral) a proof belongs to; NULL for the files of captures and letters.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"), index=True)
    applicant_piece_id: Mapped[int | None] = mapped_column(ForeignKey("applicant_pieces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(SealedString(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blob_path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    capture: Mapped[Capture | None] = relationship(back_populates="artefacts")
    letter: Mapped[Letter | None] = relationship(back_populates="artefacts")
    event: Mapped[CaseEvent | None] = relationship(back_populates="artefacts")
    applicant_piece: Mapped[ApplicantPiece | None] = relationship(back_populates="artefacts")

    def to_record(self) -> dict[str, Any]:
        record = {
            "id": self.id,
            "capture_id": self.capture_id,
            "letter_id": self.letter_id,
            "kind": self.kind,
            "media_type": self.media_type,
            "filename": stored(self.filename),
            "size": self.size,
            "sha256": self.sha256,
            "blob_path": self.blob_path,
            "created_at": iso(self.created_at),
        }
        # Only when set: the records journaled before these columns existed stay equal to their rows.
        if self.event_id is not None:
            record["event_id"] = self.event_id
        if self.applicant_piece_id is not None:
            record["applicant_piece_id"] = self.applicant_piece_id
        return record


class CaseEvent(Base):
    """Something that happened in a case on a day, besides attempts and letters: the prefecture's
    receipt of a letter (its avis de réception), a phone call, a visit to the counter, a referral to
    the Défenseur des droits. Written once; a correction is a new row (the latest one counts)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    event_date: Mapped[date] = mapped_column(Date)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))  # for a receipt
    outcome: Mapped[str | None] = mapped_column(SealedString(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    artefacts: Mapped[list[Artefact]] = relationship(back_populates="event", order_by="Artefact.id")

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "kind": self.kind,
            "event_date": iso(self.event_date),
            "letter_id": self.letter_id,
            "outcome": stored(self.outcome),
            "created_at": iso(self.created_at),
        }


class JournalEntry(Base):
    """One link of the append-only, hash-chained journal.

    `payload` is the canonical JSON of {seq, recorded_at, kind, data}; the columns beside it are
    copies kept for querying, and `verify` checks they agree with it.
    entry_hash = SHA-256(prev_hash ‖ payload).
    """

    __tablename__ = "journal_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(60), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Applicant(Base):
    """The identity a case's letters need. Personal data: it stays in the workspace database only.

    The journal holds a SHA-256 of these fields, never the fields themselves, so that a purge can
    remove them while the journal stays intact (and `verify` can still check the row).
    """

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_place: Mapped[str | None] = mapped_column(String(200))
    nationality: Mapped[str | None] = mapped_column(String(100))
    postal_address: Mapped[str | None] = mapped_column(Text)
    foreigner_number: Mapped[str | None] = mapped_column(String(20))
    permit_expiry: Mapped[date | None] = mapped_column(Date)
    # What the letters and the requête need besides the identity, as the applicant answered it
    # (NULL = not asked yet; never assumed): « M. » or « Mme »; « premiere » or « renouvellement »;
    # whether the démarche is made on ANEF; whether an OQTF or a refusal of a titre exists.
    civility: Mapped[str | None] = mapped_column(String(10))
    application: Mapped[str | None] = mapped_column(String(20))
    on_anef: Mapped[bool | None] = mapped_column(Boolean)
    oqtf: Mapped[bool | None] = mapped_column(Boolean)
    refusal: Mapped[bool | None] = mapped_column(Boolean)
    service_address: Mapped[str | None] = mapped_column(Text)  # the prefecture's service, for the letters
    departement: Mapped[str | None] = mapped_column(String(3))  # when the case's prefecture does not say it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def to_record(self) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "full_name": self.full_name,
            "birth_date": iso(self.birth_date),
            "birth_place": self.birth_place,
            "nationality": self.nationality,
            "postal_address": self.postal_address,
            "foreigner_number": self.foreigner_number,
            "permit_expiry": iso(self.permit_expiry),
        }
        # The answers added later count only once given: the hash of an identity set before they
        # existed stays the same.
        answers = {
            "civility": self.civility,
            "application": self.application,
            "on_anef": self.on_anef,
            "oqtf": self.oqtf,
            "refusal": self.refusal,
            "service_address": self.service_address,
            "departement": self.departement,
        }
        identity.update({name: value for name, value in answers.items() if value is not None})
        canonical = json.dumps(identity, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return {
            "id": self.id,
            "case_id": self.case_id,
            "updated_at": iso(self.updated_at),
            "fields_sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        }


class ApplicantPiece(Base):
    """A document of the applicant's own that the bundle files first: titre de séjour, récépissé, identity,
    address, situation (see `applicant_pieces.py`). Written once; withdrawing one is a journal entry."""

    __tablename__ = "applicant_pieces"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(SealedString(200))
    piece_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    artefacts: Mapped[list[Artefact]] = relationship(
        back_populates="applicant_piece", order_by="Artefact.id"
    )

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "kind": self.kind,
            "label": stored(self.label),
            "piece_date": iso(self.piece_date),
            "created_at": iso(self.created_at),
        }


class PlannedAttempt(Base):
    """One attempt time of a target's capture plan, and what became of it.

    `status` moves from "planned" to "done" (with the capture), "missed" or "cancelled"; each move
    is also a journal entry, so planned and done can be compared. An accompanied attempt (`mode`
    "accompanied": a person solves the captcha) goes through "reminded" when its reminder is sent,
    and is "missed" if nobody starts it within its window.
    """

    __tablename__ = "planned_attempts"
    __table_args__ = (UniqueConstraint("target_id", "planned_at", name="uq_planned_attempts_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    window: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The watcher performing it ("host:pid:nonce") and since when: a claim whose owner died is
    # given back to the plan (see capture.watch.PlanRunner.reconcile).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(20), default="unattended", server_default="unattended")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Tables whose rows are written once; the migrations protect them with triggers.
APPEND_ONLY_TABLES = ("journal_entries", "captures", "artefacts", "letters", "case_events", "applicant_pieces")

from evidence import account_models, anchor_models  # noqa: E402, F401  (register their tables on Base.metadata)
