"""The environment record of a capture: machine, software, proxy, DNS, TLS certificate and clock."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from capture.environment import collect_environment, http_date_skew

VERSIONS = {"browser_version": "Chromium 131.0", "playwright_version": "1.49.0", "tool_version": "0.1.0"}


def collect(url: str, **overrides: Any) -> dict[str, Any]:
    return collect_environment(url, **(VERSIONS | {"viewport": (1366, 768)} | overrides))


def json_types_only(value: Any, path: str = "$") -> None:
    """Fail on anything but str/int/bool/None/list/dict with str keys; floats in particular."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: non-string key {key!r}"
            json_types_only(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            json_types_only(item, f"{path}[{index}]")
    else:
        assert value is None or type(value) in (str, int, bool), f"{path}: {type(value).__name__} {value!r}"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def openssl(*arguments: str) -> str:
    return subprocess.run(["openssl", *arguments], check=True, capture_output=True, text=True).stdout.strip()


def make_certificate(directory: Path, subject: str, alt_names: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    key, cert = directory / "key.pem", directory / "cert.pem"
    openssl(
        "req", "-x509", "-utf8", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-days", "1",
        "-addext", f"subjectAltName={alt_names}", "-keyout", str(key), "-out", str(cert),
    )
    return cert, key


@contextmanager
def https_server(cert: Path, key: Path) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 presenting `cert`; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"), "/CN=localhost", "DNS:localhost,IP:127.0.0.1")


@pytest.fixture
def https_port(self_signed: tuple[Path, Path]) -> Iterator[int]:
    with https_server(*self_signed) as port:
        yield port


def test_plain_http_record() -> None:
    record = collect("http://127.0.0.1:8080/booking/create/989/0", viewport=(1280, 720))

    assert record["target"] == {
        "url": "http://127.0.0.1:8080/booking/create/989/0", "scheme": "http", "host": "127.0.0.1", "port": 8080,
    }
    assert record["dns"] == {"host": "127.0.0.1", "addresses": ["127.0.0.1"], "error": None}
    assert record["tls"] is None
    assert record["fresh_profile"] is True
    assert record["viewport"] == {"width": 1280, "height": 720}
    assert record["software"] == {"tool": "0.1.0", "browser": "Chromium 131.0", "playwright": "1.49.0"}
    assert record["os"]["platform"] and record["os"]["machine"]
    assert record["python"]["version"].startswith("3.")
    assert record["proxy"] == {"environment": {}, "detected": {}, "in_effect": False}
    clock = datetime.fromisoformat(record["clock"]["utc"])
    assert clock.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - clock) < timedelta(seconds=10)
    json_types_only(record)


def test_self_signed_certificate_is_described_and_not_verified(
    https_port: int, self_signed: tuple[Path, Path]
) -> None:
    cert, _ = self_signed
    record = collect(f"https://127.0.0.1:{https_port}/rdvpref/")
    tls = record["tls"]

    assert tls["error"] is None
    assert tls["verified"] is False
    assert "self" in tls["verify_error"].lower()  # "self-signed certificate"
    assert tls["protocol"].startswith("TLSv1.")
    certificate = tls["certificate"]
    expected_fingerprint = openssl("x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256").split("=", 1)[1]
    assert certificate["sha256_fingerprint"] == expected_fingerprint.replace(":", "").lower()
    assert certificate["subject"] == "CN=localhost"
    assert certificate["issuer"] == "CN=localhost"
    assert certificate["subject_alt_names"] == ["DNS:localhost", "IP:127.0.0.1"]
    serial = openssl("x509", "-in", str(cert), "-noout", "-serial").split("=")[1]
    assert int(certificate["serial"], 16) == int(serial, 16)
    for field, option in (("not_before", "-startdate"), ("not_after", "-enddate")):
        shown = openssl("x509", "-in", str(cert), "-noout", option).split("=", 1)[1]
        expected = datetime.strptime(shown, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc)
        assert datetime.fromisoformat(certificate[field]) == expected
    assert ssl.PEM_cert_to_DER_cert(certificate["pem"]) == ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert certificate["error"] is None
    json_types_only(record)


def test_certificate_verifies_against_the_trust_store(
    https_port: int, self_signed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _ = self_signed
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # OpenSSL's default trust store now holds our certificate
    tls = collect(f"https://127.0.0.1:{https_port}/")["tls"]

    assert tls["verified"] is True
    assert tls["verify_error"] is None
    assert tls["trust_store"]["cafile"] == str(cert)
    assert tls["certificate"]["subject"] == "CN=localhost"


def test_certificate_name_with_several_attributes_and_accents(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, "/C=FR/O=Préfecture du Val-d'Oise/CN=www.val-doise.test", "IP:::1")
    with https_server(cert, key) as port:
        certificate = collect(f"https://127.0.0.1:{port}/")["tls"]["certificate"]

    assert certificate["subject"] == "C=FR, O=Préfecture du Val-d'Oise, CN=www.val-doise.test"
    assert certificate["subject_alt_names"] == ["IP:::1"]
    assert certificate["error"] is None


def test_unreachable_tls_server_becomes_an_error_field() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tls = collect(f"https://127.0.0.1:{port}/")["tls"]

    assert tls["verified"] is None
    assert tls["certificate"] is None
    assert tls["error"].startswith("ConnectionRefusedError")


def test_silent_tls_server_hits_the_deadline() -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never answers the handshake
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        record = collect(f"https://127.0.0.1:{silent.getsockname()[1]}/", network_timeout_s=0.5)
        elapsed = time.monotonic() - started

    assert elapsed < 3
    assert "timed out" in record["tls"]["error"] or "no answer within" in record["tls"]["error"]
    json_types_only(record)


def test_url_without_host() -> None:
    record = collect("https:///booking")
    assert record["dns"]["error"] == "the URL has no host"
    assert record["tls"]["error"] == "the URL has no host or port"


def test_proxy_credentials_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cr:et@proxy.example:3128")
    monkeypatch.setenv("http_proxy", "bob:hunter2@10.0.0.1:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    proxy = collect("http://127.0.0.1:8080/")["proxy"]

    assert proxy["environment"] == {
        "HTTPS_PROXY": "http://***@proxy.example:3128",
        "NO_PROXY": "localhost,127.0.0.1",
        "http_proxy": "***@10.0.0.1:8080",
    }
    assert proxy["in_effect"] is True
    serialised = json.dumps(proxy)
    for secret in ("alice", "s3cr", "bob", "hunter2"):
        assert secret not in serialised


def test_skew_between_server_date_and_local_clock() -> None:
    local = datetime(2026, 11, 27, 8, 35, 10, 250_000, tzinfo=timezone.utc)
    record = http_date_skew("Fri, 27 Nov 2026 08:35:12 GMT", local)
    assert record == {
        "server_date_header": "Fri, 27 Nov 2026 08:35:12 GMT",
        "server_date": "2026-11-27T08:35:12+00:00",
        "local_utc": "2026-11-27T08:35:10.250+00:00",
        "skew_ms": 1750,
        "error": None,
    }
    paris = timezone(timedelta(hours=1))
    behind = http_date_skew("Fri, 27 Nov 2026 08:34:00 GMT", datetime(2026, 11, 27, 9, 35, 0, tzinfo=paris))
    assert behind["skew_ms"] == -60_000
    json_types_only(record)


@pytest.mark.parametrize(("header", "error"), [(None, "no Date header"), ("hier soir", "unreadable Date header")])
def test_skew_without_a_usable_date_header(header: str | None, error: str) -> None:
    record = http_date_skew(header, datetime(2026, 11, 27, 8, 35, tzinfo=timezone.utc))
    assert record["skew_ms"] is None
    assert record["server_date"] is None
    assert record["error"].startswith(error)
    assert record["local_utc"] == "2026-11-27T08:35:00.000+00:00"


def test_skew_refuses_a_naive_local_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        http_date_skew("Fri, 27 Nov 2026 08:35:12 GMT", datetime(2026, 11, 27, 8, 35))
