"""The capture plan covers what a judge looks for, keeps its promises (per day, holidays), and is saved as data."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from capture.plan import PlanExists, build_plan, parse_hours, plan_target, save_plan, saved_plan
from capture.working_days import local_law_subdivision, public_holidays
from evidence.errors import BadInput
from evidence.localtime import PARIS
from evidence.models import JournalEntry, PlannedAttempt
from evidence.observations import PageObservations
from evidence.records import NewArtefact, record_capture
from evidence.stats import WINDOWS, window_of
from evidence.verify import verify_workspace
from tests.evidence_helpers import add_sample_case, sample_facts

pytestmark = pytest.mark.both_databases

MONDAY = date(2026, 11, 30)
SUNDAY_BEFORE = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


CHRISTMAS = date(2026, 12, 25)


def _per_day(plan) -> dict[date, int]:
    counts: dict[date, int] = {}
    for p in plan:
        day = p.at.astimezone(PARIS).date()
        counts[day] = counts.get(day, 0) + 1
    return counts


def test_every_working_day_and_every_window_is_covered():
    plan = build_plan(MONDAY, weeks=4, per_day=3, seed=7)
    local = [p.at.astimezone(PARIS) for p in plan]
    expected = {
        MONDAY + timedelta(days=n) for n in range(28)
        if (MONDAY + timedelta(days=n)).weekday() < 5 and MONDAY + timedelta(days=n) != CHRISTMAS
    }
    assert {d.date() for d in local} == expected
    assert {window_of(p.at) for p in plan} == {name for name, *_ in WINDOWS}
    assert all(p.window == window_of(p.at) for p in plan)
    assert len({d.isocalendar()[1] for d in local}) == 4


@pytest.mark.parametrize("per_day", [1, 2, 3, 4])
def test_per_day_is_exactly_kept_release_moments_included(per_day):
    """Issue 16: `--per-day 3` gave 4–5 on some days; the release moments now take a regular attempt's place."""
    plan = build_plan(MONDAY, weeks=4, per_day=per_day, seed=per_day)
    counts = _per_day(plan)
    assert set(counts.values()) == {per_day}
    assert len(plan) == per_day * 19  # 20 weekdays, 25 December excepted
    assert len({p.at for p in plan}) == len(plan)


def test_release_moments_take_the_place_of_a_regular_attempt():
    plan = build_plan(MONDAY, weeks=3, per_day=2, seed=1)
    reasons = {(p.at.astimezone(PARIS).date(), p.reason) for p in plan}
    assert (MONDAY, "monday_morning") in reasons
    assert (date(2026, 12, 1), "month_release") in reasons
    assert (date(2026, 12, 15), "month_release") in reasons
    assert any(reason == "early_evening" for _, reason in reasons)
    for p in plan:
        local = p.at.astimezone(PARIS)
        if p.reason == "monday_morning":
            assert local.weekday() == 0 and (8, 0) <= (local.hour, local.minute) < (9, 30)
        if p.reason == "early_evening":
            assert local.weekday() in (1, 3) and (17, 30) <= (local.hour, local.minute) < (19, 0)


def test_spacing_and_jitter():
    interval = timedelta(minutes=45)
    plan = build_plan(MONDAY, weeks=2, per_day=4, min_interval=interval, seed=3)
    times = [p.at for p in plan]
    assert times == sorted(times)
    assert all(b - a >= interval for a, b in zip(times, times[1:], strict=False))
    assert set(_per_day(plan).values()) == {4}
    other = build_plan(MONDAY, weeks=2, per_day=4, min_interval=interval, seed=4)
    assert [p.at for p in other] != times  # jitter: another draw gives other minutes
    assert len({t.astimezone(PARIS).minute for t in times}) > 10


def test_public_holidays_are_not_working_days():
    new_year = build_plan(date(2026, 12, 21), weeks=2, per_day=2, seed=5)
    days = set(_per_day(new_year))
    assert CHRISTMAS not in days and date(2027, 1, 1) not in days
    assert date(2026, 12, 24) in days and date(2026, 12, 28) in days
    # Alsace-Moselle: Good Friday and 26 December too (26/12/2025 and 3/04/2026 are Fridays).
    for subdivision in ("57", "6AE"):
        closed = public_holidays(date(2025, 12, 22), date(2026, 4, 10), subdivision)
        assert closed[date(2025, 12, 26)] == "Saint-Étienne" and closed[date(2026, 4, 3)] == "Vendredi saint"
    general = public_holidays(date(2025, 12, 22), date(2026, 4, 10))
    assert date(2025, 12, 26) not in general and date(2026, 4, 3) not in general


