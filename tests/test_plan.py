"""The capture plan covers what a judge looks for, and is saved as data."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from capture.plan import build_plan, save_plan, saved_plan
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import JournalEntry, PlannedAttempt
from evidence.records import NewArtefact, record_capture
from evidence.stats import WINDOWS, window_of
from evidence.verify import verify_workspace
from tests.evidence_helpers import add_sample_case, sample_facts

pytestmark = pytest.mark.both_databases

MONDAY = date(2026, 11, 30)
SUNDAY_BEFORE = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_every_weekday_and_every_window_is_covered():
    plan = build_plan(MONDAY, weeks=4, per_day=3, seed=7)
    local = [p.at.astimezone(PARIS) for p in plan]
    weekdays = {d.date() for d in local}
    expected = {MONDAY + timedelta(days=n) for n in range(28) if (MONDAY + timedelta(days=n)).weekday() < 5}
    assert weekdays == expected
    assert {window_of(p.at) for p in plan} == {name for name, *_ in WINDOWS}
    assert all(p.window == window_of(p.at) for p in plan)
    assert len({d.isocalendar()[1] for d in local}) == 4


def test_release_moments_are_added():
    plan = build_plan(MONDAY, weeks=3, per_day=2, seed=1)
    reasons = {(p.at.astimezone(PARIS).date(), p.reason) for p in plan}
    assert (MONDAY, "monday_morning") in reasons
    assert (date(2026, 12, 1), "month_release") in reasons
    assert (date(2026, 12, 15), "month_release") in reasons
    assert any(reason == "early_evening" for _, reason in reasons)
    for p in plan:
        if p.reason == "monday_morning":
            assert p.at.astimezone(PARIS).weekday() == 0 and p.at.astimezone(PARIS).hour < 10


def test_spacing_cap_and_jitter():
    interval = timedelta(minutes=45)
    plan = build_plan(MONDAY, weeks=2, per_day=4, min_interval=interval, daily_cap=4, seed=3)
    times = [p.at for p in plan]
    assert times == sorted(times)
    assert all(b - a >= interval for a, b in zip(times, times[1:], strict=False))
    per_day: dict[date, int] = {}
    for t in times:
        per_day[t.astimezone(PARIS).date()] = per_day.get(t.astimezone(PARIS).date(), 0) + 1
    assert max(per_day.values()) <= 4
    other = build_plan(MONDAY, weeks=2, per_day=4, min_interval=interval, daily_cap=4, seed=4)
    assert [p.at for p in other] != times  # jitter: another draw gives other minutes
    assert len({t.astimezone(PARIS).minute for t in times}) > 10


@pytest.mark.parametrize(("weeks", "per_day"), [(0, 3), (27, 3), (4, 0), (4, 5)])
def test_bad_plan_sizes_are_refused(weeks, per_day):
    with pytest.raises(BadInput):
        build_plan(MONDAY, weeks=weeks, per_day=per_day)


def test_saved_plan_is_journaled_and_replaced(workspace):
    target_id = add_sample_case(workspace)
    with time_machine.travel(SUNDAY_BEFORE, tick=True):
        first = build_plan(MONDAY, weeks=1, seed=1)
        assert save_plan(workspace, target_id, first) == 0
        assert [p.planned_at for p in saved_plan(workspace, target_id)] == [p.at for p in first]
        second = build_plan(MONDAY, weeks=2, seed=2)
        assert save_plan(workspace, target_id, second) == len(first)
        assert [p.planned_at for p in saved_plan(workspace, target_id)] == [p.at for p in second]
    assert verify_workspace(workspace).ok


def test_plan_command_prints_json_with_offsets(cli):
    cli("init")
    cli("case", "add", "Dupont", "--url", "https://www.val-doise.gouv.fr/booking/create/11343")
    result = cli("plan", "Dupont", "--weeks", "1", "--from", "2099-03-23", "--json")
    assert result.code == 0
    times = json.loads(result.out)
    assert times and all(t.endswith("+01:00") or t.endswith("+02:00") for t in times)
    assert json.loads(cli("plan", "Dupont", "--show", "--json").out) == times
    bad = cli("plan", "Dupont", "--from", "2099-13-45")
    assert bad.code == 2
    assert bad.err.strip() == "Erreur : date de début invalide : '2099-13-45' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"


def test_plans_of_pages_on_one_host_keep_the_interval_between_them(cli):
    """Two counters of one prefecture are two pages on one host: their plans are made apart."""
    cli("init")
    for label, counter in (("Dupont", "16161"), ("Martin", "16162"), ("Traoré", "16163")):
        cli("case", "add", label, "--url", "https://www.val-doise.gouv.fr/booking/create/11343", "--counter", counter)
    planned = []
    for label in ("Dupont", "Martin", "Traoré"):
        result = cli("plan", label, "--weeks", "2", "--per-day", "4", "--from", "2099-03-23", "--json")
        assert result.code == 0, result.err
        planned += [datetime.fromisoformat(t) for t in json.loads(result.out)]
    planned.sort()
    gaps = [later - earlier for earlier, later in zip(planned, planned[1:])]
    assert len(planned) >= 3 * 10 * 4 and min(gaps) >= timedelta(minutes=10)


def _attempt(workspace, target_id: int, number: int, planned_id: int, claimed_by: str):
    facts = sample_facts(target_id, number, datetime(2026, 11, 30, 9, number, tzinfo=UTC))
    files = [NewArtefact("screenshot", "image/png", data=f"png {number}".encode())]
    return record_capture(workspace, facts, files, planned_id, claimed_by)


def test_a_watcher_that_lost_its_claim_keeps_its_attempt_but_not_the_plan_row(workspace):
    """Watcher A looked dead, B took the planned attempt over; A's attempt still finishes."""
    target_id = add_sample_case(workspace)
    with time_machine.travel(SUNDAY_BEFORE, tick=True):  # the plan is saved while MONDAY is still ahead
        save_plan(workspace, target_id, build_plan(MONDAY, weeks=1, per_day=1, seed=3)[:1])
    with workspace.writing() as session:
        planned = session.scalars(select(PlannedAttempt)).one()
        planned.status, planned.claimed_by = "running", "machine-b:42:x"
        planned_id = planned.id
    late = _attempt(workspace, target_id, 1, planned_id, claimed_by="machine-a:7:y")
    with workspace.reading() as session:
        row = session.get(PlannedAttempt, planned_id)
        assert (row.status, row.capture_id) == ("running", None)
        last = json.loads(session.scalars(select(JournalEntry.payload).order_by(JournalEntry.seq.desc())).first())
    assert last["data"]["planned_attempt_claim_lost"] == planned_id and "planned_attempt_id" not in last["data"]

    done = _attempt(workspace, target_id, 2, planned_id, claimed_by="machine-b:42:x")
    with workspace.reading() as session:
        row = session.get(PlannedAttempt, planned_id)
        assert (row.status, row.capture_id) == ("done", done.id)
    assert late.id != done.id and verify_workspace(workspace).ok
