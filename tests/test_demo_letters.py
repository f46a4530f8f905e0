"""The demo's letters (without the browser): sent on working days — never on 11 November —, with
no blank left, the registered letter's receipt recorded on the day the prefecture signed for it,
its subject the letter's own; every draft of the demo's case then holds no blank."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from dossier_builder.drafts import DRAFT_KINDS, render_draft
from evidence.applicants import set_applicant
from evidence.clock import SimulatedClock
from evidence.letter_text import find_blanks
from evidence.localtime import PARIS
from evidence.records import TargetSpec, add_case
from evidence.workspace import init_workspace
from preuves.demo import CASE_LABEL, _Letters, _working_day, demo_applicant
from tests.draft_samples import URL, add_attempts, text

MONDAY = date(2026, 11, 2)  # the demo of the issue: its registered letter fell on 11 November


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 11), date(2026, 11, 12)),  # Armistice
        (date(2026, 11, 14), date(2026, 11, 16)),  # a Saturday
        (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas, then the weekend
        (date(2027, 3, 29), date(2027, 3, 30)),  # Easter Monday 2027
        (date(2027, 5, 6), date(2027, 5, 7)),  # Ascension 2027
        (date(2027, 5, 17), date(2027, 5, 18)),  # Whit Monday 2027
        (date(2026, 11, 10), date(2026, 11, 10)),
    ],
)
def test_working_day(day, working):
    assert _working_day(day) == working


def test_demo_letters_are_dated_on_working_days_and_hold_no_blank(tmp_path, cli):
    workspace, _ = init_workspace(tmp_path / "ws", demo=True)
    clock = SimulatedClock(datetime.combine(MONDAY, time(7, 0), PARIS))
    workspace.use_clock(clock)
    case, _ = add_case(workspace, CASE_LABEL, TargetSpec(
        URL, "ezbooking", "16162", "Préfecture du Val-d'Oise (simulée)", "Renouvellement de titre de séjour"
    ))
    days = [MONDAY + timedelta(days=n) for n in range(26) if (MONDAY + timedelta(days=n)).weekday() < 5]
    add_attempts(workspace, case.target_id, [
        (datetime.combine(day, time(9, 0), PARIS).astimezone(UTC), "noslot") for day in days
    ])
    today = MONDAY + timedelta(days=28)
    set_applicant(workspace, CASE_LABEL, demo_applicant(today))
    folder = tmp_path / "courriers"
    folder.mkdir()
    steps = _Letters(workspace, folder, MONDAY).due()
    assert [day for day, _ in steps] == [date(2026, 11, 12), date(2026, 11, 16), date(2026, 11, 19)]
    for day, step in steps:
        clock.set(datetime.combine(day, time(9, 30), PARIS))
        step()
    assert find_blanks(text((folder / "demande-rdv.pdf").read_bytes())) == []

    letters = json.loads(cli("letter", "list", "1", "--json", home=workspace.home).out)
    assert [(item["date"], item["channel"], item["received_on"]) for item in letters] == [
        ("2026-11-12", "lrar", "2026-11-16"), ("2026-11-19", "email", None)
    ]
    assert letters[0]["subject"] == "demande de rendez-vous — Renouvellement de titre de séjour"
    assert [f["kind"] for f in letters[0]["files"]] == ["letter", "letter_receipt"]

    clock.set(datetime.combine(today, time(8, 0), PARIS))
    for kind in DRAFT_KINDS:
        draft = render_draft(workspace, CASE_LABEL, kind)
        assert draft.blanks == () and find_blanks(text(draft.pdf)) == [], kind
    relance = text(render_draft(workspace, CASE_LABEL, "relance").pdf)
    assert "Par lettre recommandée avec avis de réception du 12 novembre 2026 (n° de suivi 1A00000000000), reçue " \
        "par vos services le 16 novembre 2026" in relance
    workspace.close()
