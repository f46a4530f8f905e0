"""Timestamp anchors: Merkle roots of the journal, tokens from a real local TSA, and their checks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from asn1crypto import core
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

import preuves.cli
from dossier_builder.build import build_dossier
from dossier_builder.verify import verify_bundle
from evidence import anchor_proofs, journal, triggers
from evidence.anchor_checks import check_anchors, verify_anchors
from evidence.anchor_models import Anchor, AnchorRequest
from evidence.anchor_proofs import (
    anchor_summary,
    capture_entry_seqs,
    first_anchor_covering,
    inclusion_proof,
    journal_tree,
    proof_record,
    recomputed_tree,
)
from evidence.anchors import anchor_now, pending_requests, retry_pending
from evidence.merkle import MerkleTree, leaf_hash, node_hash, root_from_inclusion_proof
from evidence.models import Capture, JournalEntry
from evidence.records import CaptureFacts, NewArtefact, next_attempt_no, record_capture
from evidence.timestamps import TokenError, check_token, load_certificates
from evidence.tsa_client import ask_for_token
from evidence.verify import verify_workspace
from evidence.workspace import Workspace, open_workspace
from preuves import anchor_commands
from tests.conftest import CliRunner
from tests.evidence_helpers import (
    URL,
    add_sample_case,
    drop_triggers,
    raw_sql,
    record_sample_captures,
    sample_png,
)
from tests.tsa_helpers import (
    AuthorityKeys,
    LocalTsa,
    SilentServer,
    make_authority,
    unreachable_url,
    write_anchors_section,
)

GUIDE = Path(__file__).parent.parent / "docs" / "verify-by-hand.md"
TSA_NAME = "TSA de test"

# --- the Merkle tree ---------------------------------------------------------------------------

# Certificate Transparency's reference vectors (RFC 6962 hashing of these 8 leaves).
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_merkle_tree_matches_certificate_transparency_vectors():
    tree = MerkleTree([hashlib.sha256(b"\x00" + bytes.fromhex(d)).digest() for d in CT_LEAVES])
    assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert [p.hex() for p in tree.inclusion_proof(0, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert leaf_hash("ab" * 32) == hashlib.sha256(b"\x00" + b"\xab" * 32).digest()


def _naive_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_naive_root(leaves[:k]), _naive_root(leaves[k:]))


def _leads_to(root: bytes, leaf: bytes, index: int, size: int, proof: list[bytes]) -> bool:
    try:
        return root_from_inclusion_proof(leaf, index, size, proof) == root
    except ValueError:
        return False


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
def test_every_prefix_root_and_proof_agree_with_the_definition(leaves):
    tree = MerkleTree(leaves)
    for size in range(1, len(leaves) + 1):
        root = tree.root(size)
        assert root == _naive_root(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert _leads_to(root, leaves[index], index, size, proof)
            assert not _leads_to(root, leaves[index], (index + 1) % size, size, proof) or size == 1
            assert not _leads_to(root, leaves[index], index, size, proof[:-1]) or not proof
            assert not _leads_to(root, leaves[index], index, size, [*proof, root])


# --- a real local timestamp authority ----------------------------------------------------------


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    return make_authority(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    return make_authority(tmp_path_factory.mktemp("other-tsa"), "Autre TSA")


@pytest.fixture(scope="session")
def tsa(pki: AuthorityKeys) -> Iterator[LocalTsa]:
    with LocalTsa(pki) as server:
        yield server


Configure = Callable[..., Workspace]


@pytest.fixture
def configure(workspace: Workspace) -> Iterator[Configure]:
    """Write the [anchors] section of preuves.toml and reopen the workspace, which reads it."""
    opened: list[Workspace] = []

    def apply(*authorities: tuple[str, str, Path] | tuple[str, str, Path, bool], timeout: int | None = None) -> Workspace:
        write_anchors_section(workspace.home / "preuves.toml", *authorities, timeout=timeout)
        reopened = open_workspace(workspace.home)
        opened.append(reopened)
        return reopened

    yield apply
    for reopened in opened:
        reopened.close()


@pytest.fixture
def case_ws(workspace: Workspace) -> Workspace:
    """A workspace with one case and three captures."""
    record_sample_captures(workspace, add_sample_case(workspace), 3)
    return workspace


def _another_capture(ws: Workspace) -> Capture:
    """One more attempt on the sample case's page, recorded after the others."""
    attempt_no = next_attempt_no(ws, 1)
    at = datetime(2026, 11, 20, 8, 30, tzinfo=UTC) + timedelta(hours=attempt_no)
    facts = CaptureFacts(
        target_id=1, attempt_no=attempt_no, started_at=at, finished_at=at + timedelta(seconds=4),
        url_requested=URL, final_url=URL, http_status=200, state="noslot", platform="ezbooking",
        evidence_text="Il n'existe plus de plage horaire libre pour votre demande de rendez-vous.",
    )
    files = [
        NewArtefact("screenshot", "image/png", data=sample_png(f"tentative {attempt_no}")),
        NewArtefact("html", "text/html", data=f"<p>{attempt_no}</p>".encode()),
    ]
    return record_capture(ws, facts, files)


