"""The prefecture server's clock beside ours: read from the observations (or an older attempt's environment
file), the largest gap found, and a visible warning in `status` beyond one minute."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from evidence import server_time
from evidence.observations import PageObservations
from evidence.records import NewArtefact, TargetSpec, add_case, record_capture
from tests.evidence_helpers import URL, add_sample_case, sample_facts

START = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def record(workspace, target_id: int, skews: list[int | None]) -> None:
    for n, skew in enumerate(skews, start=1):
        moment = START + timedelta(hours=5 * n)
        seen = PageObservations() if skew is None else PageObservations(
            server_date=(moment + timedelta(milliseconds=skew)).replace(microsecond=0), clock_skew_ms=skew
        )
        facts = replace(sample_facts(target_id, n, moment), observations=seen)
        record_capture(workspace, facts, [NewArtefact("html", "text/html", data=f"<html>{n}</html>".encode())])


def test_environment_file_of_an_older_attempt_is_read():
    data = json.dumps({"clock_vs_server": {"server_date": "2026-11-02T08:30:04+00:00", "skew_ms": -1200}}).encode()
    assert server_time.from_environment(data) == server_time.ServerTime(datetime(2026, 11, 2, 8, 30, 4, tzinfo=UTC), -1200)
    missing = json.dumps({"clock_vs_server": {"server_date": None, "skew_ms": None, "error": "no Date header"}})
    assert server_time.from_environment(missing.encode()) is None
    assert server_time.from_environment(b"not json") is None
    assert server_time.from_environment(b"{}") is None


def test_largest_gap_in_absolute_value_and_the_first_attempt_on_a_tie():
    times = [(1, server_time.ServerTime(START, 300)), (2, None), (3, server_time.ServerTime(START, -900)),
             (4, server_time.ServerTime(START, 900))]
    assert server_time.largest_gap(times) == server_time.LargestGap(3, -900, 3)
    assert server_time.largest_gap([(1, None)]) is None


def test_status_warns_when_the_computer_clock_was_more_than_a_minute_off(workspace, cli):
    record(workspace, add_sample_case(workspace, "Juste"), [400, None, -800])
    other, _ = add_case(workspace, "Décalé", TargetSpec(f"{URL}0", "ezbooking"))
    record(workspace, other.target_id, [500, 192_000, 3000])
    result = cli("status", "--json", home=workspace.home)
    assert result.code == 0
    right, wrong = json.loads(result.out)
    assert right["largest_clock_gap_ms"] == -800 and not any("horloge" in w for w in right["warnings"])
    assert wrong["largest_clock_gap_ms"] == 192_000
    warning = (
        "l'horloge de l'ordinateur s'écartait de 3 min 12 s de celle du serveur de la préfecture (tentative n° 2) : "
        "les heures enregistrées sont décalées d'autant ; mettez l'ordinateur à l'heure"
    )
    assert warning in wrong["warnings"]
    printed = cli("status", home=workspace.home)
    assert f"Preuves encore faibles : {warning}" in " ".join(printed.out.split())
