"""Write-once, content-addressed file store.

A blob lives at `blobs/ab/cdef…` where `abcdef…` is the SHA-256 of its bytes. It is written to a
temporary file, fsynced, renamed into place, then made read-only; the tool never overwrites or
deletes one. A crash leaves at worst a temporary file or an unreferenced blob (an orphan, which
`verify` reports).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from evidence.errors import EvidenceDamaged, StoreError

CHUNK = 1 << 20
# What the user is told for the usual system failures (strerror is English).
_PLAIN_REASONS = {
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque dépassé",
    errno.EFBIG: "fichier trop grand pour le système de fichiers",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "disque en lecture seule",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
    errno.EEXIST: "existe déjà",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "trop de liens symboliques",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.EADDRINUSE: "adresse déjà utilisée par un autre programme",
    errno.EADDRNOTAVAIL: "adresse non disponible sur cet ordinateur",
}


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    relpath: str  # relative to the workspace, e.g. "blobs/ab/cdef…"


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BlobStore:
    def __init__(self, workspace_root: Path) -> None:
        self.workspace_root = workspace_root
        self.root = workspace_root / "blobs"

    def relpath_for(self, sha256: str) -> str:
        return f"blobs/{sha256[:2]}/{sha256[2:]}"

    def path_for(self, sha256: str) -> Path:
        return self.workspace_root / self.relpath_for(sha256)

    def put(self, data: bytes) -> StoredBlob:
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path_for(sha256)
        if not final.exists():
            self._write_new(final, [data])
        return StoredBlob(sha256, len(data), self.relpath_for(sha256))

    def put_file(self, source: Path) -> StoredBlob:
        sha256, size = sha256_file(source)
        final = self.path_for(sha256)
        if not final.exists():
            with source.open("rb") as handle:
                self._write_new(final, iter(lambda: handle.read(CHUNK), b""))
        return StoredBlob(sha256, size, self.relpath_for(sha256))

    def _write_new(self, final: Path, chunks: Iterator[bytes] | list[bytes]) -> None:
        if not self.root.is_dir():  # never made again here: the record would go to a workspace that is gone
            raise workspace_vanished(self.workspace_root)
        try:
            final.parent.mkdir(mode=0o700, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp_name, 0o400)
                os.replace(tmp_name, final)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
            fsync_dir(final.parent)
        except OSError as exc:
            raise StoreError(f"écriture impossible dans le dépôt de preuves : {plain_reason(exc)}") from exc

    def remove(self, sha256: str) -> bool:
        """Erase a file; only a purge the user asked for, recorded in the journal first, does this.
        Returns whether there was a file to erase."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        fsync_dir(self.path_for(sha256).parent)
        return True

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def iter_relpaths(self) -> Iterator[str]:
        """Every blob file present, including leftover temporary files of a crash."""
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.workspace_root).as_posix()


def workspace_vanished(home: Path) -> EvidenceDamaged:
    return EvidenceDamaged(f"l'espace de travail {home} a disparu pendant l'enregistrement : rien n'a été enregistré")


def plain_reason(exc: OSError) -> str:
    """Why a system call failed, said in French for the usual failures (others keep the system's words)."""
    return _PLAIN_REASONS.get(exc.errno or 0, exc.strerror or str(exc))


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform (e.g. Windows)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
