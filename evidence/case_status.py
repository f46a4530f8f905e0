"""Where a case's evidence stands: attempts done and planned, letters sent, and its weaknesses.

`preuves status` prints it and the dashboard shows it; both read it from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from evidence import server_time
from evidence.localtime import PARIS
from evidence.models import Capture, Case, Letter, PlannedAttempt
from evidence.observations import PageObservations
from evidence.purge import purges
from evidence.stats import capture_stats
from evidence.workspace import Workspace


def case_status(workspace: Workspace, case: Case, since: datetime | None = None) -> dict[str, Any]:
    """Per case: what was done and planned, and whether the evidence is strong enough yet.
    With `since`, only the attempts made from then on count (what a dashboard user may see)."""
    with workspace.reading() as session:
        query = select(Capture.started_at, Capture.state, Capture.attempt_no, Capture.observations).where(
            Capture.target_id == case.target_id
        )
        if since is not None:
            query = query.where(Capture.started_at >= since)
        attempts = session.execute(query).all()
        planned = session.scalar(
            select(func.count()).select_from(PlannedAttempt).where(
                PlannedAttempt.target_id == case.target_id, PlannedAttempt.status.in_(("planned", "reminded"))
            )
        )
        next_planned = session.scalar(
            select(func.min(PlannedAttempt.planned_at)).where(
                PlannedAttempt.target_id == case.target_id, PlannedAttempt.status == "planned",
                PlannedAttempt.planned_at >= workspace.clock.now(),
            )
        )
        # Planned attempts that did not happen, counted apart from the attempts made: an accompanied
        # one nobody started in its window, an unattended one no watcher performed in time.
        missed = dict(
            session.execute(
                select(PlannedAttempt.mode, func.count()).where(
                    PlannedAttempt.target_id == case.target_id, PlannedAttempt.status == "missed"
                ).group_by(PlannedAttempt.mode)
            ).all()
        )
        purge = purges(session).get(case.id)
        letters_sent = session.scalar(
            select(func.count()).select_from(Letter).where(
                Letter.case_id == case.id, Letter.direction == "sent"
            )
        )
    stats = capture_stats((row.started_at, row.state) for row in attempts)
    # Attempts made before December 2026 keep the server time only in their environment file: not read here.
    gap = server_time.largest_gap(
        (row.attempt_no, server_time.from_observations(PageObservations.from_json(row.observations)))
        for row in attempts
    )
    clock_warning = server_time.warning(gap)
    return {
        "label": case.label,
        "id": case.id,
        # A purged case takes no new evidence: it is no longer active, and has nothing to strengthen.
        "purged": purge.to_json() if purge else None,
        "attempts_done": stats.attempts,
        "attempts_planned": planned,
        "next_attempt": next_planned.isoformat() if next_planned else None,
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


def purged_sentence(purged: dict[str, Any]) -> str:
    """How `status`, `case list` and `case show` say that a case was purged (`purged` as `case_status` gives it)."""
    day = datetime.fromisoformat(purged["recorded_at"]).astimezone(PARIS)
    return (
        f"Dossier purgé le {day:%d/%m/%Y} (entrée n° {purged['seq']} du journal) : ses fichiers et l'identité du "
        "demandeur sont effacés, il ne reçoit plus de preuves."
    )