@pytest.mark.parametrize(("url", "prefecture", "expected"), [
    ("https://www.bas-rhin.gouv.fr/booking/create/1", None, "6AE"),
    ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/", "Préfecture du Haut-Rhin", "6AE"),
    ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/", "Préfecture de la Moselle (Metz)", "57"),
    ("https://www.moselle.gouv.fr/booking/create/1", None, "57"),
    ("https://www.meurthe-et-moselle.gouv.fr/booking/create/1", "Préfecture de Meurthe-et-Moselle", None),
    ("https://www.val-doise.gouv.fr/booking/create/1", "Val-d'Oise", None),
])
def test_alsace_moselle_is_recognised_by_host_or_prefecture(url, prefecture, expected):
    assert local_law_subdivision(url, prefecture) == expected


def test_accompanied_plans_have_the_same_spread_at_times_a_person_reads():
    unattended = build_plan(MONDAY, weeks=2, per_day=3, seed=9)
    accompanied = build_plan(MONDAY, weeks=2, per_day=3, seed=9, mode="accompanied")
    assert _per_day(accompanied) == _per_day(unattended)
    assert {p.window for p in accompanied} == {p.window for p in unattended} == {name for name, *_ in WINDOWS}
    assert {p.mode for p in accompanied} == {"accompanied"}
    assert all(p.at.second == 0 and p.at.minute % 5 == 0 for p in accompanied)
    assert all(window_of(p.at) != "night" for p in accompanied)


def test_an_announced_publication_gets_an_attempt_just_after_it():
    announced = datetime(2026, 12, 9, 14, 0, tzinfo=PARIS)  # a Wednesday
    plan = build_plan(MONDAY, weeks=2, per_day=2, seed=2, announced=announced, mode="accompanied")
    [after] = [p for p in plan if p.reason == "announced_release"]
    assert timedelta(minutes=2) <= after.at - announced <= timedelta(minutes=10)
    assert set(_per_day(plan).values()) == {2}  # within the day's two, not on top
    on_sunday = datetime(2026, 12, 13, 10, 0, tzinfo=PARIS)
    plan = build_plan(MONDAY, weeks=2, per_day=2, seed=2, announced=on_sunday)
    assert _per_day(plan)[on_sunday.date()] == 1
    assert [p.reason for p in plan if p.at.astimezone(PARIS).date() == on_sunday.date()] == ["announced_release"]


def test_a_plan_keeps_to_the_hours_a_person_can_be_there():
    """No night attempt unless asked: by default 8 h to 21 h; a person's hours cut the windows; more hours
    asked for stretch the first and last ones."""
    def hours_of(plan) -> set[float]:
        return {p.at.astimezone(PARIS).hour + p.at.astimezone(PARIS).minute / 60 for p in plan}

    default = build_plan(MONDAY, weeks=4, per_day=4, seed=1, mode="accompanied")
    assert 8 <= min(hours_of(default)) and max(hours_of(default)) < 21
    at_work = build_plan(MONDAY, weeks=4, per_day=2, seed=1, mode="accompanied", hours=(11, 17))
    assert 11 <= min(hours_of(at_work)) and max(hours_of(at_work)) < 17 + 10 / 60  # the politeness push, at most
    assert set(_per_day(at_work).values()) == {2}
    with pytest.raises(BadInput, match=r"entre 1 et 1 dans ces heures \(12 h – 13 h\)"):
        build_plan(MONDAY, weeks=1, per_day=3, hours=(12, 13))
    night = build_plan(MONDAY, weeks=4, per_day=4, seed=2, hours=(5, 24))
    assert min(hours_of(night)) < 8 and max(hours_of(night)) >= 21
    assert "night" in {p.window for p in night} and all(p.window == window_of(p.at) for p in night)
    assert [parse_hours(text) for text in ("9-18", "9h-18h", " 0 - 24 ")] == [(9, 18), (9, 18), (0, 24)]
    for wrong in ("18-9", "9", "25-26", "9-18-20", "neuf-dix-huit"):
        with pytest.raises(BadInput, match="heures invalides"):
            parse_hours(wrong)


@pytest.mark.parametrize(("weeks", "per_day"), [(0, 3), (27, 3), (4, 0), (4, 5)])
def test_bad_plan_sizes_are_refused(weeks, per_day):
    with pytest.raises(BadInput):
        build_plan(MONDAY, weeks=weeks, per_day=per_day)