def _anchor(ws: Workspace) -> Anchor:
    outcomes = anchor_now(ws)
    assert [o.status for o in outcomes] == ["anchored"], outcomes
    with ws.reading() as session:
        return session.get_one(Anchor, outcomes[0].anchor_id, options=[joinedload(Anchor.token)])


def _problems(ws: Workspace) -> list[str]:
    return [p.line() for p in verify_anchors(ws)]


def _overwrite_blob(ws: Workspace, relpath: str, data: bytes) -> None:
    """Change a stored file behind the tool's back (blobs are read-only on disk)."""
    path = ws.home / relpath
    os.chmod(path, 0o600)
    path.write_bytes(data)


def test_a_token_is_kept_checked_and_accepted_by_openssl(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    with ws.reading() as session:
        size_before = journal.head(session).seq
    anchor = _anchor(ws)
    assert anchor.tree_size == size_before
    with ws.reading() as session:
        head = session.get_one(JournalEntry, journal.head(session).seq)
        assert head.kind == "anchor.recorded"
        assert json.loads(head.payload)["data"]["anchor"] == anchor.to_record()
        assert anchor.root == journal_tree(session).root(size_before).hex()
        summary = anchor_summary(session)
    assert [(s.authority, s.tree_size, s.root, s.token_sha256) for s in summary] == [
        (TSA_NAME, size_before, anchor.root, anchor.token.sha256)
    ]
    assert verify_workspace(ws).ok
    report = check_anchors(ws)
    assert (report.problems, report.anchors, report.valid) == ([], 1, 1)
    assert (report.captures_covered, report.captures_not_covered) == (3, 0)
    # A third party's check, as docs/verify-by-hand.md says.
    checked = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", anchor.root, "-in", str(ws.home / anchor.token.blob_path),
         "-CAfile", str(pki.ca_file)],
        capture_output=True, text=True,
    )
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout


def _guide_programs() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_guide_programs_check_a_proof_and_recompute_the_root(case_ws, configure, pki, tsa, tmp_path):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    inclusion, full_root = _guide_programs()
    (tmp_path / "inclusion.py").write_text(inclusion, encoding="utf-8")
    (tmp_path / "racine.py").write_text(full_root, encoding="utf-8")
    with ws.reading() as session:
        seq = capture_entry_seqs(session)[2]
        record = proof_record(session, seq, first_anchor_covering(session, seq))
        extract = [{"format": "preuves-rdv/extrait-journal/1"}] + [
            {"seq": e.seq, "entry_hash": e.entry_hash, "prev_hash": e.prev_hash, "payload": e.payload}
            for e in session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
        ]
    (tmp_path / "preuve.json").write_text(json.dumps(record), encoding="utf-8")
    (tmp_path / "journal.jsonl").write_text("\n".join(map(json.dumps, extract)) + "\n", encoding="utf-8")

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path)
        return done.stdout + done.stderr

    assert record["root"] == anchor.root
    assert run("inclusion.py", "preuve.json").splitlines() == [f"racine recalculée : {anchor.root}", "OK"]
    record["entry_hash"] = "00" * 32
    (tmp_path / "preuve.json").write_text(json.dumps(record), encoding="utf-8")
    assert run("inclusion.py", "preuve.json").splitlines()[-1] == "ÉCHEC"
    assert run("racine.py", "journal.jsonl", str(anchor.tree_size)).strip() == anchor.root
    [chain_check] = re.findall(r"^python3 (-c .*) journal-extrait.jsonl$", GUIDE.read_text(encoding="utf-8"), re.M)
    checked = subprocess.run(
        f"{sys.executable} {chain_check} journal.jsonl", shell=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert checked.stdout.splitlines() == [f"{n} True" for n in range(1, len(extract))]


def test_without_network_the_request_is_queued_and_retried(case_ws, configure, pki, tsa):
    offline = configure((TSA_NAME, unreachable_url(), pki.ca_file))
    started = time.monotonic()
    [outcome] = anchor_now(offline)
    assert time.monotonic() - started < 5
    assert (outcome.status, outcome.error) == ("pending", "injoignable : connexion refusée")
    with offline.reading() as session:
        [request] = pending_requests(session)
        assert (request.tries, request.tree_size, request.root) == (1, outcome.tree_size, outcome.root)
        assert anchor_summary(session) == []
    online = configure((TSA_NAME, tsa.url, pki.ca_file))
    [retried] = retry_pending(online)
    assert (retried.status, retried.tree_size, retried.root) == ("anchored", outcome.tree_size, outcome.root)
    with online.reading() as session:
        assert pending_requests(session) == []
        done = session.get_one(AnchorRequest, request.id)
        assert (done.status, done.anchor_id, done.tries, done.last_error) == ("done", retried.anchor_id, 2, None)
    assert retry_pending(online) == []
    assert verify_anchors(online) == []


def test_a_newer_request_supersedes_the_pending_one(case_ws, configure, pki):
    ws = configure((TSA_NAME, unreachable_url(), pki.ca_file))
    [first] = anchor_now(ws)
    [again] = anchor_now(ws)  # nothing new: the same request is retried, not queued twice
    assert (again.status, again.tree_size) == ("pending", first.tree_size)
    _another_capture(ws)
    [later] = anchor_now(ws)
    assert later.tree_size > first.tree_size
    with ws.reading() as session:
        requests = session.scalars(select(AnchorRequest).order_by(AnchorRequest.id)).all()
        assert [(r.status, r.tree_size, r.tries) for r in requests] == [
            ("superseded", first.tree_size, 2), ("pending", later.tree_size, 1)
        ]


def test_an_authority_that_does_not_answer_is_given_up_after_the_timeout(case_ws, configure, pki):
    with SilentServer() as silent:
        ws = configure((TSA_NAME, silent.url, pki.ca_file), timeout=1)
        started = time.monotonic()
        [outcome] = anchor_now(ws)
    assert time.monotonic() - started < 5
    assert (outcome.status, outcome.error) == ("pending", "injoignable : pas de réponse en 1 s")


def test_a_removed_authority_has_its_pending_request_cancelled(case_ws, configure, pki, tsa):
    anchor_now(configure(("Ancienne", unreachable_url(), pki.ca_file)))
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    outcomes = retry_pending(ws)
    assert [(o.authority, o.status, o.error) for o in outcomes] == [
        ("Ancienne", "cancelled", "autorité retirée de la configuration")
    ]


def test_nothing_new_in_the_journal_means_no_new_token(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    _anchor(ws)
    served = tsa.requests
    assert [o.status for o in anchor_now(ws)] == ["unchanged"]
    assert tsa.requests == served
    _another_capture(ws)
    assert [o.status for o in anchor_now(ws)] == ["anchored"]


def test_every_configured_authority_is_asked(case_ws, configure, pki, other_pki, tsa):
    with LocalTsa(other_pki) as other:
        ws = configure((TSA_NAME, tsa.url, pki.ca_file), ("Autre TSA", other.url, other_pki.ca_file))
        outcomes = anchor_now(ws)
    assert [(o.authority, o.status) for o in outcomes] == [(TSA_NAME, "anchored"), ("Autre TSA", "anchored")]
    assert outcomes[0].tree_size == outcomes[1].tree_size
    assert verify_anchors(ws) == []


def test_a_token_over_another_root_is_reported(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    other_root = hashlib.sha256(b"un autre journal").digest()
    _overwrite_blob(ws, anchor.token.blob_path, ask_for_token(tsa.url, other_root, 7, 5))
    name = f"ancrage n° {anchor.id} ({TSA_NAME}, "
    problems = _problems(ws)
    assert problems[0].startswith(name) and problems[0].endswith(
        f"fichier du jeton modifié [{anchor.token.blob_path}]"
    )
    assert problems[1].endswith(
        f"le jeton porte sur une autre empreinte ({other_root.hex()}, attendue {anchor.root}) "
        f"[{anchor.token.blob_path}]"
    )
    assert len(problems) == 2


def test_a_tampered_token_is_reported(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    token = bytearray((ws.home / anchor.token.blob_path).read_bytes())
    policy = core.ObjectIdentifier(anchor.policy).dump()
    at = token.index(policy) + len(policy) - 1
    token[at] ^= 0x03  # the signed content now names policy ….2 instead of ….1
    _overwrite_blob(ws, anchor.token.blob_path, bytes(token))
    details = [p.detail for p in verify_anchors(ws)]
    assert details == ["fichier du jeton modifié", "signature invalide : le jeton a été modifié"]


def test_a_token_from_an_untrusted_authority_is_refused_and_reported(case_ws, configure, pki, other_pki, tsa):
    untrusting = configure((TSA_NAME, tsa.url, other_pki.ca_file))
    [refused] = anchor_now(untrusting)
    reason = "certificat de l'autorité non reconnu par les certificats racines configurés"
    assert (refused.status, refused.error) == ("pending", reason)
    with untrusting.reading() as session:
        assert anchor_summary(session) == []
    trusting = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(trusting)
    untrusting = configure((TSA_NAME, tsa.url, other_pki.ca_file))
    assert [(p.detail, p.file) for p in verify_anchors(untrusting)] == [(reason, anchor.token.blob_path)]


def test_a_token_signed_with_an_expired_certificate_is_refused(case_ws, configure, tmp_path):
    expired = make_authority(tmp_path / "expired", "TSA expirée", expired=True)
    with LocalTsa(expired) as server:
        ws = configure(("TSA expirée", server.url, expired.ca_file))
        [outcome] = anchor_now(ws)
        digest = hashlib.sha256(b"racine").digest()
        token = ask_for_token(server.url, digest, 1, 5)
    assert (outcome.status, outcome.error) == ("pending", "certificat de l'autorité expiré à la date du jeton")
    with pytest.raises(TokenError, match=re.escape("certificat de l'autorité expiré à la date du jeton")):
        check_token(token, digest, load_certificates(expired.ca_file))
    with ws.reading() as session:
        assert anchor_summary(session) == []


def test_an_entry_added_after_an_anchor_is_covered_by_the_next_one_only(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    first = _anchor(ws)
    [late] = [_another_capture(ws)]
    with ws.reading() as session:
        seqs = capture_entry_seqs(session)
        assert seqs[late.id] > first.tree_size
        assert first_anchor_covering(session, seqs[late.id]) is None
        assert first_anchor_covering(session, seqs[1]).id == first.id
        with pytest.raises(ValueError):
            inclusion_proof(session, seqs[late.id], first)
    report = check_anchors(ws)
    assert (report.problems, report.captures_covered, report.captures_not_covered) == ([], 3, 1)
    second = _anchor(ws)
    with ws.reading() as session:
        covering = first_anchor_covering(session, seqs[late.id])
        assert covering.id == second.id
        assert first_anchor_covering(session, seqs[1]).id == first.id
        record = proof_record(session, seqs[late.id], covering)
    leaf = leaf_hash(record["entry_hash"])
    proof = [bytes.fromhex(p) for p in record["proof"]]
    assert root_from_inclusion_proof(leaf, record["leaf_index"], record["tree_size"], proof).hex() == second.root
    report = check_anchors(ws)
    assert (report.problems, report.captures_covered, report.captures_not_covered) == ([], 4, 0)


def _rewrite_history(ws: Workspace, capture_id: int, new_text: str) -> None:
    """What a tamperer with file access would do: change a capture and re-chain the journal."""
    raw_sql(ws, *drop_triggers(ws), *triggers.drop_statements("sqlite", ("anchors",)))
    connection = sqlite3.connect(ws.home / "preuves.sqlite3")
    try:
        connection.execute("UPDATE captures SET evidence_text = ? WHERE id = ?", (new_text, capture_id))
        previous = journal.GENESIS_HASH
        rows = connection.execute("SELECT seq, payload FROM journal_entries ORDER BY seq").fetchall()
        for seq, payload in rows:
            content = json.loads(payload)
            if content["kind"] == "capture.recorded" and content["data"]["capture"]["id"] == capture_id:
                content["data"]["capture"]["evidence_text"] = new_text
                payload = journal.canonical_json(content).decode("utf-8")
            entry_hash = journal.entry_hash(previous, payload)
            connection.execute(
                "UPDATE journal_entries SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                (payload, previous, entry_hash, seq),
            )
            previous = entry_hash
        for statement in triggers.create_statements("sqlite") + triggers.create_statements("sqlite", ("anchors",)):
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def test_a_rewritten_and_rechained_journal_is_caught_by_the_anchor(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    _rewrite_history(ws, 2, "Des créneaux étaient disponibles.")
    chain_and_rows = [p for p in verify_workspace(ws).problems if not p.item.startswith("ancrage")]
    assert chain_and_rows == []  # the chain alone cannot tell
    [problem] = verify_anchors(ws)
    assert problem.item.startswith(f"ancrage n° {anchor.id} ({TSA_NAME}, ")
    assert problem.detail.startswith(
        f"le journal a changé depuis l'horodatage : racine recalculée des entrées 1 à {anchor.tree_size} "
    )
    assert problem.detail.endswith(f", racine horodatée {anchor.root}")
    assert check_anchors(ws).captures_covered == 0


def test_anchor_rows_are_append_only_and_compared_with_the_journal(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    with pytest.raises(DBAPIError, match="anchors is append-only"):
        raw_sql(ws, "UPDATE anchors SET tree_size = 1")
    with pytest.raises(DBAPIError, match="anchors is append-only"):
        raw_sql(ws, "DELETE FROM anchors")
    raw_sql(ws, *triggers.drop_statements("sqlite", ("anchors",)), "UPDATE anchors SET serial_number = '999'")
    details = [p.detail for p in verify_anchors(ws)]
    assert details == [
        "protections supprimées : anchors_no_update, anchors_no_delete",
        f"champ « serial_number » modifié : '999' dans la base, '{anchor.serial_number}' dans le journal "
        f"(entrée n° {anchor.tree_size + 1})",
        "date ou numéro de série du jeton différents de ceux enregistrés",
    ]


def test_a_deleted_token_row_is_reported(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    raw_sql(ws, *drop_triggers(ws), f"DELETE FROM artefacts WHERE id = {anchor.token_artefact_id}")
    assert [p.detail for p in verify_anchors(ws)] == [
        f"fichier n° {anchor.token_artefact_id} du jeton absent de la base"
    ]


def test_the_tree_recomputed_in_batches_is_the_stored_one(case_ws, monkeypatch):
    monkeypatch.setattr(anchor_proofs, "_BATCH", 2)
    with case_ws.reading() as session:
        assert recomputed_tree(session).root() == journal_tree(session).root()
        assert recomputed_tree(session).size == journal.head(session).seq


def test_a_deleted_anchor_is_reported(case_ws, configure, pki, tsa):
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    raw_sql(ws, *triggers.drop_statements("sqlite", ("anchors",)), "DELETE FROM anchors")
    problems = _problems(ws)
    assert problems[-1].endswith(
        f"décrit par l'entrée n° {anchor.tree_size + 1} du journal mais absent de la base (supprimé ?)"
    )


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def anchor_cli(cli: CliRunner) -> Iterator[CliRunner]:
    """The `cli` runner with `preuves anchor` registered for the test (nothing to do once
    preuves/cli.py registers it)."""
    commands = preuves.cli.app.registered_commands
    if any(command.name == "anchor" for command in commands):
        yield cli
        return
    anchor_commands.register(preuves.cli.app)
    added = commands[-1]
    yield cli
    commands.remove(added)


def test_cli_anchor_without_authority_is_refused(anchor_cli, workspace):
    result = anchor_cli("anchor")
    assert result.code == 2
    assert result.err.strip() == (
        "Erreur : aucune autorité d'horodatage configurée : ajoutez-en dans la section « anchors » "
        "de preuves.toml (voir docs/verify-by-hand.md)"
    )


def test_cli_anchor_with_a_bad_address_is_refused(anchor_cli, configure, pki):
    configure((TSA_NAME, "ftp://tsa.example/tsr", pki.ca_file))
    result = anchor_cli("anchor")
    assert result.code == 2
    assert result.err.strip() == (
        "Erreur : preuves.toml, section « anchors » : adresse invalide pour l'autorité "
        f"« {TSA_NAME} » (http:// ou https:// attendu)"
    )


def test_cli_anchor_json_and_retry(anchor_cli, case_ws, configure, pki, tsa):
    configure((TSA_NAME, unreachable_url(), pki.ca_file))
    offline = anchor_cli("anchor")
    assert offline.code == 1
    assert offline.out.strip() == (
        f"{TSA_NAME} : en attente, injoignable : connexion refusée ; nouvel essai au prochain "
        "« preuves anchor » ou « preuves anchor --retry »."
    )
    configure((TSA_NAME, tsa.url, pki.ca_file))
    retried = anchor_cli("anchor", "--retry", "--json")
    assert retried.code == 0
    [outcome] = json.loads(retried.out)
    assert (outcome["authority"], outcome["status"], outcome["error"]) == (TSA_NAME, "anchored", None)
    nothing = anchor_cli("anchor", "--retry")
    assert (nothing.code, nothing.err.strip()) == (0, "Aucune demande d'horodatage en attente.")
    unchanged = anchor_cli("anchor")
    assert unchanged.out.strip() == (
        f"{TSA_NAME} : rien de nouveau dans le journal depuis le dernier horodatage."
    )


def test_the_dossier_lists_anchors_and_carries_tokens_and_proofs(workspace, configure, pki, tsa, tmp_path):
    record_sample_captures(workspace, add_sample_case(workspace), 3, screenshot=sample_png())
    ws = configure((TSA_NAME, tsa.url, pki.ca_file))
    anchor = _anchor(ws)
    late = _another_capture(ws)  # recorded after the anchor: not covered yet
    result = build_dossier(ws, "Dupont", tmp_path / "pieces")
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    [listed] = manifest["anchors"]
    assert (listed["authority"], listed["root"], listed["tree_size"]) == (TSA_NAME, anchor.root, anchor.tree_size)
    proofs = {entry["id"]: entry["anchor_proof"] for entry in manifest["captures"]}
    assert proofs[late.id] is None
    covered = [proof for capture_id, proof in proofs.items() if capture_id != late.id]
    assert len(covered) == 3 and all(p["root"] == anchor.root for p in covered)
    attachments = PdfReader(result.review).attachments
    token_name = listed["token_filename"]
    assert attachments[token_name] == [ws.blobs.read(anchor.token.sha256)]
    assert list(attachments).count(token_name) == 1
    note = "".join(page.extract_text() for page in PdfReader(result.pieces[0].path).pages)
    assert TSA_NAME in note and "3 des 4 tentatives sont déjà couvertes par un horodatage" in note
    captures = " ".join(
        page.extract_text() for piece in result.pieces[2:] for page in PdfReader(piece.path).pages
    )
    assert captures.count(f"couverte par le jeton de {TSA_NAME}") == 3
    assert verify_bundle(ws, result.directory).ok
