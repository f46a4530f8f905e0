"""`dossier` warns when the last attempt is more than 48 hours old, and offers to make one first: asked on a
terminal, or said by --attempt-first / --no-attempt-first; the note says how old the evidence is."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from evidence.records import TargetSpec, add_case
from evidence.workspace import init_workspace
from tests.dossier_helpers import CASE, page_texts, record_shots, three_weeks
from tests.evidence_helpers import add_sample_case

LAST = three_weeks()[-1]  # Friday 20 November 2026, 19:15 in Paris
WARNING = (
    "Attention : la dernière tentative date du 20/11/2026 19:15:00 (UTC+01:00), soit 13 jours avant "
    "l'établissement de ce dossier. Un juge attend des preuves récentes."
)


@pytest.fixture
def recorded(cli, tmp_path):
    assert cli("init").code == 0
    workspace, _ = init_workspace(tmp_path / "ws")
    record_shots(workspace, add_sample_case(workspace, CASE), three_weeks())
    workspace.close()
    return tmp_path


def note_text(folder) -> str:
    return " ".join(" ".join(page_texts(next(folder.glob("*_Note_de_synthese.pdf")))).split())


def test_stale_evidence_is_said_and_the_bundle_built_anyway(cli, recorded):
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)):
        result = cli("dossier", CASE, "--out", str(recorded / "out"), "--no-attempt-first")
    assert result.code == 0, result.err
    assert result.err.splitlines()[:2] == [
        WARNING,
        "Le dossier est établi sans nouvelle tentative ; la note de synthèse mentionne l'ancienneté.",
    ]
    assert "Ancienneté des preuves. La dernière tentative date du 20/11/2026 19:15:00 (UTC+01:00)" in note_text(
        recorded / "out"
    )


def test_without_a_terminal_nothing_is_asked(cli, recorded):
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)):
        result = cli("dossier", CASE, "--out", str(recorded / "out"))
    assert result.code == 0 and result.err.splitlines()[0] == WARNING


def test_on_a_terminal_the_question_is_asked(cli, recorded, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)):
        result = cli("dossier", CASE, "--out", str(recorded / "out"))
    assert result.code == 0, result.err
    assert "Faire une tentative maintenant, avant d'établir le dossier ? [O/n]" in result.out + result.err
    assert "Le dossier est établi sans nouvelle tentative" in result.err


def test_current_evidence_and_a_past_period_need_no_warning(cli, recorded):
    with time_machine.travel(LAST + timedelta(hours=47)):
        fresh = cli("dossier", CASE, "--out", str(recorded / "fresh"))
    assert fresh.code == 0 and "Attention" not in fresh.err
    # Weak evidence is said as `letter draft` says it (the thresholds of `status`).
    assert "À vérifier : preuves encore faibles devant un juge : aucun courrier envoyé à la préfecture" in fresh.err
    assert "Ancienneté des preuves" not in note_text(recorded / "fresh")
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)):
        past = cli("dossier", CASE, "--out", str(recorded / "past"), "--to", "2026-11-20")
    assert past.code == 0 and "Attention" not in past.err


@pytest.mark.browser
def test_attempt_first_makes_an_attempt_before_the_bundle(cli, tmp_path, site):
    assert cli("init").code == 0
    workspace, _ = init_workspace(tmp_path / "ws")
    case, _ = add_case(workspace, CASE, TargetSpec(f"{site.base_url}/booking/create/4963", "ezbooking", "16162"))
    record_shots(workspace, case.target_id, three_weeks())  # weeks before today: stale whatever the date
    workspace.close()
    result = cli("dossier", CASE, "--out", str(tmp_path / "out"), "--attempt-first")
    assert result.code == 0, result.err
    assert result.err.startswith("Attention : la dernière tentative date du 20/11/2026 19:15:00 (UTC+01:00)")
    assert "Tentative n° 13 du " in result.out and "aucun créneau" in result.out
    note = note_text(tmp_path / "out")
    assert "Ancienneté des preuves" not in note and "13 tentatives" in note