def test_saved_plan_is_journaled_and_replaced_only_on_request(workspace):
    target_id = add_sample_case(workspace)
    with time_machine.travel(SUNDAY_BEFORE, tick=True):
        first = build_plan(MONDAY, weeks=1, seed=1)
        assert save_plan(workspace, target_id, first) == 0
        assert [p.planned_at for p in saved_plan(workspace, target_id)] == [p.at for p in first]
        second = build_plan(MONDAY, weeks=2, seed=2)
        with pytest.raises(PlanExists):
            save_plan(workspace, target_id, second)
        assert [p.planned_at for p in saved_plan(workspace, target_id)] == [p.at for p in first]
        assert save_plan(workspace, target_id, second, replace=True) == len(first)
        assert [p.planned_at for p in saved_plan(workspace, target_id)] == [p.at for p in second]
    assert verify_workspace(workspace).ok


@pytest.mark.parametrize("mode", ["accompanied", "unattended"])
def test_a_replaced_plan_keeps_every_attempt_it_announces(workspace, mode):
    """A new time equal to one of the page's earlier rows (the replaced plan's, kept as cancelled) moves to the
    next free one: such times used to be dropped unsaid (« Plan établi : 54 », then « 46 tentative(s) au plan »),
    most often on accompanied plans, whose times fall on round five minutes."""
    target_id = add_sample_case(workspace)
    with time_machine.travel(SUNDAY_BEFORE, tick=True):
        first = plan_target(workspace, target_id, first_day=MONDAY, weeks=1, mode=mode, seed=7)
        again = plan_target(workspace, target_id, first_day=MONDAY, weeks=1, mode=mode, seed=7, replace=True)
        kept = [p.planned_at for p in saved_plan(workspace, target_id) if p.status == "planned"]
    assert again.cancelled == len(first.times) == 15
    assert kept == [p.at for p in again.times] and len(kept) == 15
    assert not {p.at for p in first.times} & set(kept)
    if mode == "accompanied":  # still at times a person reads
        assert all(p.at.minute % 5 == 0 and p.at.second == 0 for p in again.times)
    assert verify_workspace(workspace).ok


