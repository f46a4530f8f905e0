"""`make demo`, the README's main job, end to end: four simulated weeks, two letters, the applicant's
pièces, two cases — one filled by unattended attempts, one on the simulated RDV Préfecture by accompanied
attempts whose captcha the demo's scripted person answers — a last attempt on each just before, and both
bundles."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from dossier_builder.verify import verify_bundle
from evidence.localtime import PARIS
from evidence.models import Capture, JournalEntry, PlannedAttempt
from evidence.records import find_case
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from preuves.cli import run
from preuves.demo import ACCOMPANIED_LABEL, CASE_LABEL

pytestmark = pytest.mark.browser

# Run at 00:30 in Paris: the day before in UTC, and hours before the demo's days begin (its attempts are
# planned from 08:00): its last attempts and its bundles must still not be dated after the moment it ran.
NIGHT = datetime(2026, 12, 8, 0, 30, tzinfo=PARIS)


def screenshots(bundle) -> int:
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    return sum(1 for item in manifest["artefacts"] if item["kind"] == "screenshot")


def pieces_of(bundle) -> list[str]:
    return sorted((p.name for p in bundle.glob("PJ*.pdf")), key=lambda name: int(name[2:].split("_")[0]))


def test_demo_ends_with_two_verified_bundles_whose_paths_are_printed_last(tmp_path, capsys):
    home = tmp_path / "espace-de-demonstration"  # --home is honoured (here after the command, as one may type it)
    with time_machine.travel(NIGHT, tick=True):
        assert run(["demo", "--out", str(tmp_path), "--home", str(home)]) == 0
        finished = datetime.now(UTC)
    printed = capsys.readouterr()
    accompanied, unattended = (tmp_path.joinpath(line) for line in printed.out.strip().splitlines()[-2:])
    for bundle in (accompanied, unattended):
        assert bundle.is_dir() and bundle.parent.parent == tmp_path
        assert "Annexe_technique" in pieces_of(bundle)[-1]
        assert {"Inventaire_des_pieces.pdf", "dossier-complet.pdf", "manifest.json", "SHA256SUMS"} <= {
            p.name for p in bundle.iterdir()
        }
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
        # Each bundle is current and dated after every event of its journal.
        assert manifest["generated_at"] > max(item["recorded_at"] for item in manifest["artefacts"])
        assert datetime.fromisoformat(manifest["generated_at"]) <= finished, manifest["generated_at"]
    assert pieces_of(unattended)[:3] == [
        "PJ1_Titre_de_sejour_en_cours_de_validite_document_fictif.pdf",
        "PJ2_Justificatif_de_domicile_document_fictif.pdf",
        "PJ3_Note_de_synthese.pdf",
    ]
    assert pieces_of(accompanied)[0] == "PJ1_Note_de_synthese.pdf" and len(pieces_of(accompanied)) >= 6
    figures = re.search(
        r"(\d+) tentatives automatiques et (\d+) tentatives accompagnées \((\d+) manquées\) simulées sur 4 semaines "
        r"et une dernière juste avant chaque dossier, 2 courriers sans réponse, 2 pièces du demandeur \(fictives\)\.",
        printed.err,
    )
    assert figures, printed.err
    assert not printed.err.startswith("\n")  # off a terminal, no progress bar leaves a blank line behind
    automatic, with_person, missed = (int(n) for n in figures.groups())
    assert automatic >= 15 and with_person >= 15 and 1 <= missed < with_person / 3  # working days of 4 weeks
    # One more attempt on each case, made just before the bundles.
    assert screenshots(unattended) == automatic + 1 and screenshots(accompanied) == with_person - missed + 1

    assert not (unattended.parent / "espace-de-travail").exists()
    workspace = open_workspace(home)
    try:
        assert workspace.demo
        assert verify_workspace(workspace).ok
        assert verify_bundle(workspace, unattended).ok and verify_bundle(workspace, accompanied).ok
        with workspace.reading() as session:
            target = find_case(session, ACCOMPANIED_LABEL).target_id  # labels are sealed: read, not matched in SQL
            other = find_case(session, CASE_LABEL).target_id
            rows = dict(session.execute(
                select(PlannedAttempt.status, func.count()).where(PlannedAttempt.target_id == target)
                .group_by(PlannedAttempt.status)
            ).all())
            states = dict(session.execute(
                select(Capture.state, func.count()).where(Capture.target_id == target).group_by(Capture.state)
            ).all())
            assisted = set(session.scalars(select(Capture.assisted).where(Capture.target_id == target)))
            unattended_modes = set(session.scalars(select(PlannedAttempt.mode).where(PlannedAttempt.target_id == other)))
            reminders = session.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "attempt.reminded")
            )
    finally:
        workspace.close()
    assert rows == {"done": with_person - missed, "missed": missed}
    assert states == {"noslot": with_person - missed + 1} and assisted == {True}  # past the captcha, every time
    assert reminders == with_person and unattended_modes == {"unattended"}
