"""`build_dossier`: rows → pièces → inventory → manifest → review copy → SHA256SUMS.

Each pièce is its own WeasyPrint document, written to disk then freed; with several processors the
pièces are built in parallel worker processes (each holds one document at a time). The review copy
is assembled from the written files, never re-laid out.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from dossier_builder import journal_export
from dossier_builder.facts import DossierFacts, facts_of
from dossier_builder.manifest import (
    MANIFEST_NAME,
    SUMS_NAME,
    BuiltFile,
    manifest,
    write_manifest,
    write_sums,
)
from dossier_builder.piece_files import build_piece
from dossier_builder.pieces import Piece
from dossier_builder.render import PageFrame, render_html, write_pdf
from dossier_builder.review import REVIEW_NAME, Embedded, PieceFile, build_review_copy, too_heavy_to_mail
from evidence.blobs import BlobStore
from evidence.errors import BadInput, PreuvesError
from evidence.workspace import Workspace

INVENTORY_NAME = "Inventaire_des_pieces.pdf"
JOURNAL_NAME = "journal-extrait.jsonl"
MAX_FILE_BYTES = 32 * 1000 * 1000  # Télérecours: 32 Mo per file (the decimal reading, the stricter)
# Below this many attempts, starting worker processes costs more than it saves.
PARALLEL_FROM_ATTEMPTS = 150
# Laying out a row of the chronology costs about this fraction of a capture page (measured: 5 s for the
# chronology of 1,000 attempts, 2.4 s for a week of 64 captures).
CHRONOLOGY_ROW_WEIGHT = 1 / 8

Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass(frozen=True)
class DossierResult:
    directory: Path
    pieces: tuple[PieceFile, ...]
    inventory: Path
    review: Path
    review_pages: int
    # What the user is told when the review copy is too heavy to be emailed (review.too_heavy_to_mail), or None.
    review_warning: str | None
    manifest: Path
    sums: Path


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def check_output_directory(directory: Path) -> None:
    """Refuse, before anything is done, a folder that is not empty or cannot be made (a file on its path)."""
    if directory.exists() and not directory.is_dir():
        raise BadInput(f"le dossier de sortie {directory} est un fichier : donnez le nom d'un dossier nouveau ou vide")
    if directory.exists() and any(directory.iterdir()):
        raise BadInput(f"le dossier de sortie {directory} existe déjà et n'est pas vide")
    above = next(parent for parent in directory.absolute().parents if parent.exists())
    if not above.is_dir():
        raise BadInput(f"le dossier de sortie {directory} ne peut pas être créé : {above} est un fichier")


def _prepare_directory(directory: Path) -> bool:
    """Make sure `directory` exists and is empty; returns whether it was created."""
    check_output_directory(directory)
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return created


def _owner_only(directory: Path) -> None:
    """The bundle holds personal data: owner-only whatever the caller's umask (WeasyPrint and
    pypdf create their files with the process's default mode)."""
    directory.chmod(0o700)
    for path in directory.iterdir():
        path.chmod(0o600)


def _discard(directory: Path, created: bool) -> None:
    """After a failure: an incomplete bundle must not be mistaken for one ready to file."""
    for path in directory.iterdir():
        path.unlink()
    if created:
        directory.rmdir()


def _for_piece(facts: DossierFacts, piece: Piece) -> DossierFacts:
    """Only the attempts a capture pièce shows: less to send to a worker process."""
    if piece.kind != "captures":
        return facts
    wanted = set(piece.capture_ids)
    return replace(facts, attempts=tuple(a for a in facts.attempts if a.id in wanted))


def _weight(facts: DossierFacts, piece: Piece) -> float:
    """About how long `piece` takes to build, in capture pages; the short pièces count as nothing."""
    if piece.kind == "captures":
        return len(piece.capture_ids)
    if piece.kind == "chronologie":
        return len(facts.attempts) * CHRONOLOGY_ROW_WEIGHT
    return 0


def _worker_count(facts: DossierFacts, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    if len(facts.attempts) < PARALLEL_FROM_ATTEMPTS:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start the workers (they start on submit) with Ctrl-C ignored, a setting they keep across
    exec: a terminal's Ctrl-C reaches them too, and would print a traceback from each. The parent
    alone stops the build. Only the main thread can change a signal's handling."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _build_pieces(
    facts: DossierFacts, home: Path, directory: Path, reading_dir: Path, workers: int, progress: Progress
) -> list[PieceFile]:
    total = len(facts.pieces)
    pages: dict[int, int] = {}
    progress("pièces", 0, total)
    if workers == 1:
        for piece in facts.pieces:
            pages[piece.number] = build_piece(facts, piece, home, directory, reading_dir)
            progress("pièces", len(pages), total)
    else:
        # The longest pièces first: the workers then finish together, on short ones, instead of one of them
        # still laying out a week of captures (or the chronology) while the other waits.
        heaviest_first = sorted(facts.pieces, key=lambda piece: _weight(facts, piece), reverse=True)
        # "spawn": the parent may run threads (progress display, browser); forking them is unsafe.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            with _workers_ignore_ctrl_c():
                futures = {
                    pool.submit(
                        build_piece, _for_piece(facts, piece), piece, home, directory, reading_dir
                    ): piece
                    for piece in heaviest_first
                }
            try:
                for future in as_completed(futures):
                    pages[futures[future].number] = future.result()
                    progress("pièces", len(pages), total)
            except BaseException:
                pool.shutdown(cancel_futures=True)  # not every piece left to build before stopping
                raise
    built = [PieceFile(piece, directory / piece.filename, pages[piece.number]) for piece in facts.pieces]
    for entry in built:
        size = entry.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PreuvesError(
                f"la pièce {entry.path.name} dépasse 32 Mo ({size} octets) : Télérecours la refuserait"
            )
    return built


