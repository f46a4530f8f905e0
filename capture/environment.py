"""Describe the technical setting of a capture, in the spirit of a constat d'huissier on the Internet.

The NF Z67-147 practice (REFERENCE §3) describes the machine, the OS, the browser and their versions, the
connection (is there a proxy?), a clean browser profile and the clock. This module records what the program can
state about itself, and two facts about the target as seen from this machine: its DNS answer and, for https,
its TLS certificate.

Every value is JSON-safe and float-free, so the record serialises and hashes identically everywhere. A failed
probe becomes an "error" field, never an exception, and every network probe has a hard deadline so a capture
never hangs on it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import platform
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

DEFAULT_NETWORK_TIMEOUT_S = 3.0

_T = TypeVar("_T")
_MILLISECOND = timedelta(milliseconds=1)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def collect_environment(
    url: str,
    *,
    browser_version: str,
    playwright_version: str,
    tool_version: str,
    viewport: tuple[int, int],
    network_timeout_s: float = DEFAULT_NETWORK_TIMEOUT_S,
) -> dict[str, Any]:
    """Return the environment record for a capture of `url`.

    `fresh_profile` is always True: captures run in a new browser context, without cookies, cache or history,
    which is what the norm asks of the bailiff. The DNS and TLS probes each get `network_timeout_s`; they connect
    directly, not through any proxy listed in the record.
    """
    now = datetime.now(timezone.utc)
    target = _target(url)
    dns = _resolve(target["host"], target["port"], network_timeout_s)
    tls = None
    if target["scheme"] == "https":
        tls = _tls(target["host"], target["port"], network_timeout_s)
    width, height = viewport
    return {
        "clock": {
            "utc": now.isoformat(timespec="milliseconds"),
            "local": now.astimezone().isoformat(timespec="milliseconds"),
        },
        "os": {
            "platform": platform.platform(),
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "openssl": ssl.OPENSSL_VERSION,
        },
        "software": {"tool": tool_version, "browser": browser_version, "playwright": playwright_version},
        "viewport": {"width": int(width), "height": int(height)},
        "fresh_profile": True,
        "proxy": _proxy_settings(),
        "target": target,
        "dns": dns,
        "tls": tls,
    }


def http_date_skew(server_date_header: str | None, local_utc: datetime) -> dict[str, Any]:
    """Compare the server's HTTP `Date` header with the local clock read at the same moment.

    `skew_ms` is server minus local, positive when the server is ahead. The header only has whole seconds, so a
    skew under 1000 ms in absolute value means the clocks agree. A missing or unreadable header gives
    `skew_ms: None` and an `error`. Raises ValueError if `local_utc` is naive.
    """
    if local_utc.tzinfo is None or local_utc.utcoffset() is None:
        raise ValueError("local_utc must be timezone-aware")
    local = local_utc.astimezone(timezone.utc)
    record: dict[str, Any] = {
        "server_date_header": server_date_header,
        "server_date": None,
        "local_utc": local.isoformat(timespec="milliseconds"),
        "skew_ms": None,
        "error": None,
    }
    if server_date_header is None:
        record["error"] = "no Date header"
        return record
    try:
        server = parsedate_to_datetime(server_date_header)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        record["error"] = f"unreadable Date header: {exc}"
        return record
    if server.tzinfo is None:  # "-0000": HTTP dates are always GMT
        server = server.replace(tzinfo=timezone.utc)
    server = server.astimezone(timezone.utc)
    record["server_date"] = server.isoformat()
    record["skew_ms"] = round((server - local) / _MILLISECOND)
    return record


def _target(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return {"url": url, "scheme": parts.scheme, "host": parts.hostname, "port": port}


def _proxy_settings() -> dict[str, Any]:
    """Proxy variables set in the environment, and what urllib detects (on macOS and Windows: system settings)."""
    environment = {
        name: _mask_credentials(value)
        for name, value in sorted(os.environ.items())
        if name.lower().endswith("_proxy")
    }
    detected = {scheme: _mask_credentials(value) for scheme, value in sorted(urllib.request.getproxies().items())}
    return {
        "environment": environment,
        "detected": detected,
        "in_effect": any(scheme != "no" for scheme in detected),
    }


def _mask_credentials(value: str) -> str:
    """Hide `user:password@` in a proxy URL; the password may itself contain ':', '/' or '@'."""
    scheme, separator, rest = value.partition("://")
    if not separator:
        scheme, rest = "", value
    if "@" not in rest:
        return value
    return f"{scheme}{separator}***@{rest.rpartition('@')[2]}"


def _resolve(host: str | None, port: int | None, timeout_s: float) -> dict[str, Any]:
    record: dict[str, Any] = {"host": host, "addresses": [], "error": None}
    if not host:
        record["error"] = "the URL has no host"
        return record
    try:
        answers = _within(timeout_s, lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError) as exc:
        record["error"] = _describe(exc)
        return record
    addresses = {answer[4][0] for answer in answers}
    record["addresses"] = sorted(addresses, key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))
    return record


def _tls(host: str | None, port: int | None, timeout_s: float) -> dict[str, Any]:
    """Fetch the server certificate, first verifying it against the system trust store, then without.

    A certificate that fails verification (self-signed, expired, wrong host) is still fetched and described:
    the record says that it did not verify and why.
    """
    verify_paths = ssl.get_default_verify_paths()
    record: dict[str, Any] = {
        "verified": None,
        "verify_error": None,
        "trust_store": {"cafile": verify_paths.cafile, "capath": verify_paths.capath},
        "protocol": None,
        "cipher": None,
        "certificate": None,
        "error": None,
    }
    if not host or port is None:
        record["error"] = "the URL has no host or port"
        return record
    deadline = time.monotonic() + timeout_s
    try:
        session = _within(timeout_s, lambda: _handshake(host, port, timeout_s, verify=True))
        record["verified"] = True
    except ssl.SSLCertVerificationError as exc:
        record["verified"] = False
        record["verify_error"] = exc.verify_message or str(exc)
        remaining = max(deadline - time.monotonic(), 0.1)
        try:
            session = _within(remaining, lambda: _handshake(host, port, remaining, verify=False))
        except (OSError, UnicodeError, ValueError) as exc:
            record["error"] = _describe(exc)
            return record
    except (OSError, UnicodeError, ValueError) as exc:
        record["error"] = _describe(exc)
        return record
    der, record["protocol"], record["cipher"] = session
    record["certificate"] = _describe_certificate(der) if der else None
    return record


def _handshake(host: str, port: int, timeout_s: float, *, verify: bool) -> tuple[bytes | None, str | None, str | None]:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout_s) as raw:
        with context.wrap_socket(raw, server_hostname=host) as connection:
            cipher = connection.cipher()
            return connection.getpeercert(binary_form=True), connection.version(), cipher[0] if cipher else None


def _within(timeout_s: float, probe: Callable[[], _T]) -> _T:
    """Run `probe` with a hard deadline; past it, raise TimeoutError and abandon the (daemon) thread.

    getaddrinfo has no timeout of its own, and a socket timeout bounds each read, not a whole handshake.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = probe()
        except Exception as exc:  # handed over to the caller's thread just below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="environment-probe", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _describe_certificate(der: bytes) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sha256_fingerprint": hashlib.sha256(der).hexdigest(),
        "subject": None,
        "issuer": None,
        "serial": None,
        "not_before": None,
        "not_after": None,
        "subject_alt_names": [],
        "pem": ssl.DER_cert_to_PEM_cert(der),
        "error": None,
    }
    try:
        record.update(_parse_certificate(der))
    except (ValueError, IndexError) as exc:
        record["error"] = f"unreadable certificate: {exc}"
    return record


