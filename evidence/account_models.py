"""Rows of the web dashboard's accounts: organisations, their users, and which case is whose.

These are access-control data, not evidence: a user's password can change and an account can be
closed. What matters to a judge is still journaled — each account and each case's organisation is
announced by a journal entry when it is created.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evidence.models import Base, UTCDateTime


class Organisation(Base):
    """An association, a law firm, or a person on their own: who shares a set of cases."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # argon2id, in the PHC string format ("$argon2id$v=19$m=…"); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Written into each session at sign-in; raised by a sign-out or a new password, it ends every
    # session of the user at once (a session cookie is only valid with the current number).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()


class CaseOrganisation(Base):
    """The organisation a case belongs to. A case without a row here is seen only by a local,
    single-user dashboard (no accounts) and by the command line."""

    __tablename__ = "case_organisations"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
