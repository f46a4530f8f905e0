"""Where a case's evidence stands: attempts done and planned, letters sent, and its weaknesses.

`preuves status` prints it and the dashboard shows it; both read it from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from evidence import server_time
from evidence.models import Capture, Case, Letter, PlannedAttempt
from evidence.observations import PageObservations
from evidence.stats import capture_stats
from evidence.workspace import Workspace


def case_status(workspace: Workspace, case: Case) -> dict[str, Any]:
    """Per case: what was done and planned, and whether the evidence is strong enough yet."""
    with workspace.reading() as session:
        attempts = session.execute(
            select(Capture.started_at, Capture.state, Capture.attempt_no, Capture.observations).where(
                Capture.target_id == case.target_id
            )
        ).all()
        planned = session.scalar(
            select(func.count()).select_from(PlannedAttempt).where(
                PlannedAttempt.target_id == case.target_id, PlannedAttempt.status == "planned"
            )
        )
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
        "case": case.label,
        "id": case.id,
        "attempts_done": stats.attempts,
        "attempts_planned": planned,
        "distinct_days": stats.distinct_days,
        "distinct_weeks": stats.distinct_weeks,
        "hour_windows": list(stats.windows),
        "per_state": stats.per_state,
        "last_attempt": stats.last.isoformat() if stats.last else None,
        "letters_sent": letters_sent,
        "largest_clock_gap_ms": gap.skew_ms if gap else None,
        "warnings": stats.weaknesses(letters_sent or 0) + ([clock_warning] if clock_warning else []),
    }
