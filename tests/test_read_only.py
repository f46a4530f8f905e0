"""A workspace on read-only media (a copy on a DVD, a client's export a lawyer checks): the commands
that only read work, write nothing there, and see everything — a write-ahead log copied along
included; the commands that write say the workspace is read-only."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence.workspace import init_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures


@pytest.fixture
def read_only_place(tmp_path) -> Iterator[tuple[Path, object]]:
    """A folder to fill, and a function making it read-only: a tmpfs remounted read-only as root
    (who ignores permission bits), the write bits removed otherwise."""
    place = tmp_path / "support"
    place.mkdir()
    if os.geteuid() != 0:
        def freeze() -> None:
            for path in [place, *place.rglob("*")]:
                path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)

        yield place, freeze
        for path in [place, *place.rglob("*")]:
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=50m,mode=0700", "tmpfs", str(place)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"mount impossible : {mounted.stderr.decode().strip()}")

    def remount() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(place)], check=True)

    try:
        yield place, remount
    finally:
        subprocess.run(["umount", "-l", str(place)], check=True)


def listing(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_reading_commands_work_on_read_only_media(tmp_path, read_only_place, cli):
    place, freeze = read_only_place
    source = tmp_path / "ws"
    workspace, _ = init_workspace(source)
    record_sample_captures(workspace, add_sample_case(workspace), 5)
    workspace.close()
    home = place / "ws"
    shutil.copytree(source, home)
    freeze()
    before = listing(home)

    verified = cli("verify", home=home)
    assert verified.code == 0, verified
    assert verified.out.startswith("INTACT — 8 entrées du journal, 10 fichiers vérifiés.")
    status = cli("status", home=home)
    assert status.code == 0 and "5 tentative(s) faite(s)" in status.out, status
    listed = cli("case", "list", "--json", home=home)
    assert listed.code == 0 and '"captures": 5' in listed.out
    assert cli("case", "show", "Dupont", home=home).code == 0
    for listed_kind in ("letter", "event", "piece"):
        listed = cli(listed_kind, "list", "Dupont", "--json", home=home)
        assert (listed.code, listed.out.strip()) == (0, "[]"), listed
    assert listing(home) == before  # nothing created, nothing changed

    refused = cli("case", "add", "Martin", "--url", "https://www.essonne.gouv.fr/booking/create/1", home=home)
    assert (refused.code, refused.err.strip()) == (
        2, f"Erreur : l'espace de travail {home} est en lecture seule : cette commande doit y écrire"
    )


def test_a_copy_taken_while_the_database_was_open_is_read_whole(tmp_path, read_only_place, cli):
    """Copied while a process still held the database: the last records are in the write-ahead log
    (`-wal`), which a read-only opening must read (SQLite's `immutable` would skip it)."""
    place, freeze = read_only_place
    source = tmp_path / "ws"
    workspace, _ = init_workspace(source)
    try:
        record_sample_captures(workspace, add_sample_case(workspace), 5)
        assert (source / "preuves.sqlite3-wal").stat().st_size > 0
        shutil.copytree(source, place / "ws")
    finally:
        workspace.close()
    freeze()
    verified = cli("verify", home=place / "ws")
    assert verified.code == 0, verified
    assert verified.out.startswith("INTACT — 8 entrées du journal, 10 fichiers vérifiés.")


def test_a_write_ahead_log_copied_without_its_index_is_said(tmp_path, read_only_place, cli):
    place, freeze = read_only_place
    source = tmp_path / "ws"
    workspace, _ = init_workspace(source)
    try:
        record_sample_captures(workspace, add_sample_case(workspace), 2)
        shutil.copytree(source, place / "ws", ignore=shutil.ignore_patterns("*-shm"))
    finally:
        workspace.close()
    freeze()
    refused = cli("verify", home=place / "ws")
    assert (refused.code, refused.err.strip()) == (
        2,
        "Erreur : preuves.sqlite3-wal a été copié sans preuves.sqlite3-shm : en lecture seule, ses derniers "
        "enregistrements ne peuvent être lus ; copiez l'espace de travail sur un support inscriptible",
    )
