"""Anchoring on by default: the public authorities `preuves init` names, their roots, the fallbacks,
and what is sent to an authority. No test contacts a public authority: they use local ones."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from evidence import tsa_defaults
from evidence.anchor_checks import check_anchors
from evidence.anchor_models import AnchorRequest
from evidence.anchors import AnchorSettings, anchor_if_due, anchor_now
from evidence.errors import WorkspaceError
from evidence.workspace import Workspace, init_workspace, open_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures
from tests.tsa_helpers import AuthorityKeys, LocalTsa, make_authority, unreachable_url, write_anchors_section

SHIPPED = tsa_defaults.SHIPPED_AUTHORITIES


def _fingerprints(pem: bytes) -> list[str]:
    return [hashlib.sha256(c.public_bytes(Encoding.DER)).hexdigest() for c in x509.load_pem_x509_certificates(pem)]


def test_the_shipped_roots_are_the_published_ones():
    readme = (tsa_defaults.root_file(SHIPPED[0]).parent / "README.md").read_text(encoding="utf-8")
    for authority in SHIPPED:
        pem = tsa_defaults.root_file(authority).read_bytes()
        assert _fingerprints(pem) == list(authority.fingerprints)
        assert all(cert.issuer == cert.subject for cert in x509.load_pem_x509_certificates(pem))  # roots
        assert all(fingerprint in readme for fingerprint in authority.fingerprints)
    assert [a.fallback for a in SHIPPED] == [False, True]  # the qualified one first, then the fallback


def test_init_names_the_public_authorities_enabled_with_their_roots(tmp_path, monkeypatch):
    monkeypatch.setattr(tsa_defaults, "PUBLIC_AUTHORITIES", SHIPPED)
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home)
    try:
        settings = AnchorSettings.from_workspace(workspace)
    finally:
        workspace.close()
    assert [(a.name, a.url, a.fallback) for a in settings.authorities] == [
        ("Sectigo (qualifié eIDAS)", "http://timestamp.sectigo.com/qualified", False),
        ("DigiCert", "http://timestamp.digicert.com", True),
    ]
    for configured, shipped in zip(settings.authorities, SHIPPED, strict=True):
        assert configured.ca_file == home / "racines-horodatage" / shipped.roots
        assert stat.S_IMODE(configured.ca_file.stat().st_mode) == 0o600
        assert _fingerprints(configured.ca_file.read_bytes()) == list(shipped.fingerprints)
    assert stat.S_IMODE((home / "racines-horodatage").stat().st_mode) == 0o700
    config = (home / "preuves.toml").read_text(encoding="utf-8")
    assert "Pour ne plus horodater : « tsa = [] »." in config


def test_a_demonstration_names_them_commented_out(tmp_path, monkeypatch):
    monkeypatch.setattr(tsa_defaults, "PUBLIC_AUTHORITIES", SHIPPED)
    workspace, _ = init_workspace(tmp_path / "demo", demo=True)
    try:
        assert AnchorSettings.from_workspace(workspace).authorities == ()
    finally:
        workspace.close()
    config = (tmp_path / "demo" / "preuves.toml").read_text(encoding="utf-8")
    assert '#   { name = "Sectigo (qualifié eIDAS)", url = "http://timestamp.sectigo.com/qualified"' in config
    assert not (tmp_path / "demo" / "racines-horodatage").exists()


def test_the_test_workspaces_name_no_public_authority(workspace):
    assert AnchorSettings.from_workspace(workspace).authorities == ()
    assert "timestamp.sectigo.com" not in (workspace.home / "preuves.toml").read_text(encoding="utf-8")


def test_a_bad_fallback_flag_is_refused(workspace, tmp_path):
    config = workspace.home / "preuves.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[anchors]\n", '[anchors]\ntsa = [{ name = "A", url = "http://a.test/", ca_file = "a.pem", fallback = "oui" }]\n'
        ),
        encoding="utf-8",
    )
    reopened = open_workspace(workspace.home)
    try:
        with pytest.raises(WorkspaceError, match="« fallback » de l'autorité « A » : true ou false attendu"):
            AnchorSettings.from_workspace(reopened)
    finally:
        reopened.close()


# --- what leaves the machine ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    return make_authority(tmp_path_factory.mktemp("tsa"), "Principale")


@pytest.fixture(scope="module")
def fallback_keys(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    return make_authority(tmp_path_factory.mktemp("secours"), "Secours")


@pytest.fixture
def case_ws(workspace: Workspace) -> Workspace:
    record_sample_captures(workspace, add_sample_case(workspace), 3)
    return workspace


@pytest.fixture
def servers(keys: AuthorityKeys, fallback_keys: AuthorityKeys) -> Iterator[tuple[LocalTsa, LocalTsa]]:
    with LocalTsa(keys) as main, LocalTsa(fallback_keys) as fallback:
        yield main, fallback


def _configured(ws: Workspace, *authorities: tuple) -> Workspace:
    write_anchors_section(ws.home / "preuves.toml", *authorities)
    return open_workspace(ws.home)


def test_only_the_root_and_a_nonce_leave_the_machine(case_ws, keys, servers):
    main, _ = servers
    ws = _configured(case_ws, ("Principale", main.url, keys.ca_file))
    try:
        [outcome] = anchor_now(ws)
    finally:
        ws.close()
    [query] = main.queries
    request = tsp.TimeStampReq.load(query).native
    nonce = request.pop("nonce")
    assert request == {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256", "parameters": None},
            "hashed_message": bytes.fromhex(outcome.root),
        },
        "req_policy": None,
        "cert_req": True,
        "extensions": None,
    }
    assert 0 < nonce < 2**63 and len(query) < 80


def _statuses(ws: Workspace) -> list[tuple[str, str, str | None]]:
    with ws.reading() as session:
        rows = session.scalars(select(AnchorRequest).order_by(AnchorRequest.id))
        return [(r.tsa_name, r.status, r.last_error) for r in rows]


def test_a_fallback_is_asked_only_when_the_main_authority_fails(case_ws, keys, fallback_keys, servers):
    main, fallback = servers
    ws = _configured(case_ws, ("Principale", main.url, keys.ca_file), ("Secours", fallback.url, fallback_keys.ca_file, True))
    try:
        assert [(o.authority, o.status) for o in anchor_now(ws)] == [("Principale", "anchored")]
        assert (main.requests, fallback.requests) == (1, 0)
    finally:
        ws.close()
    add_sample_case(case_ws, "Martin")  # news in the journal
    offline = _configured(
        case_ws, ("Principale", unreachable_url(), keys.ca_file), ("Secours", fallback.url, fallback_keys.ca_file, True)
    )
    try:
        outcomes = anchor_now(offline)
    finally:
        offline.close()
    assert [(o.authority, o.status) for o in outcomes] == [("Principale", "pending"), ("Secours", "anchored")]
    assert outcomes[0].error == "injoignable : connexion refusée"


def test_the_fallbacks_requests_are_dropped_once_the_main_authority_answers(case_ws, keys, fallback_keys, servers):
    main, fallback = servers
    both_down = _configured(
        case_ws, ("Principale", unreachable_url(), keys.ca_file), ("Secours", unreachable_url(), fallback_keys.ca_file, True)
    )
    try:
        assert [o.status for o in anchor_now(both_down)] == ["pending", "pending"]
    finally:
        both_down.close()
    back = _configured(case_ws, ("Principale", main.url, keys.ca_file), ("Secours", fallback.url, fallback_keys.ca_file, True))
    try:
        assert [(o.authority, o.status) for o in anchor_now(back)] == [("Principale", "anchored")]
        assert _statuses(back) == [
            ("Principale", "done", None), ("Secours", "cancelled", "une autre autorité a horodaté le journal")
        ]
    finally:
        back.close()
    assert fallback.requests == 0


def test_a_timer_pass_asks_the_fallback_once_a_day_while_the_main_one_is_down(case_ws, keys, fallback_keys, servers):
    _, fallback = servers
    ws = _configured(
        case_ws, ("Principale", unreachable_url(), keys.ca_file), ("Secours", fallback.url, fallback_keys.ca_file, True)
    )
    try:
        first = anchor_if_due(ws)
        second = anchor_if_due(ws)  # minutes later: the main one is retried, the fallback has its token
    finally:
        ws.close()
    assert [(o.authority, o.status) for o in first] == [("Principale", "pending"), ("Secours", "anchored")]
    assert [(o.authority, o.status) for o in second] == [("Principale", "pending")]
    assert fallback.requests == 1


def test_turning_anchoring_off_keeps_the_tokens_already_obtained_valid(case_ws, keys, servers):
    main, _ = servers
    ws = _configured(case_ws, ("Principale", main.url, keys.ca_file))
    try:
        assert [o.status for o in anchor_now(ws)] == ["anchored"]
    finally:
        ws.close()
    write_anchors_section(case_ws.home / "preuves.toml")  # tsa = []
    off = open_workspace(case_ws.home)
    try:
        report = check_anchors(off)
        assert (report.problems, report.valid, report.captures_covered) == ([], 1, 3)
    finally:
        off.close()
