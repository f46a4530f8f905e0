"""`preuves case export CASE`: one zip archive with everything recorded about a case.

For the lawyer who takes the case over, or the applicant who leaves: every original file (each one
re-hashed as it is copied: a file that no longer matches its hash stops the export), the rows as
JSON, the applicant's identity, the journal extract of the case (as in the dossier) and a
SHA256SUMS that `sha256sum -c` checks. The archive is written under a temporary name and renamed
at the end, so a crash never leaves a half archive that looks whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from dossier_builder import journal_export
from dossier_builder.french import ascii_title, state_label
from dossier_builder.facts import (
    ApplicantPieceFacts,
    AttemptFacts,
    DossierFacts,
    EventFacts,
    FileFacts,
    LetterFacts,
    facts_of,
)
from evidence.applicants import ApplicantFields, get_applicant
from evidence.letters import DIRECTIONS
from evidence.errors import BadInput, StoreError
from evidence.localtime import PARIS
from evidence.models import Case
from evidence.workspace import Workspace

CHUNK = 1024 * 1024
FORMAT = "preuves-rdv/export-dossier/1"
# Already compressed: storing them again compressed costs time for nothing.
STORED_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf", "application/zip"})

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: int
    size: int


def _no_progress(step: str, done: int, total: int) -> None:
    """Default progress callback: report nothing."""


def export_case(workspace: Workspace, case_reference: str, dest: Path, progress: Progress = _no_progress) -> ExportResult:
    dest = dest.resolve()
    if dest.exists():
        raise BadInput(f"{dest} existe déjà : choisissez un autre nom de fichier")
    if not dest.parent.is_dir():
        raise BadInput(f"{dest.parent} : dossier introuvable")
    facts = facts_of(workspace, case_reference)
    with workspace.reading() as session:
        applicant = get_applicant(session, session.get_one(Case, facts.case.id))
        identity = asdict(ApplicantFields.of(applicant)) if applicant else None
    files = _placed_files(facts)
    partial = dest.with_name(f".{dest.name}.partiel")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            sums: list[tuple[str, str]] = []
            for done, (name, item) in enumerate(files):
                progress("copie des fichiers", done, len(files))
                _copy_checked(workspace, archive, name, item)
                sums.append((item.sha256, name))
            progress("copie des fichiers", len(files), len(files))
            for name, content in _descriptions(workspace, facts, identity, files).items():
                data = content.encode("utf-8")
                archive.writestr(name, data)
                sums.append((hashlib.sha256(data).hexdigest(), name))
            archive.writestr("SHA256SUMS", "".join(f"{sha}  {name}\n" for sha, name in sums))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(dest, len(files), dest.stat().st_size)


def _placed_files(facts: DossierFacts) -> list[tuple[str, FileFacts]]:
    """Each original file and its path in the archive: one folder per attempt, per letter and per pièce of the
    applicant (withdrawn ones are not in the bundle, and not here either)."""
    placed: list[tuple[str, FileFacts]] = []
    for attempt in facts.attempts:
        moment = attempt.started_at.astimezone(PARIS)
        state = ascii_title(state_label(attempt.outcome))  # folder names in French too: « aucun_creneau »
        placed += _folder(f"tentatives/{attempt.attempt_no:04d}_{moment:%Y-%m-%d_%Hh%M}_{state}", attempt)
    for letter in facts.letters:
        direction = ascii_title(DIRECTIONS[letter.direction])
        placed += _folder(f"courriers/{letter.id:03d}_{letter.letter_date.isoformat()}_{direction}", letter)
    for event in facts.events:
        placed += _folder(f"demarches/{event.id:03d}_{event.event_date.isoformat()}_{event.kind}", event)
    for own in facts.applicant_pieces:
        placed += _folder(f"pieces-du-demandeur/{own.id:03d}_{own.kind}", own)
    return placed


def _folder(folder: str, owner: AttemptFacts | LetterFacts | EventFacts | ApplicantPieceFacts) -> list[tuple[str, FileFacts]]:
    used: set[str] = set()
    placed = []
    for item in owner.files:
        name = PurePosixPath((item.filename or item.kind).replace("\\", "/")).name or item.kind
        if name in used:
            name = f"{item.id}-{name}"
        used.add(name)
        placed.append((f"{folder}/{name}", item))
    return placed


def _copy_checked(workspace: Workspace, archive: zipfile.ZipFile, name: str, item: FileFacts) -> None:
    digest = hashlib.sha256()
    entry = zipfile.ZipInfo(name, date_time=item.created_at.astimezone(PARIS).timetuple()[:6])
    entry.compress_type = zipfile.ZIP_STORED if item.media_type in STORED_TYPES else zipfile.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16
    try:
        with workspace.blobs.path_for(item.sha256).open("rb") as source, archive.open(entry, "w") as target:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                target.write(chunk)
    except FileNotFoundError as exc:
        raise StoreError(f"fichier {item.id} ({item.kind}) absent du dépôt : lancez « preuves verify »") from exc
    if digest.hexdigest() != item.sha256:
        raise StoreError(f"fichier {item.id} ({item.kind}) modifié depuis son enregistrement : lancez « preuves verify »")


def _descriptions(
    workspace: Workspace, facts: DossierFacts, identity: dict[str, Any] | None, files: list[tuple[str, FileFacts]]
) -> dict[str, str]:
    """The JSON files of the archive, and its LISEZMOI."""
    where = {item.id: name for name, item in files}
    with workspace.reading() as session:  # a session of its own: the extract empties it as it goes
        journal_lines = "".join(
            json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in journal_export.lines(session, facts)
        )
    described = {
        "format": FORMAT,
        "exported_at": facts.generated_at.isoformat(),
        "demo": facts.demo,
        "journal_head": {"seq": facts.journal_head.seq, "hash": facts.journal_head.entry_hash},
        "case": {key: value for key, value in asdict(facts.case).items() if key != "applicant_name"},
        "applicant": identity,
        "attempts": [_described(attempt, where) for attempt in facts.attempts],
        "letters": [_described(letter, where) for letter in facts.letters],
        "events": [_described(event, where) for event in facts.events],
        "applicant_pieces": [_described(own, where) for own in facts.applicant_pieces],
    }
    return {
        "dossier.json": json.dumps(described, ensure_ascii=False, indent=2, sort_keys=True, default=_iso),
        "journal.jsonl": journal_lines,
        "LISEZMOI.txt": _readme(facts),
    }


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _described(owner: AttemptFacts | LetterFacts | EventFacts | ApplicantPieceFacts, where: dict[int, str]) -> dict[str, Any]:
    row = asdict(owner)
    row.pop("piece", None)
    row["files"] = [
        {"path": where[item.id], "sha256": item.sha256, "size": item.size, "kind": item.kind,
         "media_type": item.media_type, "recorded_at": item.created_at.isoformat(), "id": item.id}
        for item in owner.files
    ]
    return row


def _readme(facts: DossierFacts) -> str:
    demo = "DÉMONSTRATION — données simulées.\n\n" if facts.demo else ""
    return (
        f"{demo}Export complet du dossier « {facts.case.label} » (Preuves RDV), "
        f"le {facts.generated_at.astimezone(PARIS):%d/%m/%Y à %H:%M} (heure de Paris).\n\n"
        f"- tentatives/ : chaque tentative, ses captures d'écran d'origine, la page HTML, le réseau (HAR)…\n"
        f"- courriers/ : chaque courrier et ses preuves d'envoi et de réception\n"
        f"- demarches/ : les preuves des appels, passages au guichet et saisines du Défenseur des droits\n"
        f"- pieces-du-demandeur/ : les documents du demandeur joints au dossier (titre de séjour, domicile…)\n"
        f"- dossier.json : la description de chaque tentative, courrier et fichier, et l'identité du demandeur\n"
        f"- journal.jsonl : l'extrait du journal chaîné qui concerne ce dossier "
        f"(tête : n° {facts.journal_head.seq}, {facts.journal_head.entry_hash})\n"
        f"- SHA256SUMS : l'empreinte de chaque fichier ; « sha256sum -c SHA256SUMS » les vérifie toutes.\n\n"
        "Ce fichier contient des données personnelles : conservez-le en lieu sûr.\n"
    )