# --- A minimal X.509 (DER) reader: the standard library hands out the fields of a certificate only when it
# --- verified, and the unverified ones (self-signed, expired) are exactly those worth describing.

_NAME_ATTRIBUTES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString, in practice
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}
_SUBJECT_ALT_NAME = "2.5.29.17"
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
_DNS_NAME, _IP_ADDRESS = 0x82, 0x87
_VERSION, _EXTENSIONS = 0xA0, 0xA3

_Element = tuple[int, int, int]  # tag, start and end of the content


def _parse_certificate(der: bytes) -> dict[str, Any]:
    _, start, end = _element(der, 0)
    _, tbs_start, tbs_end = _children(der, start, end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields[0][0] == _VERSION:
        fields = fields[1:]
    serial, _signature, issuer, validity, subject, _public_key, *optional = fields
    not_before, not_after = _children(der, validity[1], validity[2])
    alt_names: list[str] = []
    for tag, ext_start, ext_end in optional:
        if tag == _EXTENSIONS:
            alt_names = _subject_alt_names(der, ext_start, ext_end)
    return {
        "subject": _name(der, subject),
        "issuer": _name(der, issuer),
        "serial": format(int.from_bytes(der[serial[1]:serial[2]], "big"), "x"),
        "not_before": _time(der, not_before),
        "not_after": _time(der, not_after),
        "subject_alt_names": alt_names,
    }


def _element(der: bytes, position: int) -> _Element:
    tag, length = der[position], der[position + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tag")
    start = position + 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(der[start:start + size], "big")
        start += size
    if start + length > len(der):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _children(der: bytes, start: int, end: int) -> list[_Element]:
    children = []
    while start < end:
        child = _element(der, start)
        children.append(child)
        start = child[2]
    return children


def _oid(raw: bytes) -> str:
    arcs, value = [], 0
    for byte in raw:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first, *arcs[1:]])


