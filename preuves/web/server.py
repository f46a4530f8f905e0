"""The HTTP server of `preuves serve` (waitress) and its limits against slow or piled-up clients.

waitress reads every request in one thread before handing it, complete, to a worker thread, so
a slow client holds a connection, not a worker. The limits below bound what such clients can
hold: CONNECTION_LIMIT connections (beyond it the server stops accepting), an idle connection
closed after CHANNEL_TIMEOUT_S, headers and bodies of bounded size. A client trickling a byte at
a time is not idle; waitress has no total time for reading one request: a dashboard reachable
from other machines sits behind a reverse proxy that has one (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer

from preuves.web.security import is_loopback
from preuves.web.settings import WebSettings

SERVER_THREADS = 8
CONNECTION_LIMIT = 500
CHANNEL_TIMEOUT_S = 30
CLEANUP_INTERVAL_S = 5
MAX_HEADER_BYTES = 64 * 1024


def make_server(app: Flask, host: str, port: int, **overrides: Any) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for `app` on host:port (port 0: a free one), with our limits; behind the
    configured reverse proxy, the client's address and scheme are those it forwards."""
    settings: WebSettings = app.extensions["preuves"].web_settings
    proxy: dict[str, Any] = {}
    if settings.trusted_proxy:
        proxy = {
            "trusted_proxy": settings.trusted_proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        }
    options: dict[str, Any] = {
        "threads": SERVER_THREADS,
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": CHANNEL_TIMEOUT_S,
        "cleanup_interval": CLEANUP_INTERVAL_S,
        "asyncore_use_poll": True,  # select() cannot watch more than 1,024 descriptors
        "max_request_header_size": MAX_HEADER_BYTES,
        # waitress keeps a body (on disk past 512 KiB) before the application sees it. Up to twice the
        # application's limit, the application refuses it with its French page; beyond, waitress does.
        "max_request_body_size": 2 * app.config["MAX_CONTENT_LENGTH"],
        "ident": "preuves",
        **proxy,
    }
    return create_server(app, host=host, port=port, **{**options, **overrides})


def exposure_warning(host: str, accounts: bool, settings: WebSettings) -> str | None:
    """The French warning for a server others can reach while passwords and cookies travel in clear."""
    if not accounts or is_loopback(host) or settings.secure_cookies:
        return None
    return (
        f"Attention : sur {host}, mots de passe et cookies de session circulent en clair. Placez le tableau "
        "de bord derrière un proxy HTTPS et indiquez son adresse dans preuves.toml ([web] public_url = "
        "\"https://…\") : voir docs/security.md."
    )
