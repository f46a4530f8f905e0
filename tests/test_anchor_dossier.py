"""`preuves dossier` anchors first; the bundle carries its tokens and roots; a reader checks them by hand.

The acceptance of issue 17: an OpenSSL authority that sends its CA in its replies, `preuves anchor`
then `preuves dossier`; the token taken out of dossier-complet.pdf verifies with `openssl ts
-verify -digest <root>` against that CA alone, and the root is recomputed from journal-extrait.jsonl
with the RFC 6962 rule (the program of docs/verify-by-hand.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dossier_builder.verify import verify_bundle
from evidence.anchor_models import AnchorRequest
from evidence.localtime import paris_time
from evidence.workspace import Workspace, open_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures, sample_png
from tests.tsa_helpers import (
    AuthorityKeys,
    LocalTsa,
    SilentServer,
    TsaProfile,
    make_authority,
    unreachable_url,
    write_anchors_section,
)

GUIDE = Path(__file__).parent.parent / "docs" / "verify-by-hand.md"
NAME = "TSA avec sa racine"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    """An authority whose replies carry its CA (OpenSSL's `certs`), out of DER order."""
    return make_authority(tmp_path_factory.mktemp("tsa"), NAME, profile=TsaProfile(send_chain=True))


@pytest.fixture
def tsa(keys: AuthorityKeys) -> Iterator[LocalTsa]:
    with LocalTsa(keys) as server:
        yield server


@pytest.fixture
def case_ws(workspace: Workspace) -> Workspace:
    record_sample_captures(workspace, add_sample_case(workspace), 3, screenshot=sample_png())
    return workspace


def _configure(ws: Workspace, url: str, ca_file: Path, timeout: int | None = None) -> None:
    write_anchors_section(ws.home / "preuves.toml", (NAME, url, ca_file), timeout=timeout)


def _note_text(directory: Path) -> str:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    note = directory / manifest["pieces"][0]["file"]
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(note).pages)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd)


def test_the_token_taken_from_the_bundle_checks_out_against_the_ca_alone(cli, case_ws, keys, tsa, tmp_path):
    _configure(case_ws, tsa.url, keys.ca_file)
    anchored = cli("anchor", "--json")
    assert anchored.code == 0, anchored.err
    [outcome] = json.loads(anchored.out)
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0, built.err
    assert f"Horodatage : le journal était déjà horodaté par {NAME}." in built.err
    assert tsa.requests == 1  # nothing new since `preuves anchor`: not asked again

    bundle = tmp_path / "pieces"
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    [anchor] = manifest["anchors"]
    assert (anchor["root"], anchor["tree_size"]) == (outcome["root"], outcome["tree_size"])
    reader = tmp_path / "lecteur"  # who received dossier-complet.pdf alone, and follows the guide
    reader.mkdir()
    shutil.copy(bundle / "dossier-complet.pdf", reader)
    [detach] = re.findall(r"^(mkdir jointes && pdfdetach .*)$", GUIDE.read_text(encoding="utf-8"), re.M)
    assert subprocess.run(detach, shell=True, cwd=reader, capture_output=True).returncode == 0
    detached = reader / "jointes"
    token = detached / anchor["token_filename"]
    checked = _run("openssl", "ts", "-verify", "-digest", anchor["root"], "-in", str(token), "-CAfile", str(keys.ca_file),
                   cwd=tmp_path)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    [program] = [p for p in re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S) if "mth(" in p]
    (tmp_path / "racine.py").write_text(program, encoding="utf-8")
    recomputed = _run(sys.executable, "racine.py", str(detached / "journal-extrait.jsonl"), str(anchor["tree_size"]),
                      cwd=tmp_path)
    assert recomputed.stdout.strip() == anchor["root"], recomputed.stderr


def test_the_bundle_folder_alone_is_enough_for_openssl(cli, case_ws, keys, tsa, tmp_path):
    _configure(case_ws, tsa.url, keys.ca_file)
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0, built.err
    bundle = tmp_path / "pieces"
    [anchor] = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["anchors"]
    token, roots = anchor["token_filename"], anchor["ca_filename"]
    sums = (bundle / "SHA256SUMS").read_text(encoding="ascii")
    assert f"  {token}\n" in sums and f"  {roots}\n" in sums
    checked = _run("openssl", "ts", "-verify", "-digest", anchor["root"], "-in", token, "-CAfile", roots, cwd=bundle)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    assert verify_bundle(case_ws, bundle).ok


def test_the_dossier_anchors_first_what_is_new(cli, case_ws, keys, tsa, tmp_path):
    _configure(case_ws, tsa.url, keys.ca_file)
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0, built.err
    line = next(line for line in built.err.splitlines() if line.startswith("Horodatage"))
    assert re.fullmatch(rf"Horodatage : entrées 1 à \d+ du journal horodatées par {NAME} le .+\.", line)
    assert tsa.requests == 1
    note = _note_text(tmp_path / "pieces")
    assert "3 des 3 tentatives sont déjà couvertes par un horodatage." in note
    assert f"{NAME} 1 " in note  # the authority's row: one token
    assert "en attente" not in note


def test_without_an_answer_the_dossier_is_built_and_says_the_anchor_is_awaited(cli, case_ws, keys, tmp_path):
    with SilentServer() as silent:
        _configure(case_ws, silent.url, keys.ca_file, timeout=1)
        started = time.monotonic()
        built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
        waited = time.monotonic() - started
    assert built.code == 0, built.err
    assert (
        f"Horodatage : {NAME} n'a pas répondu (injoignable : pas de réponse en 1 s) ; le dossier est construit avec "
        "les horodatages déjà obtenus, la demande sera renouvelée au prochain « preuves anchor »."
    ) in " ".join(built.err.split())
    assert waited < 60
    with case_ws.reading() as session:
        asked = session.scalars(select(AnchorRequest.queued_at)).one()
    note = _note_text(tmp_path / "pieces")
    assert (
        f"Un horodatage indépendant de l'état du journal a été demandé le {paris_time(asked)} et est en attente "
        "de la réponse de l'autorité"
    ) in note
    assert "Aucun jeton" not in note


def test_an_unreachable_authority_does_not_hold_the_dossier_back(cli, case_ws, keys, tmp_path):
    _configure(case_ws, unreachable_url(), keys.ca_file)
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0, built.err
    assert "n'a pas répondu (injoignable : connexion refusée)" in built.err


def test_without_authorities_the_note_confesses_nothing(cli, case_ws, tmp_path):
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0 and "Horodatage" not in built.err
    note = _note_text(tmp_path / "pieces")
    assert "Intégrité dans le temps." in note and "Aucun jeton" not in note and "en attente" not in note


def test_a_later_anchor_keeps_the_first_covering_token_for_each_capture(cli, case_ws, keys, tsa, tmp_path):
    _configure(case_ws, tsa.url, keys.ca_file)
    assert cli("anchor").code == 0
    add_sample_case(case_ws, "Martin")  # news: the dossier anchors again
    built = cli("dossier", "Dupont", "--out", str(tmp_path / "pieces"))
    assert built.code == 0, built.err
    manifest = json.loads((tmp_path / "pieces" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["anchors"]) == 2 and tsa.requests == 2
    first = manifest["anchors"][0]
    assert {c["anchor_proof"]["anchor_id"] for c in manifest["captures"]} == {first["id"]}
    assert f"{NAME} 2 " in _note_text(tmp_path / "pieces")
    reopened = open_workspace(case_ws.home)
    try:
        assert verify_bundle(reopened, tmp_path / "pieces").ok
    finally:
        reopened.close()