def _name(der: bytes, name: _Element) -> str:
    """An X.509 name in certificate order, e.g. "C=FR, O=Example, CN=www.example.fr"."""
    parts = []
    for _, set_start, set_end in _children(der, name[1], name[2]):
        for _, attribute_start, attribute_end in _children(der, set_start, set_end):
            (_, oid_start, oid_end), (tag, value_start, value_end) = _children(der, attribute_start, attribute_end)
            oid = _oid(der[oid_start:oid_end])
            raw = der[value_start:value_end]
            codec = _STRING_CODECS.get(tag)
            value = raw.decode(codec, errors="replace") if codec else "#" + raw.hex()
            parts.append(f"{_NAME_ATTRIBUTES.get(oid, oid)}={value}")
    return ", ".join(parts)


def _time(der: bytes, element: _Element) -> str:
    tag, start, end = element
    text = der[start:end].decode("ascii").removesuffix("Z").split(".")[0]
    if tag == _UTC_TIME:  # two-digit year: 50-99 means 19xx (RFC 5280)
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    elif tag != _GENERALIZED_TIME:
        raise ValueError(f"unexpected time tag {tag:#x}")
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).isoformat()


def _subject_alt_names(der: bytes, start: int, end: int) -> list[str]:
    """SAN entries in OpenSSL's notation: "DNS:example.fr", "IP:192.0.2.1"."""
    (_, list_start, list_end), = _children(der, start, end)
    for _, ext_start, ext_end in _children(der, list_start, list_end):
        parts = _children(der, ext_start, ext_end)
        if _oid(der[parts[0][1]:parts[0][2]]) != _SUBJECT_ALT_NAME:
            continue
        _, value_start, value_end = parts[-1]  # OCTET STRING holding GeneralNames
        (_, names_start, names_end), = _children(der, value_start, value_end)
        names = []
        for tag, name_start, name_end in _children(der, names_start, names_end):
            raw = der[name_start:name_end]
            if tag == _DNS_NAME:
                names.append("DNS:" + raw.decode("ascii", errors="replace"))
            elif tag == _IP_ADDRESS and len(raw) in (4, 16):
                names.append(f"IP:{ipaddress.ip_address(raw)}")
        return names
    return []