def _anchor_files(blobs: BlobStore, facts: DossierFacts, directory: Path) -> list[Embedded]:
    """Each timestamp token and its authority's roots, once each, beside the pièces: `openssl ts
    -verify` then works on the bundle folder alone (they are embedded in the review copy too)."""
    files: dict[str, Embedded] = {}
    for anchor in facts.anchors:
        for name, sha256, what in (
            (anchor.token_filename, anchor.token_sha256, f"Jeton d'horodatage RFC 3161 ({anchor.authority})"),
            (anchor.ca_filename, anchor.ca_sha256, f"Certificats racines de {anchor.authority}"),
        ):
            if name not in files:
                path = directory / name
                path.write_bytes(blobs.read(sha256))
                files[name] = Embedded(path, what, "Supplement")
    return list(files.values())


def _build_inventory(facts: DossierFacts, pieces: list[PieceFile], dest: Path, scratch: Path) -> int:
    frame = PageFrame(
        footer="Inventaire des pièces",
        reference=facts.reference,
        demo=facts.demo,
        title="Inventaire des pièces",
    )
    return write_pdf(
        render_html("inventaire.html", frame, facts=facts, entries=pieces), dest, base_dir=scratch
    )


def _write_bundle(
    facts: DossierFacts,
    home: Path,
    directory: Path,
    journal_path: Path,
    scratch: Path,
    workers: int,
    progress: Progress,
) -> DossierResult:
    reading_dir = scratch / "lecture"  # the review copy's lighter images
    reading_dir.mkdir(mode=0o700)
    pieces = _build_pieces(facts, home, directory, reading_dir, workers, progress)
    progress("inventaire", 0, 1)
    inventory = directory / INVENTORY_NAME
    inventory_pages = _build_inventory(facts, pieces, inventory, scratch)
    manifest_path = directory / MANIFEST_NAME
    write_manifest(
        manifest(
            facts,
            [BuiltFile.of(entry.path, entry.pages) for entry in pieces],
            BuiltFile.of(inventory, inventory_pages),
            BuiltFile.of(journal_path, 0),
        ),
        manifest_path,
    )
    progress("copie de travail", 0, 1)
    review = directory / REVIEW_NAME
    anchor_files = _anchor_files(BlobStore(home), facts, directory)
    review_pages = build_review_copy(
        facts,
        pieces,
        [
            Embedded(manifest_path, "Manifeste : empreinte de chaque fichier et de chaque pièce", "Data"),
            Embedded(journal_path, "Extrait du journal chaîné", "Source"),
            *anchor_files,
        ],
        review,
        scratch,
        reading_dir,
    )
    write_sums(
        directory,
        [entry.path.name for entry in pieces]
        + [INVENTORY_NAME, MANIFEST_NAME, REVIEW_NAME]
        + [file.path.name for file in anchor_files],
    )
    progress("terminé", 1, 1)
    return DossierResult(
        directory=directory,
        pieces=tuple(pieces),
        inventory=inventory,
        review=review,
        review_pages=review_pages,
        review_warning=too_heavy_to_mail(review.stat().st_size),
        manifest=manifest_path,
        sums=directory / SUMS_NAME,
    )


def build_dossier(
    workspace: Workspace,
    case_reference: str,
    directory: Path,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    workers: int | None = None,
    progress: Progress = _no_progress,
) -> DossierResult:
    """Write the Télérecours bundle, the review copy, the manifest and SHA256SUMS into `directory`.

    Raises BadInput when the case has no capture in the period or `directory` is not empty; on
    any failure, the files already written are removed. Large dossiers are built in worker
    processes ("spawn"): a script calling this needs the `if __name__ == "__main__":` guard, or
    `workers=1`.
    """
    directory = directory.resolve()
    facts = facts_of(workspace, case_reference, date_from, date_to)
    scratch = Path(tempfile.mkdtemp(prefix="preuves-dossier-"))
    try:
        journal_path = scratch / JOURNAL_NAME
        with workspace.reading() as session:  # a session of its own: the export empties it as it goes
            journal_export.write(session, facts, journal_path)
        created = _prepare_directory(directory)
        try:
            result = _write_bundle(
                facts,
                workspace.home,
                directory,
                journal_path,
                scratch,
                _worker_count(facts, workers),
                progress,
            )
            _owner_only(directory)
            return result
        except BaseException:
            _discard(directory, created)
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
