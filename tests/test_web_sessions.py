"""Signing in to the dashboard (issue 15): forms bounded before they are parsed, a login throttle
that cannot lock a user out nor be raced, sessions that end when they should, the password rule,
and `preuves user passwd|remove`. Each test sends the request that got through before."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psutil
import pytest
import time_machine
from sqlalchemy import select

from evidence.accounts import add_user, change_password
from evidence.errors import BadInput
from evidence.models import JournalEntry
from evidence.passwords import password_problem
from preuves.web.throttle import MAX_PAIR_FAILURES, SLOW_INTERVAL_S, LoginThrottle
from tests.web_client import Client
from tests.web_helpers import dashboard

pytestmark = pytest.mark.both_databases

PASSWORD = "un mot de passe assez long"
WRONG = "pas le bon mot de passe"


@pytest.fixture
def alice(workspace) -> str:
    add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
    return "alice"


def signed_in(client: Client) -> bool:
    """Whether the client's session opens the case list (else: the login page)."""
    reply = client.get("/")
    return reply.status == 200 and "Se déconnecter" in reply.text


# --- 3. Memory before login ----------------------------------------------------------------------


def test_a_huge_login_form_is_refused_before_it_is_read(workspace, alice):
    with dashboard(workspace, accounts=True) as base:
        client = Client(base)
        token = client.token("/connexion")
        huge = client.post("/connexion", {"csrf_token": token, "username": "a" * 5_000_000, "password": "x"})
        assert huge.status == 413 and "Formulaire trop volumineux (64 Ko au plus)." in huge.text
        files = client.post_files("/connexion", {"csrf_token": token}, {"username": ("nom.txt", b"a" * 2_000_000)})
        assert files.status == 413
        assert client.post("/connexion", {"csrf_token": token, "username": "é" * 200, "password": "x"}).status == 401


def test_huge_login_forms_leave_the_server_memory_as_it_was(workspace, alice):
    """The attack of the issue: login POSTs of 50 MB usernames, on a real `preuves serve`."""
    with serving(workspace) as (base, server):
        client = Client(base)
        token = client.token("/connexion")
        before = psutil.Process(server.pid).memory_info().rss
        for _ in range(3):
            client.post("/connexion", {"csrf_token": token, "username": "a" * 50_000_000, "password": "x"})
        grown = psutil.Process(server.pid).memory_info().rss - before
    assert grown < 30 * 2**20, f"the server grew by {grown // 2**20} MiB"


@contextmanager
def serving(workspace) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`preuves serve` in its own process, on a free port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "preuves", "--home", str(workspace.home), "serve", "--port", str(port)],
        stderr=subprocess.DEVNULL, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                Client(base, timeout_s=5).get("/connexion")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "preuves serve did not start"
                time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_throttle_remembers_a_bounded_number_of_names():
    clock = iter(range(10**6))
    throttle = LoginThrottle(clock=lambda: float(next(clock)), max_keys=100)
    for n in range(5_000):
        throttle.begin(f"nom{n}", f"10.0.{n // 250}.{n % 250}")
    assert throttle.tracked() <= 300


# --- 4. Lock-out: per (username, address), counted before the check, with a global slow-down ------


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(workspace, alice):
    with dashboard(workspace, accounts=True) as base:
        stranger = Client(base, source="127.0.0.9")
        for _ in range(MAX_PAIR_FAILURES):
            assert stranger.login("alice", WRONG).status == 401
        locked = stranger.login("alice", PASSWORD)
        assert locked.status == 429 and "Trop d&#39;essais pour cet identifiant depuis cette adresse" in locked.text
        assert Client(base, source="127.0.0.1").login("alice", PASSWORD).status == 302


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(workspace, alice):
    with dashboard(workspace, accounts=True, threads=8) as base:
        clients = [Client(base, source="127.0.0.9") for _ in range(20)]
        tokens = [client.token("/connexion") for client in clients]

        def attempt(n: int) -> str:
            form = {"csrf_token": tokens[n], "username": "alice", "password": WRONG}
            reply = clients[n].post("/connexion", form)
            return "checked" if "Identifiant ou mot de passe incorrect." in reply.text else str(reply.status)

        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("checked") == MAX_PAIR_FAILURES  # real password checks
    assert outcomes.count("429") == 20 - MAX_PAIR_FAILURES


def test_many_addresses_slow_a_username_down_without_locking_it():
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for n in range(10):
        assert throttle.begin("alice", f"192.0.2.{n}") is None
    assert "quelques secondes" in (throttle.begin("alice", "192.0.2.200") or "")
    now[0] += SLOW_INTERVAL_S
    assert throttle.begin("alice", "192.0.2.201") is None  # one more check every few seconds
    assert throttle.begin("bruno", "192.0.2.202") is None  # other users are not slowed down


# --- 5. Sessions that end ------------------------------------------------------------------------


def test_a_copied_cookie_is_dead_after_logout(workspace, alice):
    with dashboard(workspace, accounts=True) as base:
        client = Client(base)
        assert client.login("alice", PASSWORD).status == 302
        copy = Client(base, cookies=dict(client.cookies))
        assert signed_in(copy)
        client.post("/deconnexion", {"csrf_token": client.token("/")})
        assert not signed_in(client) and not signed_in(copy)