def test_plan_follows_the_publication_announced_by_the_last_attempt(workspace):
    target_id = add_sample_case(workspace)
    announced = datetime(2026, 12, 2, 14, 0, tzinfo=PARIS)
    facts = replace(
        sample_facts(target_id, 1, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        observations=PageObservations(next_release=announced),
    )
    record_capture(workspace, facts, [NewArtefact("screenshot", "image/png", data=b"png")])
    with time_machine.travel(SUNDAY_BEFORE, tick=True):
        result = plan_target(workspace, target_id, first_day=MONDAY, weeks=1, per_day=3, seed=4)
    assert result.announced == announced and result.mode == "unattended"
    [after] = [p for p in saved_plan(workspace, target_id) if p.reason == "announced_release"]
    assert timedelta(minutes=2) <= after.planned_at - announced <= timedelta(minutes=10)


def test_plan_shows_by_default_and_makes_or_replaces_only_when_asked(cli):
    cli("init")
    cli("case", "add", "Dupont", "--url", "https://www.val-doise.gouv.fr/booking/create/11343")
    empty = cli("plan", "Dupont")
    assert empty.code == 0 and empty.err.strip() == "Aucun plan pour ce dossier : établissez-le avec « preuves plan 1 --new »."
    made = cli("plan", "Dupont", "--new", "--weeks", "1", "--from", "2099-03-23", "--json")
    assert made.code == 0, made.err
    times = json.loads(made.out)
    assert len(times) == 15 and all(t.endswith("+01:00") or t.endswith("+02:00") for t in times)
    assert "15 tentative(s) du lun. 23/03/2099 " in made.err and "3 par jour ouvré" in made.err
    assert json.loads(cli("plan", "Dupont", "--json").out) == times
    shown = cli("plan", "Dupont")
    assert "lun. 23/03/2099" in shown.out and "Mon" not in shown.out and "automatique" in shown.out
    again = cli("plan", "Dupont", "--new", "--from", "2099-04-06")
    assert (again.code, again.err.strip()) == (
        2, "Erreur : un plan est déjà en cours pour cette page : ajoutez --replace pour le remplacer"
    )
    options_alone = cli("plan", "Dupont", "--weeks", "2")
    assert (options_alone.code, options_alone.err.strip()) == (
        2, "Erreur : pour établir un plan, ajoutez --new (ou --replace pour remplacer le plan en cours)"
    )
    assert json.loads(cli("plan", "Dupont", "--json").out) == times
    replaced = cli("plan", "Dupont", "--replace", "--weeks", "1", "--per-day", "2", "--from", "2099-04-06", "--json")
    assert replaced.code == 0 and "15 tentative(s) prévue(s) de l'ancien plan remplacée(s)." in replaced.err
    assert len(json.loads(replaced.out)) == 10
    bad = cli("plan", "Dupont", "--replace", "--from", "2099-13-45")
    assert bad.code == 2
    assert bad.err.strip() == "Erreur : date de début invalide : '2099-13-45' (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"


@pytest.mark.parametrize("day", ["1900-01-01", "2026-01-01"])
def test_a_plan_from_a_past_day_is_refused_and_nothing_replaced(cli, day):
    cli("init")
    cli("case", "add", "Dupont", "--url", "https://www.val-doise.gouv.fr/booking/create/11343")
    with time_machine.travel(datetime(2026, 12, 6, 12, tzinfo=UTC), tick=True):
        kept = json.loads(cli("plan", "Dupont", "--new", "--weeks", "1", "--json").out)
        result = cli("plan", "Dupont", "--replace", "--from", day)
        assert result.code == 2
        assert result.err.strip().splitlines() == [
            f"Erreur : date de début passée : {date.fromisoformat(day):%d/%m/%Y} (au plus tôt aujourd'hui, 06/12/2026)"
        ]
        assert json.loads(cli("plan", "Dupont", "--json").out) == kept


def test_holidays_are_left_out_and_said(cli):
    cli("init")
    cli("case", "add", "Strasbourg", "--url", "https://www.bas-rhin.gouv.fr/booking/create/11343")
    result = cli("plan", "Strasbourg", "--new", "--weeks", "2", "--per-day", "1", "--from", "2098-12-22", "--json")
    assert result.code == 0, result.err
    days = {datetime.fromisoformat(t).date() for t in json.loads(result.out)}
    assert days.isdisjoint({date(2098, 12, 25), date(2098, 12, 26), date(2099, 1, 1)})
    assert len(days) == 7
    assert ("Jours fériés sans tentative : 25/12/2098 (Noël), 26/12/2098 (Saint-Étienne), "
            "01/01/2099 (Jour de l'an).") in result.err


def test_case_add_says_which_attempts_the_platform_allows_and_plan_follows(cli):
    cli("init")
    added = cli("case", "add", "Nanterre", "--url",
                "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1922/")
    assert added.code == 0, added.err
    assert "RDV Préfecture — tentatives accompagnées : un captcha protège cette page à chaque visite." in added.err
    assert "Prochaine étape : le plan des tentatives, « preuves plan 1 --new »." in added.err
    made = cli("plan", "Nanterre", "--new", "--weeks", "1", "--from", "2099-03-23")
    assert "Tentatives accompagnées : un captcha protège cette page à chaque visite." in made.err
    assert "accompagnée" in made.out and "automatique" not in made.out
    classic = cli("case", "add", "Cergy", "--url", "https://www.val-doise.gouv.fr/booking/create/11343")
    assert "tentatives automatiques : l'outil les fait seul, aux heures du plan." in classic.err
    forced = cli("plan", "Cergy", "--new", "--accompanied", "--weeks", "1", "--from", "2099-03-23", "--json",
                 "--hours", "18-21", "--per-day", "1")
    assert forced.code == 0, forced.err
    assert all(datetime.fromisoformat(t).minute % 5 == 0 for t in json.loads(forced.out))
    assert all(18 <= datetime.fromisoformat(t).hour < 21 for t in json.loads(forced.out))
    assert "Heures choisies : de 18 h à 21 h." in forced.err


def test_plans_of_pages_on_one_host_keep_the_interval_between_them(cli):
    """Two counters of one prefecture are two pages on one host: their plans are made apart."""
    cli("init")
    for label, counter in (("Dupont", "16161"), ("Martin", "16162"), ("Traoré", "16163")):
        cli("case", "add", label, "--url", "https://www.val-doise.gouv.fr/booking/create/11343", "--counter", counter)
    planned = []
    for label in ("Dupont", "Martin", "Traoré"):
        result = cli("plan", label, "--new", "--weeks", "2", "--per-day", "4", "--from", "2099-03-23", "--json")
        assert result.code == 0, result.err
        planned += [datetime.fromisoformat(t) for t in json.loads(result.out)]
    planned.sort()
    gaps = [later - earlier for earlier, later in zip(planned, planned[1:])]
    assert len(planned) == 3 * 10 * 4 and min(gaps) >= timedelta(minutes=10)


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
