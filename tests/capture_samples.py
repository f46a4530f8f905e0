"""The facts of one sample « no slot » attempt, shared by `evidence_helpers` and `crash_child`.

A module of its own so that the crash child, started again after every SIGKILL, imports nothing
more than it needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from evidence.records import CaptureFacts

URL = "https://www.val-doise.gouv.fr/booking/create/11343"


def sample_facts(target_id: int, attempt_no: int, started_at: datetime) -> CaptureFacts:
    """A four-second « no slot » attempt on the sample page."""
    return CaptureFacts(
        target_id=target_id,
        attempt_no=attempt_no,
        started_at=started_at,
        finished_at=started_at + timedelta(seconds=4),
        url_requested=URL,
        final_url=URL + "/2",
        http_status=200,
        state="noslot",
        platform="ezbooking",
        evidence_text="Il n'existe plus de plage horaire libre pour votre demande de rendez-vous.",
    )