def test_a_session_lasts_twelve_hours_from_login_however_busy(workspace, alice):
    with dashboard(workspace, accounts=True) as base, time_machine.travel(datetime(2026, 11, 2, 8, tzinfo=UTC)) as clock:
        client = Client(base)
        client.login("alice", PASSWORD)
        for hours in (4, 4, 3):
            clock.shift(timedelta(hours=hours))
            assert signed_in(client)
        clock.shift(timedelta(hours=1, minutes=1))
        reply = client.get("/")
        assert reply.status == 302 and reply.location.startswith("/connexion")


def test_a_new_password_or_a_removed_account_ends_its_sessions_at_once(cli, workspace, alice, monkeypatch):
    add_user(workspace, "bruno", PASSWORD, "Cimade Cergy")
    with dashboard(workspace, accounts=True) as base:
        alices, brunos = Client(base), Client(base)
        alices.login("alice", PASSWORD)
        brunos.login("bruno", PASSWORD)
        monkeypatch.setattr("sys.stdin", io.StringIO("une toute nouvelle phrase\n"))
        changed = cli("user", "passwd", "alice", "--password-stdin", home=workspace.home)
        assert changed.code == 0 and "sessions ouvertes sont fermées" in changed.err
        assert not signed_in(alices) and signed_in(brunos)
        assert Client(base).login("alice", PASSWORD).status == 401
        assert Client(base).login("alice", "une toute nouvelle phrase").status == 302

        removed = cli("user", "remove", "bruno", home=workspace.home)
        assert removed.code == 0 and removed.err.strip() == "Compte « bruno » supprimé ; ses sessions sont fermées."
        assert not signed_in(brunos)
        assert Client(base).login("bruno", PASSWORD).status == 401
    unknown = cli("user", "remove", "bruno", home=workspace.home)
    assert (unknown.code, unknown.err.strip()) == (2, "Erreur : compte inconnu : 'bruno' (voir « preuves user list »)")
    with workspace.reading() as session:
        payloads = "\n".join(session.scalars(select(JournalEntry.payload)))
    assert '"kind":"user.password_changed"' in payloads and '"kind":"user.removed"' in payloads
    assert "une toute nouvelle phrase" not in payloads


def test_a_server_started_without_accounts_closes_when_one_is_added(workspace):
    with dashboard(workspace, accounts=False) as base:
        client = Client(base)
        assert client.get("/").status == 200
        add_user(workspace, "alice", PASSWORD, "Cimade Cergy")
        reply = client.get("/")
        assert reply.status == 302 and reply.location.startswith("/connexion")
        assert client.login("alice", PASSWORD).status == 302 and signed_in(client)


@pytest.mark.parametrize("next_path", ["/\t/evil.example", "/\r/evil.example", "//evil.example", "/\\evil.example",
                                       "https://evil.example/", "/\x00"])
def test_the_login_never_redirects_off_site_nor_fails(workspace, alice, next_path):
    with dashboard(workspace, accounts=True) as base:
        reply = Client(base).login("alice", PASSWORD, next_path=next_path)
    assert reply.status == 302 and reply.location == "/"


def test_the_login_goes_back_to_the_page_asked_for(workspace, alice):
    with dashboard(workspace, accounts=True) as base:
        reply = Client(base).login("alice", PASSWORD, next_path="/dossiers/nouveau?x=1")
    assert reply.status == 302 and reply.location == "/dossiers/nouveau?x=1"


# --- The password rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("a" * 12, "trop répétitif (5 caractères différents au moins)"),
        ("abababababab", "trop répétitif (5 caractères différents au moins)"),
        ("motdepasse2024", "c'est un des mots de passe les plus courants : choisissez une phrase de plusieurs mots"),
        ("Azertyuiop123!", "c'est un des mots de passe les plus courants : choisissez une phrase de plusieurs mots"),
        ("soleilsoleilsoleil", "c'est un des mots de passe les plus courants : choisissez une phrase de plusieurs mots"),
        ("alice-2026-cergy", "il contient l'identifiant"),
        ("court", "12 caractères au moins"),
        ("x" * 1024 + "y", "1024 caractères au plus"),
    ],
)
def test_a_trivial_password_is_refused_with_its_reason(password, reason):
    assert password_problem(password, "alice") == reason


def test_the_password_rule_applies_to_every_account_command(cli, workspace, alice, monkeypatch):
    def run(*args: str, password: str):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return cli("user", *args, "--password-stdin", home=workspace.home)

    weak = run("add", "bruno", "--organisation", "Cabinet Leroy", password="a" * 12)
    assert (weak.code, weak.err.strip()) == (
        2, "Erreur : mot de passe refusé : trop répétitif (5 caractères différents au moins)"
    )
    long = run("passwd", "alice", password="x" * 1024 + "y")
    assert (long.code, long.err.strip()) == (2, "Erreur : mot de passe refusé : 1024 caractères au plus")
    assert password_problem(PASSWORD, "alice") is None
    with pytest.raises(BadInput, match="compte inconnu"):
        change_password(workspace, "personne", PASSWORD)
