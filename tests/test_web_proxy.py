"""The reverse-proxy example of docs/nginx/preuves-rdv.conf, run for real in front of the dashboard:
HTTPS with Secure cookies, the client's address forwarded (and nothing a client writes itself),
slow clients cut off. On 127.0.0.1 only, with a throwaway self-signed certificate."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evidence.accounts import add_user
from tests.web_client import Client
from tests.web_helpers import dashboard

EXAMPLE = Path(__file__).parent.parent / "docs" / "nginx" / "preuves-rdv.conf"
PASSWORD = "un mot de passe assez long"
NAME = "preuves.example.org"
# The example's limit on a request's headers, run shorter: a client trickling its headers is cut off as surely.
HEADER_TIMEOUT = "client_header_timeout 10s;"
HEADER_TIMEOUT_S = 3

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                reason="nginx absent : apt-get install nginx-light")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def nginx_in_front(app_port: int, folder: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The documented site, on free ports of 127.0.0.1, with a self-signed certificate."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    https_port = free_port()
    example = EXAMPLE.read_text(encoding="utf-8")
    assert HEADER_TIMEOUT in example
    site = (
        example
        .replace(HEADER_TIMEOUT, f"client_header_timeout {HEADER_TIMEOUT_S}s;")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        .replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        .replace(f"/etc/letsencrypt/live/{NAME}/fullchain.pem", str(certificate))
        .replace(f"/etc/letsencrypt/live/{NAME}/privkey.pem", str(key))
        .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{app_port}")
    )
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temp} include {folder}/site.conf; }}\n",
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stderr=subprocess.PIPE, text=True,
    )
    tls = ssl.create_default_context(cafile=str(certificate))
    tls.check_hostname = False  # the certificate names preuves.example.org; we connect to 127.0.0.1
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else "nginx stopped"
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield f"https://127.0.0.1:{https_port}", tls
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def proxied(workspace, tmp_path) -> Iterator[tuple[str, ssl.SSLContext]]:
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    workspace.config["web"] = {"public_url": f"https://{NAME}", "trusted_proxy": "127.0.0.1"}
    with dashboard(workspace, accounts=True) as base:
        with nginx_in_front(int(base.rsplit(":", 1)[1]), tmp_path) as front:
            yield front


def test_through_the_proxy_cookies_are_secure_and_the_client_address_is_the_real_one(proxied):
    base, tls = proxied
    stranger = Client(base, source="127.0.0.9", host=NAME, tls=tls)
    assert "Secure" in stranger.get("/connexion").headers["Set-Cookie"]
    token = stranger.token("/connexion")
    for _ in range(5):  # a forged X-Forwarded-For is replaced by nginx: the lock falls on 127.0.0.9
        form = {"csrf_token": token, "username": "alice", "password": "pas le bon mot de passe"}
        assert stranger.post("/connexion", form, headers={"X-Forwarded-For": "198.51.100.1"}).status == 401
    assert stranger.login("alice", PASSWORD).status == 429
    alice = Client(base, source="127.0.0.1", host=NAME, tls=tls)
    assert alice.login("alice", PASSWORD).status == 302
    assert "Se déconnecter" in alice.get("/").text


def test_the_proxy_cuts_off_a_client_that_trickles_its_headers(proxied):
    base, tls = proxied
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            tls.wrap_socket(raw, server_hostname=NAME) as slow:
        slow.sendall(f"GET / HTTP/1.1\r\nHost: {NAME}\r\n".encode())
        started = time.monotonic()
        closed = False
        # One header line every half second, never the end: each line comes well within the limit, the whole never.
        while time.monotonic() - started < HEADER_TIMEOUT_S + 15 and not closed:
            time.sleep(0.5)
            try:
                slow.sendall(b"X-Slow: 1\r\n")
                slow.settimeout(0.1)
                closed = slow.recv(1) == b""
            except TimeoutError:
                continue
            except (ssl.SSLError, OSError):
                closed = True
        assert closed and time.monotonic() - started < HEADER_TIMEOUT_S + 5
    assert Client(base, host=NAME, tls=tls).get("/connexion").status == 200
