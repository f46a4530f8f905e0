"""Settings of the dashboard, read from the workspace's `[web]` section of preuves.toml.

They are the server owner's choices, made on the command line's side: nothing in the dashboard
can change them (a web form that could lift the official-domain rule would let any user make
the server fetch an internal page).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from evidence.errors import BadInput


@dataclass(frozen=True)
class WebSettings:
    # The address people use, when a reverse proxy serves the dashboard (https://… gives Secure cookies).
    public_url: str | None = None
    # The address of the reverse proxy in front of the server: only its X-Forwarded-For and
    # X-Forwarded-Proto headers are believed (the client's address, https).
    trusted_proxy: str | None = None
    # Whether the new-case form accepts a page outside the official domains (demonstrations, tests).
    allow_any_domain: bool = False

    @property
    def secure_cookies(self) -> bool:
        return self.public_url is not None and self.public_url.startswith("https://")

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> WebSettings:
        public_url = section.get("public_url") or None
        proxy = section.get("trusted_proxy") or None
        allow_any_domain = section.get("allow_any_domain", False)
        if public_url is not None and not _is_http_url(public_url):
            raise BadInput("preuves.toml, section [web] : public_url doit être une adresse http(s)://…")
        if proxy is not None and not _is_ip_address(proxy):
            raise BadInput('preuves.toml, section [web] : trusted_proxy doit être une adresse IP (par exemple "127.0.0.1")')
        if not isinstance(allow_any_domain, bool):
            raise BadInput("preuves.toml, section [web] : allow_any_domain doit valoir true ou false")
        return cls(public_url=public_url, trusted_proxy=proxy, allow_any_domain=allow_any_domain)


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_ip_address(value: object) -> bool:
    try:
        ipaddress.ip_address(value if isinstance(value, str) else "")
    except ValueError:
        return False
    return True
