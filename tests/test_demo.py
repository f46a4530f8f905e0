"""`make demo`, the README's main job, end to end: four simulated weeks, two letters, two cases — one
filled by unattended attempts, one on the simulated RDV Préfecture by accompanied attempts whose captcha
the demo's scripted person answers — and both bundles."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from dossier_builder.verify import verify_bundle
from evidence.models import Capture, Case, JournalEntry, PlannedAttempt
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from preuves.cli import run
from preuves.demo import ACCOMPANIED_LABEL, CASE_LABEL

pytestmark = pytest.mark.browser


def screenshots(bundle) -> int:
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    return sum(1 for item in manifest["artefacts"] if item["kind"] == "screenshot")


def test_demo_ends_with_two_verified_bundles_whose_paths_are_printed_last(tmp_path, capsys):
    assert run(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    accompanied, unattended = (tmp_path.joinpath(line) for line in printed.out.strip().splitlines()[-2:])
    for bundle in (accompanied, unattended):
        assert bundle.is_dir() and bundle.parent.parent == tmp_path
        pieces = sorted(p.name for p in bundle.glob("PJ*.pdf"))
        assert pieces[0] == "PJ1_Note_de_synthese.pdf" and len(pieces) >= 6
        assert {"Inventaire_des_pieces.pdf", "dossier-complet.pdf", "manifest.json", "SHA256SUMS"} <= {
            p.name for p in bundle.iterdir()
        }
    figures = re.search(
        r"(\d+) tentatives automatiques et (\d+) tentatives accompagnées \((\d+) manquées\) simulées sur 4 semaines, "
        r"2 courriers sans réponse\.", printed.err,
    )
    assert figures, printed.err
    automatic, with_person, missed = (int(n) for n in figures.groups())
    assert automatic >= 15 and with_person >= 15 and 1 <= missed < with_person / 3  # working days of 4 weeks
    assert screenshots(unattended) == automatic and screenshots(accompanied) == with_person - missed

    workspace = open_workspace(unattended.parent / "espace-de-travail")
    try:
        assert workspace.demo
        assert verify_workspace(workspace).ok
        assert verify_bundle(workspace, unattended).ok and verify_bundle(workspace, accompanied).ok
        with workspace.reading() as session:
            target = session.scalars(select(Case.target_id).where(Case.label == ACCOMPANIED_LABEL)).one()
            other = session.scalars(select(Case.target_id).where(Case.label == CASE_LABEL)).one()
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
    assert states == {"noslot": with_person - missed} and assisted == {True}  # past the captcha, every time
    assert reminders == with_person and unattended_modes == {"unattended"}
