"""Which booking pages may be watched.

Fake mirror sites of prefecture booking pages exist (some sell appointments, some harvest
personal data): by default only https pages on an official domain are accepted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from evidence.errors import BadInput

OFFICIAL_SUFFIXES = (".gouv.fr",)


def is_official_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in OFFICIAL_SUFFIXES)


def validate_target_url(url: str, *, allow_any_domain: bool = False) -> str:
    """Return the URL if it may be watched, else raise BadInput with the reason."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise BadInput(f"adresse invalide : {url!r}") from exc
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise BadInput(f"adresse invalide : {url!r} (attendu : https://…)")
    if "\\" in url or "@" in parts.netloc:
        # Browsers and Python disagree on where the host of « https://a\\@b/ » is: refuse both.
        raise BadInput(f"adresse invalide : {url!r} (« \\ » et « @ » sont refusés avant le chemin)")
    if allow_any_domain:
        return url
    if parts.scheme != "https" or not is_official_host(host):
        raise BadInput(
            f"adresse refusée : {host} n'est pas un domaine officiel (*.gouv.fr) en https. "
            "Attention aux faux sites qui imitent les préfectures ; "
            "utilisez --allow-any-domain seulement si vous savez ce que vous faites"
        )
    return url
