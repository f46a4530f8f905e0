"""Chromium's network errors (« Page.goto: net::ERR_NAME_NOT_RESOLVED at https://… ») said in French for
the capture's error, the code kept in brackets: a lawyer reads the sentence, a technician the code; and,
read back from a recorded error, whether the attempt reached any server at all; and which page address means
something to a reader."""

from __future__ import annotations

import re

# The errors an attempt meets in practice; any other keeps Chromium's words after a French lead.
REASONS = {
    "ERR_NAME_NOT_RESOLVED": "nom de domaine introuvable (pas de réseau, ou adresse mal écrite)",
    "ERR_INTERNET_DISCONNECTED": "pas de connexion à Internet",
    "ERR_ADDRESS_UNREACHABLE": "adresse injoignable (pas de réseau ?)",
    "ERR_NETWORK_CHANGED": "le réseau a changé pendant la tentative",
    "ERR_CONNECTION_REFUSED": "connexion refusée par le serveur",
    "ERR_CONNECTION_RESET": "connexion coupée par le serveur",
    "ERR_CONNECTION_CLOSED": "connexion fermée par le serveur",
    "ERR_CONNECTION_TIMED_OUT": "le serveur ne répond pas",
    "ERR_TIMED_OUT": "le serveur ne répond pas",
    "ERR_EMPTY_RESPONSE": "le serveur n'a rien renvoyé",
    "ERR_TOO_MANY_REDIRECTS": "trop de redirections",
    "ERR_PROXY_CONNECTION_FAILED": "le proxy ne répond pas",
    "ERR_SSL_PROTOCOL_ERROR": "échec de la connexion sécurisée (TLS)",
    "ERR_CERT_AUTHORITY_INVALID": "certificat du site non reconnu",
    "ERR_CERT_DATE_INVALID": "certificat du site expiré ou pas encore valable",
    "ERR_CERT_COMMON_NAME_INVALID": "certificat émis pour un autre site",
}
# The errors of the connection the attempt was made from, before any server answered: no name resolution, no
# network, a proxy down. Not the booking site's doing, and no proof against it (a server that refuses, resets
# or does not answer is the site's side, as far as an attempt can tell).
CONNECTION_FAILURES = frozenset({
    "ERR_NAME_NOT_RESOLVED", "ERR_NAME_RESOLUTION_FAILED", "ERR_INTERNET_DISCONNECTED", "ERR_ADDRESS_UNREACHABLE",
    "ERR_NETWORK_CHANGED", "ERR_PROXY_CONNECTION_FAILED",
})
_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)(?: at (\S+))?")
_RECORDED_CODE = re.compile(r"^page inaccessible : .*\[net::(ERR_[A-Z_]+)\]")


def french_net_error(message: str) -> str:
    """`message` (Playwright's first line) in French when it carries a Chromium network error."""
    found = _NET_ERROR.search(message)
    if found is None:
        return message
    code, url = found[1], found[2]
    reason = REASONS.get(code, "erreur réseau du navigateur")
    return f"page inaccessible : {reason} [net::{code}]" + (f" — {url}" if url else "")


def address_reached(page_url: str | None) -> str | None:
    """The address a page was at, or None when it is the browser's own error page (`chrome-error://…`, which
    Chromium puts in place of a page it could not open and never shows in its address bar): nothing was
    reached, and that internal address means nothing to a reader."""
    if page_url is None or page_url.startswith("chrome-error:"):
        return None
    return page_url


def address_beyond(page_url: str | None, requested: str) -> str | None:
    """The address a page ended at, when it is one (`address_reached`) other than the one requested: what the
    dossier and the dashboard add to the requested address."""
    reached = address_reached(page_url)
    return reached if reached != requested else None


def connection_failed(error: str | None) -> bool:
    """Whether a recorded error (`french_net_error`'s sentence) is a failure of the attempt's own connection:
    the booking site was never reached, so the attempt shows nothing of it."""
    found = _RECORDED_CODE.match(error or "")
    return found is not None and found[1] in CONNECTION_FAILURES
