"""manifest.json and SHA256SUMS: what the bundle holds, and the hashes that tie it to the store.

The manifest lists every file of the bundle except the review copy (which embeds the manifest, so
cannot be listed in it) and every original artefact the pièces reproduce or cite. SHA256SUMS, in
`sha256sum -c` format, covers every file of the bundle, the review copy included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dossier_builder.facts import DossierFacts, FileFacts
from evidence.blobs import sha256_file
from evidence.models import iso
from evidence.workspace import tool_version

FORMAT = "preuves-rdv/dossier/1"
MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"


@dataclass(frozen=True)
class BuiltFile:
    """A file written into the bundle."""

    name: str
    sha256: str
    size: int
    pages: int

    @classmethod
    def of(cls, path: Path, pages: int) -> BuiltFile:
        sha256, size = sha256_file(path)
        return cls(path.name, sha256, size, pages)


def _artefact(item: FileFacts, time: str | None, piece: int, owner: dict[str, int]) -> dict[str, Any]:
    return {
        "id": item.id,
        **owner,
        "time": time,
        "recorded_at": iso(item.created_at),
        "kind": item.kind,
        "media_type": item.media_type,
        "sha256": item.sha256,
        "size": item.size,
        "piece": piece,
    }


def manifest(
    facts: DossierFacts,
    pieces: list[BuiltFile],
    inventory: BuiltFile,
    journal_extract: BuiltFile,
) -> dict[str, Any]:
    artefacts = [
        _artefact(item, iso(attempt.started_at), attempt.piece, {"capture_id": attempt.id})
        for attempt in facts.attempts
        for item in attempt.files
    ] + [
        _artefact(item, iso(letter.letter_date), letter.piece, {"letter_id": letter.id})
        for letter in facts.letters
        for item in letter.files
    ] + [
        _artefact(item, iso(own.piece_date), own.piece, {"applicant_piece_id": own.id})
        for own in facts.applicant_pieces
        for item in own.files
    ]
    return {
        "format": FORMAT,
        "tool_version": tool_version(),
        "generated_at": iso(facts.generated_at),
        "demo": facts.demo,
        "case": {"id": facts.case.id, "label": facts.case.label},
        "period": {"from": iso(facts.date_from), "to": iso(facts.date_to)},
        "journal_head": {"seq": facts.journal_head.seq, "hash": facts.journal_head.entry_hash},
        "anchors": [anchor.to_json() for anchor in facts.anchors],
        "captures": [
            {"id": attempt.id, "time": iso(attempt.started_at), "piece": attempt.piece,
             "anchor_proof": attempt.anchor_proof}
            for attempt in facts.attempts
        ],
        "pieces": [
            {
                "number": piece.number,
                "label": piece.label,
                "kind": piece.kind,
                "file": built.name,
                "sha256": built.sha256,
                "size": built.size,
                "pages": built.pages,
                "capture_ids": list(piece.capture_ids),
                "letter_id": piece.letter_id,
                "applicant_piece_id": piece.applicant_piece_id,
            }
            for piece, built in zip(facts.pieces, pieces, strict=True)
        ],
        "inventory": {"file": inventory.name, "sha256": inventory.sha256, "size": inventory.size},
        "journal_extract": {
            "file": journal_extract.name,
            "sha256": journal_extract.sha256,
            "size": journal_extract.size,
            "embedded_in": "dossier-complet.pdf",
        },
        "artefacts": artefacts,
    }


def write_manifest(value: dict[str, Any], dest: Path) -> None:
    dest.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_sums(directory: Path, names: list[str]) -> None:
    lines = [f"{sha256_file(directory / name)[0]}  {name}\n" for name in sorted(names)]
    (directory / SUMS_NAME).write_text("".join(lines), encoding="ascii")
