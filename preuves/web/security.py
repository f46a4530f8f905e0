"""Who is asking, and may they: sessions, CSRF tokens, the local-only mode, form sizes, redirects.

Two modes, decided again at every request (an account added while the server runs closes it at
once). With no account in the workspace the dashboard serves one person on 127.0.0.1: no login,
but the Host header must be exactly a loopback name with the served port (a web page elsewhere
cannot reach it through DNS rebinding). As soon as one account exists, every page but the login
page needs a session, and a user sees only their organisation's cases. A session names the user
and their session version (see `evidence.accounts`) and lasts SESSION_HOURS from the sign-in,
however busy. Every POST, login included, carries the session's CSRF token or is refused with 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from evidence.accounts import Account, session_account
from evidence.workspace import Workspace

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
PUBLIC_ENDPOINTS = frozenset({"auth.login"})
SECRET_FILE = "web-secret.key"
SESSION_HOURS = 12
# Every form but a letter's files fits in this; a bigger body is refused before it is parsed.
FORM_BYTES = 64 * 1024
# The folders of an absolute path in a message (not a URL's path, not a date).
ABSOLUTE_FOLDERS = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"]+/)+")


@dataclass(frozen=True)
class Viewer:
    """The person the request is for: a user of an organisation, or the local owner (sees all)."""

    username: str | None
    organisation_id: int | None
    organisation: str | None
    user_id: int | None = None

    @property
    def is_local_owner(self) -> bool:
        return self.username is None


LOCAL_OWNER = Viewer(None, None, None)


def is_loopback(host: str) -> bool:
    """Whether a listening address (no port) is of this machine only: 127.0.0.0/8, ::1, localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def names_this_machine() -> bool:
    """Whether the Host header is exactly 127.0.0.1, localhost or [::1], with the served port.

    Nothing looser: « 127.attacker.example » and « 127.0.0.1.nip.io » are names an attacker
    controls, which a page of theirs can point at 127.0.0.1 (DNS rebinding).
    """
    host = request.environ.get("HTTP_HOST", "").lower()
    port = request.environ.get("SERVER_PORT", "")
    allowed = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == "80":
        allowed.update(LOOPBACK_NAMES)
    return host in allowed


def secret_key(home: Path) -> bytes:
    """The key that signs session cookies: made once per workspace, owner-only, shared by every
    `preuves serve` of that workspace so that a session survives a restart."""
    path = home / SECRET_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        try:
            with open(path, "xb", opener=lambda p, flags: os.open(p, flags, 0o600)) as file:
                file.write(key)
        except FileExistsError:  # another server wrote it first
            return path.read_bytes()
        return key


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (403) a state-changing request whose form lacks this session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, "jeton de sécurité du formulaire absent ou périmé : rechargez la page")


def limit_body(upload_bytes: int) -> None:
    """Before any parsing: url-encoded forms are read whole into memory, so they get FORM_BYTES;
    only a known viewer may send files (multipart, spooled to disk), up to `upload_bytes`."""
    may_upload = request.mimetype == "multipart/form-data" and g.get("viewer") is not None
    request.max_content_length = upload_bytes if may_upload else FORM_BYTES


def check_access(workspace: Workspace, accounts: bool) -> Response | None:
    """Before each request: who is the viewer, and may the request go on."""
    if not accounts:
        if not names_this_machine():
            abort(403, "ce tableau de bord sans comptes ne répond qu'à 127.0.0.1")
        g.viewer = LOCAL_OWNER
        return None
    account = _session_account(workspace)
    if account is None:
        g.viewer = None
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    g.viewer = Viewer(account.username, account.organisation_id, account.organisation, account.user_id)
    return None


def sign_in(account: Account) -> None:
    session.clear()  # a new session on login: no fixation of an old one
    session.permanent = True
    session.update(user_id=account.user_id, version=account.session_version, since=time.time())


def _session_account(workspace: Workspace) -> Account | None:
    """The signed-in account, if the session is still valid: not older than SESSION_HOURS, and
    its user still there with the same session version. An ended session is forgotten."""
    if "user_id" not in session:
        return None  # not signed in (the session may hold the login form's CSRF token)
    user_id, version, since = session.get("user_id"), session.get("version"), session.get("since")
    account = None
    if isinstance(user_id, int) and isinstance(version, int) and isinstance(since, float):
        if 0 <= time.time() - since < SESSION_HOURS * 3600:
            account = session_account(workspace, user_id, version)
    if account is None:
        session.clear()
    return account


def without_server_paths(message: str, home: Path) -> str:
    """A message as a page shows it: files named relative to the workspace (an upload by its own
    name), and no other folder of the server."""
    message = re.sub(re.escape(str(home)) + r"/(?:upload-[^/]+/)?", "", message)
    return ABSOLUTE_FOLDERS.sub("", message)


def safe_next(target: str | None) -> str:
    """Only a path of this site, never another site (open redirect) nor a broken header: no
    scheme or host once browsers have dropped tabs and line breaks, no backslash, no control
    character."""
    if (
        target
        and target.startswith("/")
        and target.isprintable()
        and "\\" not in target
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("cases.index")
