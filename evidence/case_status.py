"""Where a case's evidence stands: attempts done and planned, letters sent, and its weaknesses.

`preuves status` prints it and the dashboard shows it; both read it from here, with plain SQL (plain_sql.py):
the dashboard through its SQLAlchemy session, `status` through sqlite3 alone when it can (quick_read.py), so
that it answers without loading SQLAlchemy. This module therefore imports none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from evidence import server_time
from evidence.localtime import PARIS
from evidence.names import PURGE_KIND
from evidence.observations import PageObservations
from evidence.plain_sql import Reader, session_reader, utc
from evidence.sealing import KeyStore
from evidence.stats import capture_stats

if TYPE_CHECKING:
    from evidence.models import Case
    from evidence.workspace import Workspace


@dataclass(frozen=True)
class CaseRow:
    id: int
    label: str  # as shown: sealed text opened, « effacé » once purged
    target_id: int


def read_cases(reader: Reader, keys: KeyStore) -> list[CaseRow]:
    """Every case, in the order they were made."""
    return [
        CaseRow(case_id, keys.shown(label) or "", target_id)
        for case_id, label, target_id in reader.rows("SELECT id, label, target_id FROM cases ORDER BY id")
    ]


def all_statuses(reader: Reader, keys: KeyStore, now: datetime) -> list[dict[str, Any]]:
    """`status_of` every case (what `preuves status` prints), the journal's purges read once for all."""
    purged = purges(reader)
    return [status_of(reader, case, now, purged.get(case.id)) for case in read_cases(reader, keys)]


def case_status(workspace: Workspace, case: Case, since: datetime | None = None) -> dict[str, Any]:
    """`status_of` a case the caller holds as a model (the dashboard, `dossier`), in one read transaction."""
    with workspace.reading() as session:
        reader = session_reader(session)
        row = CaseRow(case.id, case.label, case.target_id)
        return status_of(reader, row, workspace.clock.now(), purges(reader).get(case.id), since)


def status_of(
    reader: Reader, case: CaseRow, now: datetime, purge: dict[str, Any] | None, since: datetime | None = None
) -> dict[str, Any]:
    """Per case: what was done and planned, and whether the evidence is strong enough yet. `purge`: the case's
    purge as `purges` gives it, None when it was not purged. With `since`, only the attempts made from then on
    count (what a dashboard user may see)."""
    target = {"target": case.target_id}
    attempts = [
        (utc(started_at), state, attempt_no, observations)
        for started_at, state, attempt_no, observations in reader.rows(
            "SELECT started_at, state, attempt_no, observations FROM captures WHERE target_id = :target", **target
        )
    ]
    if since is not None:
        attempts = [attempt for attempt in attempts if attempt[0] >= since]
    planned = reader.value(
        "SELECT COUNT(*) FROM planned_attempts WHERE target_id = :target AND status IN ('planned', 'reminded')",
        **target,
    )
    next_planned = reader.value(
        "SELECT MIN(planned_at) FROM planned_attempts "
        "WHERE target_id = :target AND status = 'planned' AND planned_at >= :now",
        now=reader.moment(now), **target,
    )
    # Planned attempts that did not happen, counted apart from the attempts made: an accompanied
    # one nobody started in its window, an unattended one no watcher performed in time.
    missed = dict(reader.rows(
        "SELECT mode, COUNT(*) FROM planned_attempts WHERE target_id = :target AND status = 'missed' GROUP BY mode",
        **target,
    ))
    letters_sent = reader.value(
        "SELECT COUNT(*) FROM letters WHERE case_id = :case AND direction = 'sent'", case=case.id
    )
    stats = capture_stats((started_at, state) for started_at, state, _, _ in attempts)
    # Attempts made before December 2026 keep the server time only in their environment file: not read here.
    gap = server_time.largest_gap(
        (attempt_no, server_time.from_observations(PageObservations.from_json(observations)))
        for _, _, attempt_no, observations in attempts
    )
    clock_warning = server_time.warning(gap)
    next_attempt = utc(next_planned)
    return {
        "label": case.label,
        "id": case.id,
        # A purged case takes no new evidence: it is no longer active, and has nothing to strengthen.
        "purged": purge,
        "attempts_done": stats.attempts,
        "attempts_planned": planned,
        "next_attempt": next_attempt.isoformat() if next_attempt else None,
        "accompanied_missed": missed.get("accompanied", 0),
        "unattended_missed": missed.get("unattended", 0),
        "distinct_days": stats.distinct_days,
        "distinct_weeks": stats.distinct_weeks,
        "hour_windows": list(stats.windows),
        "per_state": stats.per_state,
        "last_attempt": stats.last.isoformat() if stats.last else None,
        "letters_sent": letters_sent,
        "largest_clock_gap_ms": gap.skew_ms if gap else None,
        "warnings": [] if purge else stats.weaknesses(letters_sent or 0) + ([clock_warning] if clock_warning else []),
    }


def purges(reader: Reader) -> dict[int, dict[str, Any]]:
    """Every purge the journal records (see purge.py), by case id, as `purge_facts` says it."""
    return {
        json.loads(payload)["data"]["case_id"]: purge_facts(seq, utc(recorded_at))
        for seq, recorded_at, payload in reader.rows(
            "SELECT seq, recorded_at, payload FROM journal_entries WHERE kind = :kind ORDER BY seq", kind=PURGE_KIND
        )
    }


def purge_facts(seq: int, recorded_at: datetime) -> dict[str, Any]:
    """What `status` and `case list` say of a purge: its journal entry and when."""
    return {"seq": seq, "recorded_at": recorded_at.isoformat()}


def purged_sentence(purged: dict[str, Any]) -> str:
    """How `status`, `case list` and `case show` say that a case was purged (`purged` as `case_status` gives it)."""
    day = datetime.fromisoformat(purged["recorded_at"]).astimezone(PARIS)
    return (
        f"Dossier purgé le {day:%d/%m/%Y} (entrée n° {purged['seq']} du journal) : ses fichiers et l'identité du "
        "demandeur sont effacés, il ne reçoit plus de preuves."
    )
