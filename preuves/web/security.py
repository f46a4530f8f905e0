"""Who is asking, and may they: sessions, CSRF tokens, the local-only mode, login throttling.

Two modes. With no account in the workspace the dashboard serves one person on 127.0.0.1: no
login, but requests must name a loopback Host (a web page elsewhere cannot reach it through DNS
rebinding). As soon as one account exists, every page but the login page needs a session, and a
user sees only their organisation's cases. Every POST, login included, carries the session's CSRF
token or is refused with 403.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static_files"})
SECRET_FILE = "web-secret.key"
MAX_FAILURES = 5
LOCKOUT_S = 15 * 60


@dataclass(frozen=True)
class Viewer:
    """The person the request is for: a user of an organisation, or the local owner (sees all)."""

    username: str | None
    organisation_id: int | None
    organisation: str | None

    @property
    def is_local_owner(self) -> bool:
        return self.username is None


LOCAL_OWNER = Viewer(None, None, None)


def is_loopback(host: str) -> bool:
    """Whether a host name or address (no port) names this machine only."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _request_host() -> str:
    """The Host header's name, without port or IPv6 brackets."""
    return urlsplit(f"//{request.host}").hostname or ""


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


def check_access(accounts: bool) -> Response | None:
    """Before each request: who is the viewer, and may the request go on."""
    if not accounts:
        if not is_loopback(_request_host()):
            abort(403, "ce tableau de bord sans comptes ne répond qu'à 127.0.0.1")
        g.viewer = LOCAL_OWNER
        return None
    user = session.get("user")
    if user is None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            g.viewer = None
            return None
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    g.viewer = Viewer(user["username"], user["organisation_id"], user["organisation"])
    return None


class LoginThrottle:
    """After MAX_FAILURES wrong passwords for one username, refuse it for LOCKOUT_S seconds."""

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, username: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < LOCKOUT_S]
            self._failures[username] = recent
            return len(recent) >= MAX_FAILURES

    def failed(self, username: str) -> None:
        with self._lock:
            self._failures.setdefault(username, []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)
