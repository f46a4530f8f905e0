"""Is the evidence current? A judge wants attempts up to the days before the hearing: when the last one is
more than 48 hours older than the bundle, `dossier` warns (and offers to make one first) and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dossier_builder.french import Noun
from evidence.localtime import paris_time
from evidence.models import Capture
from evidence.purge import open_case
from evidence.workspace import Workspace

STALE_AFTER = timedelta(hours=48)
DAYS = Noun("jour", "jours")
HOURS = Noun("heure", "heures", feminine=True)


@dataclass(frozen=True)
class Staleness:
    last: datetime  # the last attempt
    age: timedelta  # from it to the bundle's date

    @property
    def age_text(self) -> str:
        """'9 jours', '50 heures'."""
        if self.age < timedelta(days=3):
            return HOURS.count(int(self.age.total_seconds() // 3600))
        return DAYS.count(self.age.days)

    @property
    def sentence(self) -> str:
        return f"La dernière tentative date du {paris_time(self.last)}, soit {self.age_text} avant l'établissement de ce dossier."


def staleness(last: datetime | None, now: datetime) -> Staleness | None:
    """How old the last attempt is at `now`, when older than STALE_AFTER; None when the evidence is current."""
    if last is None or now - last <= STALE_AFTER:
        return None
    return Staleness(last, now - last)


def case_staleness(workspace: Workspace, case_reference: str) -> Staleness | None:
    """The staleness of a case's attempts at the workspace's clock (before a bundle is built)."""
    with workspace.reading() as session:
        case = open_case(session, case_reference)
        last = session.scalar(select(func.max(Capture.started_at)).where(Capture.target_id == case.target_id))
    return staleness(last, workspace.clock.now())
