"""`verify_bundle`: does a dossier folder still match its manifest, and the manifest the store?

Checks, each failure one French line: SHA256SUMS against the files; every pièce and the inventory
against manifest.json; the review copy's attachments against manifest.json; every artefact of the
manifest against its row and its blob in the workspace; the journal extract's hashes, its chain,
and its entries against the workspace's journal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select

from dossier_builder.build import JOURNAL_NAME
from dossier_builder.manifest import FORMAT, MANIFEST_NAME, SUMS_NAME
from dossier_builder.review import REVIEW_NAME
from evidence.artefact_kinds import artefact_label
from evidence.blobs import sha256_file
from evidence.errors import BadInput
from evidence.journal import GENESIS_HASH, entry_hash
from evidence.models import Artefact, JournalEntry
from evidence.problems import Problem
from evidence.workspace import Workspace


EXTRACT = "extrait du journal"


@dataclass
class BundleReport:
    directory: Path
    checked: set[str] = field(default_factory=set)  # names of the bundle's files re-hashed
    artefacts_checked: int = 0
    entries_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def files_checked(self) -> int:
        return len(self.checked)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "directory": str(self.directory),
            "files_checked": self.files_checked,
            "artefacts_checked": self.artefacts_checked,
            "entries_checked": self.entries_checked,
            "problems": [problem.to_json() for problem in self.problems],
        }


def _load_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"{directory} ne contient pas de {MANIFEST_NAME} : est-ce bien un dossier de pièces ?"
        ) from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} est illisible ({exc})") from exc
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise BadInput(f"{path} n'est pas un manifeste de dossier Preuves RDV")
    return value


def _check_file(
    report: BundleReport, directory: Path, name: str, sha256: str, size: int | None = None
) -> None:
    path = directory / name
    if not path.is_file():
        report.problems.append(Problem(name, "fichier absent"))
        return
    actual, actual_size = sha256_file(path)
    report.checked.add(name)
    if actual != sha256 or (size is not None and actual_size != size):
        report.problems.append(Problem(name, "fichier modifié (son empreinte a changé)"))


def _check_sums(report: BundleReport, directory: Path) -> None:
    path = directory / SUMS_NAME
    if not path.is_file():
        report.problems.append(Problem(SUMS_NAME, "fichier absent"))
        return
    listed = set()
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        sha256, _, name = line.partition("  ")
        listed.add(name)
        _check_file(report, directory, name, sha256)
    for extra in sorted(p.name for p in directory.iterdir() if p.is_file()):
        if extra not in listed and extra != SUMS_NAME:
            report.problems.append(Problem(extra, f"fichier ajouté au dossier, absent de {SUMS_NAME}"))


def _attachments(path: Path) -> dict[str, bytes]:
    reader = PdfReader(path)
    return {name: contents[0] for name, contents in reader.attachments.items()}


def _check_review(report: BundleReport, directory: Path, manifest: dict[str, Any]) -> bytes | None:
    """Compare the review copy's attachments with the manifest; returns the journal extract."""
    path = directory / REVIEW_NAME
    if not path.is_file():
        report.problems.append(Problem(REVIEW_NAME, "fichier absent"))
        return None
    try:
        attached = _attachments(path)
    except (PyPdfError, OSError, ValueError) as exc:
        report.problems.append(Problem(REVIEW_NAME, f"PDF illisible ({exc})"))
        return None
    if attached.get(MANIFEST_NAME) != (directory / MANIFEST_NAME).read_bytes():
        report.problems.append(Problem(REVIEW_NAME, f"le manifeste joint diffère de {MANIFEST_NAME}"))
    extract = attached.get(JOURNAL_NAME)
    expected = manifest.get("journal_extract", {})
    if extract is None or hashlib.sha256(extract).hexdigest() != expected.get("sha256"):
        report.problems.append(Problem(REVIEW_NAME, "l'extrait du journal joint diffère du manifeste"))
        return None
    return extract


