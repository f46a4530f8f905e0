"""Asking a timestamp authority for a token (RFC 3161 over HTTP, §3.4).

The request carries the Merkle root itself as its SHA-256 message imprint, so that anyone can
check the token with `openssl ts -verify -digest <root>`. Only the configured URL is contacted:
redirections are refused, and nothing but the imprint and a nonce leaves the machine.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from typing import Any

from asn1crypto import tsp

MAX_RESPONSE_BYTES = 1 << 20
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TsaUnreachable(Exception):
    """The authority could not be reached (no network, timeout, refused connection): retry later."""


class TsaRefused(Exception):
    """The authority answered, but not with a timestamp response."""


def build_request(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq over a SHA-256 digest, asking for the signer's certificate."""
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest has 32 bytes")
    der: bytes = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    return der


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def ask_for_token(url: str, digest: bytes, nonce: int, timeout_s: float) -> bytes:
    """POST a request to `url` and return the raw TimeStampResp bytes (not yet checked)."""
    request = urllib.request.Request(
        url,
        data=build_request(digest, nonce),
        method="POST",
        headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE, "User-Agent": "preuves-rdv"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout_s) as response:
            body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TsaRefused(f"réponse HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise TsaUnreachable(f"injoignable : {_network_reason(reason, timeout_s)}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise TsaRefused("réponse trop volumineuse pour un jeton d'horodatage")
    return body


def _network_reason(reason: object, timeout_s: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"pas de réponse en {timeout_s:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(reason, socket.gaierror):
        return "nom de domaine introuvable (pas de réseau ?)"
    return str(reason) or type(reason).__name__
