"""Privacy on disk: after real work on a workspace, nothing in it is readable by anyone but its owner.

Every folder is 0700, every file 0600 (0400 for the write-once blobs), and so are the dossier
folder and the export archive written outside the workspace. The parts called here through their
Python API run under the umask most systems give (022), so they must ask for owner-only modes
themselves; the command line sets umask 077 for everything it writes (preuves/cli.py run()).
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture.politeness import host_turn
from dossier_builder.build import build_dossier
from evidence.locks import lock_file_for
from evidence.workspace import init_workspace
from preuves.web.security import SECRET_FILE, secret_key
from tests.evidence_helpers import add_sample_case, pdf_bytes, record_sample_captures, sample_png

CASE = "Dupont"
HOST = "www.val-doise.gouv.fr"
DEFAULT_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def modes_under(root: Path) -> dict[str, int]:
    """The permission bits of `root` and of everything below it, by path relative to `root`."""
    found = {".": mode(root)}
    for path in root.rglob("*"):
        found[path.relative_to(root).as_posix()] = mode(path)
    return found


def not_owner_only(modes: dict[str, int], root: Path) -> list[str]:
    """Each path that is not a 0700 folder, a 0600 file or a 0400 file, with its mode."""
    wrong = []
    for relpath, bits in sorted(modes.items()):
        path = root / relpath
        expected = (0o700,) if path.is_dir() else (0o600, 0o400)
        if path.is_symlink() or bits not in expected:
            wrong.append(f"{relpath} {oct(bits)}")
    return wrong


@pytest.fixture
def default_umask() -> Iterator[None]:
    """Umask 022 for the calls made without the command line (the CLI sets 077 and keeps it)."""
    previous = os.umask(DEFAULT_UMASK)
    yield
    os.umask(previous)


def test_everything_written_is_owner_only(cli, tmp_path, default_umask):
    home = tmp_path / "ws"
    # Through the Python API, under umask 022: the workspace, a case, three captures, the web
    # dashboard's key and a politeness lock.
    workspace, created = init_workspace(home)
    assert created
    try:
        record_sample_captures(workspace, add_sample_case(workspace, CASE), 3, screenshot=sample_png())
        key = secret_key(workspace.home)
        assert len(key) == 32 and secret_key(workspace.home) == key
        with host_turn(workspace, HOST):
            assert lock_file_for(workspace, HOST).is_file()
    finally:
        workspace.close()
    assert os.umask(DEFAULT_UMASK) == DEFAULT_UMASK  # nothing above changed it

    # Through the command line: a letter with its proof, the dossier, the export.
    papers = tmp_path / "courriers"
    papers.mkdir()
    (papers / "lettre.pdf").write_bytes(pdf_bytes())
    (papers / "accuse.png").write_bytes(sample_png("Avis de réception"))
    letter = cli("letter", "add", CASE, "--file", str(papers / "lettre.pdf"), "--date", "2025-11-02",
                 "--direction", "sent", "--channel", "lrar", "--proof", str(papers / "accuse.png"))
    assert letter.code == 0, letter
    dossier = tmp_path / "sortie" / "dossier"
    built = cli("dossier", CASE, "--out", str(dossier))
    assert built.code == 0, built
    archive = tmp_path / "sortie" / "export.zip"
    exported = cli("case", "export", CASE, "--out", str(archive))
    assert exported.code == 0, exported
    assert cli("verify").code == 0

    # Every kind of thing was written: the walk below checks real files, not an empty folder.
    workspace_modes = modes_under(home)
    blobs = [relpath for relpath in workspace_modes if relpath.startswith("blobs/") and (home / relpath).is_file()]
    assert len(blobs) == 6  # one screenshot shared by the 3 captures, their 3 pages, the letter, its proof
    for name in ("preuves.toml", "preuves.sqlite3", SECRET_FILE, f"locks/{lock_file_for(workspace, HOST).name}"):
        assert name in workspace_modes
    assert not_owner_only(workspace_modes, home) == []
    assert {workspace_modes[relpath] for relpath in blobs} == {0o400}
    assert not [relpath for relpath, bits in workspace_modes.items() if bits & 0o077]

    # The dossier and the archive leave the workspace, with personal data in them: owner-only too.
    dossier_modes = modes_under(dossier)
    assert len(dossier_modes) >= 6 and sorted(built.out.split()) == sorted(
        name for name in dossier_modes if name.startswith("PJ")
    )
    assert not_owner_only(dossier_modes, dossier) == []
    assert mode(dossier.parent) == 0o700  # made by `dossier --out` too, as a parent of its folder
    assert mode(archive) == 0o600
    with zipfile.ZipFile(archive) as opened:
        entries = opened.infolist()
        assert len(entries) > len(blobs) and opened.testzip() is None
        # Unzipped with `unzip` or Python, each file gets these bits back.
        assert {stat.S_IMODE(entry.external_attr >> 16) for entry in entries if not entry.is_dir()} == {0o600}



def test_a_dossier_built_through_the_api_is_owner_only_whatever_the_umask(workspace, tmp_path, default_umask):
    """What the dashboard (or any other caller) gets from build_dossier, not only the command line."""
    record_sample_captures(workspace, add_sample_case(workspace, CASE), 2, screenshot=sample_png())
    dossier = tmp_path / "sortie" / "dossier"
    build_dossier(workspace, CASE, dossier, workers=1)
    assert not_owner_only(modes_under(dossier), dossier) == []
    assert mode(dossier) == 0o700
