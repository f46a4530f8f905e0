"""What the evidence benches share: a case whose attempts are recorded through the tool's own path
(`evidence.records.record_capture`), one every 37 minutes from Monday 2 November 2026, 09:00 in Paris."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from evidence.records import CaptureFacts, NewArtefact, TargetSpec, add_case, record_capture
from evidence.workspace import Workspace

URL = "https://www.val-doise.gouv.fr/booking/create/11343"


def record_attempts(workspace: Workspace, captures: int, files_for: Callable[[int], list[NewArtefact]]) -> float:
    """Record `captures` no-slot attempts, attempt n keeping `files_for(n)`; return the seconds they took."""
    case, _ = add_case(workspace, "Banc d'essai", TargetSpec(URL, "ezbooking", "16161"))
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    began = time.perf_counter()
    for number in range(1, captures + 1):
        at = start + timedelta(minutes=37 * number)
        facts = CaptureFacts(case.target_id, number, at, at + timedelta(seconds=3), URL, URL + "/2", 200,
                             "noslot", "ezbooking", "Il n'existe plus de plage horaire libre.")
        record_capture(workspace, facts, files_for(number))
    return time.perf_counter() - began