def _check_artefacts(report: BundleReport, workspace: Workspace, manifest: dict[str, Any]) -> None:
    listed = {item["id"]: item for item in manifest.get("artefacts", [])}
    with workspace.reading() as session:
        rows = {
            row.id: row
            for start in range(0, len(listed), 500)
            for row in session.scalars(
                select(Artefact).where(Artefact.id.in_(list(listed)[start : start + 500]))
            )
        }
    for artefact_id, item in listed.items():
        row = rows.get(artefact_id)
        what = f"fichier n° {artefact_id} ({artefact_label(str(item.get('kind')))}, {item.get('time')})"
        if row is None:
            report.problems.append(Problem(what, "absent du dépôt de preuves"))
            continue
        if row.sha256 != item.get("sha256") or row.size != item.get("size"):
            report.problems.append(Problem(what, "l'empreinte du dépôt diffère de celle du dossier"))
            continue
        blob = workspace.home / row.blob_path
        if not blob.is_file():
            report.problems.append(Problem(what, "fichier manquant dans le dépôt", row.blob_path))
            continue
        if sha256_file(blob)[0] != row.sha256:
            report.problems.append(Problem(what, "le fichier du dépôt a été modifié", row.blob_path))
        report.artefacts_checked += 1


def _check_extract(
    report: BundleReport, workspace: Workspace, extract: bytes, manifest: dict[str, Any]
) -> None:
    lines = [json.loads(line) for line in extract.decode("utf-8").splitlines() if line.strip()]
    entries = lines[1:]
    previous = GENESIS_HASH
    for entry in entries:
        if entry["prev_hash"] != previous:
            report.problems.append(Problem(EXTRACT, f"chaîne rompue à l'entrée n° {entry['seq']}"))
        if "payload" in entry and entry_hash(entry["prev_hash"], entry["payload"]) != entry["entry_hash"]:
            report.problems.append(Problem(EXTRACT, f"l'entrée n° {entry['seq']} ne correspond pas à son empreinte"))
        previous = entry["entry_hash"]
    head = manifest.get("journal_head", {})
    if entries and (entries[-1]["seq"], entries[-1]["entry_hash"]) != (head.get("seq"), head.get("hash")):
        report.problems.append(Problem(EXTRACT, "sa dernière entrée n'est pas la tête indiquée par le manifeste"))
    with workspace.reading() as session:
        stored = {
            seq: digest for seq, digest in session.execute(select(JournalEntry.seq, JournalEntry.entry_hash))
        }
    for entry in entries:
        report.entries_checked += 1
        if stored.get(entry["seq"]) != entry["entry_hash"]:
            report.problems.append(
                Problem("journal", f"l'entrée n° {entry['seq']} de l'espace de travail diffère de celle du dossier")
            )


def _from_another_workspace(workspace: Workspace, extract: bytes | None, manifest: dict[str, Any]) -> Problem | None:
    """The problem to report when the extract's first entry (the workspace's creation) is not this
    workspace's: every comparison with the store would then be a false alarm."""
    first = next((json.loads(line) for line in (extract or b"").decode("utf-8").splitlines()[1:2]), None)
    if not isinstance(first, dict) or first.get("seq") != 1:
        return None
    with workspace.reading() as session:
        own = session.get(JournalEntry, 1)
    if own is not None and own.entry_hash == first.get("entry_hash"):
        return None
    head = manifest.get("journal_head", {})
    return Problem(
        f"dossier d'un autre espace de travail (tête du journal n° {head.get('seq')} : {head.get('hash')})",
        "ses fichiers d'origine et son journal se vérifient avec l'espace de travail qui l'a produit",
    )


def verify_bundle(workspace: Workspace, directory: Path) -> BundleReport:
    """Re-hash a dossier folder against its manifest, and its manifest against the workspace."""
    directory = directory.resolve()
    manifest = _load_manifest(directory)
    report = BundleReport(directory)
    _check_sums(report, directory)
    for piece in manifest.get("pieces", []):
        _check_file(report, directory, piece["file"], piece["sha256"], piece["size"])
    inventory = manifest.get("inventory", {})
    _check_file(
        report, directory, inventory.get("file", ""), inventory.get("sha256", ""), inventory.get("size")
    )
    extract = _check_review(report, directory, manifest)
    other = _from_another_workspace(workspace, extract, manifest)
    if other is not None:  # its files and journal can only be compared with the workspace that made it
        report.problems.append(other)
    else:
        _check_artefacts(report, workspace, manifest)
        if extract is not None:
            _check_extract(report, workspace, extract, manifest)
    report.problems = list(dict.fromkeys(report.problems))  # a file listed twice is reported once
    return report
