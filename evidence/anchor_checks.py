"""Check the anchors: each token, the journal it timestamped, and which captures it covers.

For every kept anchor: its row agrees with its journal entry; the Merkle root of the first
`tree_size` entries, recomputed from the payloads, is the root it holds; the token is over that
root, its signature is valid and its certificate chains to a root of the configuration (for an
authority no longer configured, to the roots kept with the token), valid at the token's time. Then each capture's entry is tied by an inclusion proof to the root of the first
valid anchor that covers it. A capture not yet covered is counted, not reported: the next anchor
will cover it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from evidence import triggers
from evidence.anchor_models import Anchor
from evidence.anchor_proofs import capture_entry_seqs, recomputed_tree
from evidence.anchors import ANCHOR_ENTRY, AnchorSettings
from evidence.errors import WorkspaceError
from evidence.localtime import paris_time
from evidence.problems import Problem, readable_rows
from evidence.merkle import MerkleTree, root_from_inclusion_proof
from evidence.models import JournalEntry
from evidence.timestamps import TokenError, check_token, load_certificates, parse_certificates
from evidence.workspace import Workspace

APPEND_ONLY = ("anchors",)


@dataclass
class AnchorReport:
    anchors: int = 0
    valid: int = 0
    captures_covered: int = 0
    captures_not_covered: int = 0
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "anchors": self.anchors,
            "valid": self.valid,
            "captures_covered": self.captures_covered,
            "captures_not_covered": self.captures_not_covered,
            "problems": [{"item": p.item, "detail": p.detail, "file": p.file} for p in self.problems],
        }


def verify_anchors(workspace: Workspace) -> list[Problem]:
    return check_anchors(workspace).problems


def check_anchors(workspace: Workspace) -> AnchorReport:
    report = AnchorReport()
    with workspace.reading() as session:
        missing = _missing_triggers(session.connection())
        if missing:
            report.problems.append(
                Problem("base de données", "protections supprimées : " + ", ".join(missing))
            )
        def unreadable(anchor_id: int, exc: Exception) -> None:
            report.problems.append(
                Problem(f"ancrage n° {anchor_id}", f"ligne illisible, valeur modifiée hors de l'outil ({exc})")
            )

        anchors = sorted(
            readable_rows(session, Anchor, unreadable), key=lambda anchor: (anchor.gen_time, anchor.id)
        )
        tree = recomputed_tree(session)
        described = _journal_descriptions(session)
        configured, roots = _configured_roots(workspace, report) if anchors or described else (set(), [])
        valid = []
        for anchor in anchors:
            trusted = roots if anchor.tsa_name in configured else _kept_roots(workspace, anchor)
            problems = _check_anchor(workspace, anchor, tree, trusted, described.get(anchor.id))
            report.problems.extend(problems)
            if not problems:
                valid.append(anchor)
        known = {anchor.id for anchor in anchors}
        for anchor_id, (seq, record) in sorted(described.items()):
            if anchor_id not in known:
                report.problems.append(
                    Problem(
                        f"ancrage n° {anchor_id} ({record.get('tsa_name')}, {record.get('gen_time')})",
                        f"décrit par l'entrée n° {seq} du journal mais absent de la base (supprimé ?)",
                    )
                )
        report.anchors, report.valid = len(anchors), len(valid)
        _check_coverage(session, tree, valid, report)
    return report


def _missing_triggers(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    present = set(connection.execute(text(query)).scalars())
    expected = [name for table in APPEND_ONLY for name in triggers.trigger_names(table)]
    return [name for name in expected if name not in present]


def _journal_descriptions(session: Session) -> dict[int, tuple[int, dict[str, Any]]]:
    """{anchor id: (seq, record)} from the "anchor.recorded" entries."""
    described: dict[int, tuple[int, dict[str, Any]]] = {}
    rows = session.execute(
        select(JournalEntry.seq, JournalEntry.payload).where(JournalEntry.kind == ANCHOR_ENTRY)
    )
    for seq, payload in rows:
        try:
            record = json.loads(payload)["data"]["anchor"]
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable entry: the journal check reports it
        if isinstance(record, dict) and isinstance(record.get("id"), int):
            described[record["id"]] = (seq, record)
    return described


def _configured_roots(workspace: Workspace, report: AnchorReport) -> tuple[set[str], list[x509.Certificate]]:
    """The configured authorities' names, and the roots of them all."""
    try:
        settings = AnchorSettings.from_workspace(workspace)
    except WorkspaceError as exc:
        report.problems.append(Problem("configuration des ancrages", str(exc)))
        return set(), []
    roots: list[x509.Certificate] = []
    for authority in settings.authorities:
        try:
            roots.extend(load_certificates(authority.ca_file))
        except TokenError as exc:
            report.problems.append(Problem(f"autorité « {authority.name} »", str(exc)))
    return {a.name for a in settings.authorities}, roots


