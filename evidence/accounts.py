"""Accounts of the web dashboard: organisations, users with argon2 passwords, who sees which case.

A user sees the cases of their organisation and no other. A dashboard without any account (bound
to 127.0.0.1 for one person) sees every case, as the command line does. A session names the user
and their `session_version`: raising it (sign-out, new password) or removing the user ends every
session of that user at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from evidence import journal
from evidence.account_models import CaseOrganisation, Organisation, User
from evidence.errors import BadInput
from evidence.models import Case
from evidence.passwords import MAX_PASSWORD_LENGTH, validate_password
from evidence.workspace import Workspace

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,79}")
MAX_ORGANISATION_LENGTH = 120

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so that a wrong name costs as long as a
    wrong password. Made on first use: hashing costs about 0.1 s, which no other command should pay."""
    return _hasher.hash("preuves-rdv: no such user")


def add_user(workspace: Workspace, username: str, password: str, organisation: str) -> User:
    """Create a user in an organisation (created if new); both are journaled, the hash is not."""
    if not USERNAME.fullmatch(username):
        raise BadInput("identifiant invalide : lettres, chiffres et . _ @ - (80 caractères au plus)")
    organisation = organisation.strip()
    if not organisation or len(organisation) > MAX_ORGANISATION_LENGTH:
        raise BadInput(f"organisation invalide : 1 à {MAX_ORGANISATION_LENGTH} caractères attendus")
    password_hash = _hasher.hash(validate_password(password, username))
    now = workspace.clock.now()
    with workspace.writing() as session:
        if session.scalars(select(User).where(User.username == username)).first():
            raise BadInput(f"l'identifiant {username!r} existe déjà")
        org = session.scalars(select(Organisation).where(Organisation.name == organisation)).first()
        if org is None:
            org = Organisation(name=organisation, created_at=now)
            session.add(org)
            session.flush()
            journal.append(session, "organisation.created", {"organisation": org.name, "id": org.id}, now)
        user = User(username=username, password_hash=password_hash, organisation_id=org.id, created_at=now)
        session.add(user)
        session.flush()
        journal.append(
            session, "user.created", {"user": username, "id": user.id, "organisation": org.name}, now
        )
    return user


@dataclass(frozen=True)
class Account:
    """A signed-in user, as a session remembers them."""

    user_id: int
    username: str
    organisation_id: int
    organisation: str
    session_version: int


def _account_row(session: Session, condition: ColumnElement[bool]) -> Row[Any] | None:
    return session.execute(
        select(
            User.id, User.username, User.password_hash, User.session_version,
            Organisation.id.label("organisation_id"), Organisation.name.label("organisation"),
        ).join(Organisation).where(condition)
    ).first()


def _account(row: Row[Any]) -> Account:
    return Account(row.id, row.username, row.organisation_id, row.organisation, row.session_version)


def authenticate(workspace: Workspace, username: str, password: str) -> Account | None:
    """The account if the password is right, else None (same cost whether or not the name exists)."""
    with workspace.reading() as session:
        row = _account_row(session, User.username == username)
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    return _account(row) if row else None


def session_account(workspace: Workspace, user_id: int, session_version: int) -> Account | None:
    """The account a session names, if it still exists and the session was not ended since."""
    with workspace.reading() as session:
        row = _account_row(session, User.id == user_id)
    if row is None or row.session_version != session_version:
        return None
    return _account(row)


def end_sessions(workspace: Workspace, user_id: int) -> None:
    """Every session of the user ends now (signing out ends them on every browser)."""
    with workspace.writing() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.session_version += 1


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise BadInput(f"compte inconnu : {username!r} (voir « preuves user list »)")
    return user


def change_password(workspace: Workspace, username: str, password: str) -> None:
    """A new password; the user's open sessions end. Journaled, without the hash."""
    password_hash = _hasher.hash(validate_password(password, username))
    now = workspace.clock.now()
    with workspace.writing() as session:
        user = _user(session, username)
        user.password_hash = password_hash
        user.session_version += 1
        journal.append(session, "user.password_changed", {"user": username, "id": user.id}, now)


def remove_user(workspace: Workspace, username: str) -> None:
    """Close an account: its sessions end at once; its organisation and cases stay. Journaled."""
    now = workspace.clock.now()
    with workspace.writing() as session:
        user = _user(session, username)
        journal.append(session, "user.removed", {"user": username, "id": user.id}, now)
        session.delete(user)


def has_accounts(workspace: Workspace) -> bool:
    with workspace.reading() as session:
        return session.scalars(select(User.id).limit(1)).first() is not None


def organisation_of(session: Session, case_id: int) -> int | None:
    link = session.get(CaseOrganisation, case_id)
    return link.organisation_id if link else None


def visible_cases(session: Session, organisation_id: int | None) -> list[Case]:
    """The cases a viewer may see: their organisation's, or all of them with no accounts."""
    query = select(Case).order_by(Case.id)
    if organisation_id is not None:
        query = query.join(CaseOrganisation).where(CaseOrganisation.organisation_id == organisation_id)
    return list(session.scalars(query))