def _kept_roots(workspace: Workspace, anchor: Anchor) -> list[x509.Certificate]:
    """The roots kept with the token, for an authority no longer configured (anchoring turned off):
    what the tool checked the token with, its hash in the journal."""
    kept = anchor.ca_certificates
    if kept is None:
        return []
    try:
        data = (workspace.home / kept.blob_path).read_bytes()
    except OSError:
        return []
    if hashlib.sha256(data).hexdigest() != kept.sha256:
        return []
    try:
        return parse_certificates(data, kept.blob_path)
    except TokenError:
        return []


def _name(anchor: Anchor) -> str:
    return f"ancrage n° {anchor.id} ({anchor.tsa_name}, {paris_time(anchor.gen_time)})"


def _check_anchor(
    workspace: Workspace,
    anchor: Anchor,
    tree: MerkleTree,
    roots: list[x509.Certificate],
    described: tuple[int, dict[str, Any]] | None,
) -> list[Problem]:
    item = _name(anchor)
    problems = []
    if described is None:
        problems.append(Problem(item, "absent du journal (ligne ajoutée hors de l'outil ?)"))
    else:
        seq, expected = described
        actual = anchor.to_record()
        for name in sorted(set(actual) | set(expected)):
            if actual.get(name) != expected.get(name):
                problems.append(
                    Problem(
                        item,
                        f"champ « {name} » modifié : {actual.get(name)!r} dans la base, "
                        f"{expected.get(name)!r} dans le journal (entrée n° {seq})",
                    )
                )
    if not 1 <= anchor.tree_size <= tree.size:
        problems.append(
            Problem(item, f"couvre {anchor.tree_size} entrées ; le journal en a {tree.size}")
        )
    elif tree.root(anchor.tree_size).hex() != anchor.root:
        problems.append(
            Problem(
                item,
                f"le journal a changé depuis l'horodatage : racine recalculée des entrées 1 à "
                f"{anchor.tree_size} {tree.root(anchor.tree_size).hex()}, racine horodatée {anchor.root}",
            )
        )
    if anchor.token is None:
        return [*problems, Problem(item, f"fichier n° {anchor.token_artefact_id} du jeton absent de la base")]
    token_file = anchor.token.blob_path
    try:
        data = (workspace.home / token_file).read_bytes()
    except OSError:
        return [*problems, Problem(item, "jeton d'horodatage supprimé", token_file)]
    if hashlib.sha256(data).hexdigest() != anchor.token.sha256:
        problems.append(Problem(item, "fichier du jeton modifié", token_file))
    try:
        facts = check_token(data, bytes.fromhex(anchor.root), roots)
    except (TokenError, ValueError) as exc:
        problems.append(Problem(item, str(exc), token_file))
        return problems
    if (facts.gen_time, facts.serial_number) != (anchor.gen_time, anchor.serial_number):
        problems.append(
            Problem(item, "date ou numéro de série du jeton différents de ceux enregistrés", token_file)
        )
    return problems


def _check_coverage(
    session: Session, tree: MerkleTree, valid: list[Anchor], report: AnchorReport
) -> None:
    """Tie each capture to the earliest valid anchor whose tree holds its entry."""
    # For each tree size, the earliest anchor among those at least that large.
    by_size = sorted(valid, key=lambda a: a.tree_size, reverse=True)
    sizes: list[int] = []
    earliest: list[Anchor] = []
    for anchor in by_size:
        best = anchor if not earliest or anchor.gen_time < earliest[-1].gen_time else earliest[-1]
        sizes.append(anchor.tree_size)
        earliest.append(best)
    sizes.reverse()
    earliest.reverse()
    for capture_id, seq in sorted(capture_entry_seqs(session).items()):
        position = bisect.bisect_left(sizes, seq)
        if position == len(sizes) or seq > tree.size:
            report.captures_not_covered += 1
            continue
        anchor = earliest[position]
        proof = tree.inclusion_proof(seq - 1, anchor.tree_size)
        if root_from_inclusion_proof(tree.leaf(seq - 1), seq - 1, anchor.tree_size, proof).hex() != anchor.root:
            report.problems.append(
                Problem(
                    f"capture {capture_id} (entrée n° {seq} du journal)",
                    f"preuve d'inclusion dans l'{_name(anchor)} invalide",
                )
            )
            continue
        report.captures_covered += 1
