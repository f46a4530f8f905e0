"""What the note says, at a glance, for the dashboard's case page: the conclusion, the spread, the days left
before the titre expires, the weekday × hour heatmap, and how old the last attempt is.

The same functions as the note (stats, sentences, urgency, freshness), over every attempt of the case's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from dossier_builder import sentences, stats
from dossier_builder.freshness import Staleness, staleness
from dossier_builder.french import date_range
from dossier_builder.outcomes import outcome_of
from dossier_builder.urgency import Urgency, document_of, urgency
from evidence.applicant_pieces import case_pieces
from evidence.applicants import get_applicant
from evidence.localtime import PARIS
from evidence.models import Capture, Case, Target
from evidence.workspace import Workspace


@dataclass(frozen=True)
class Glance:
    conclusion: str
    spread: str
    figures: stats.Statistics
    urgency: Urgency | None
    stale: Staleness | None


def case_glance(workspace: Workspace, case: Case) -> Glance | None:
    """The case at a glance, or None before its first attempt."""
    now = workspace.clock.now()
    with workspace.reading() as session:
        rows = session.execute(
            select(Capture.started_at, Capture.state, Capture.http_status, Capture.error)
            .where(Capture.target_id == case.target_id)
            .order_by(Capture.started_at)
        ).all()
        applicant = get_applicant(session, case)
        procedure = session.get_one(Target, case.target_id).procedure
        document = document_of({piece.kind for piece in case_pieces(session, case)})
    if not rows:
        return None
    outcomes = [outcome_of(row.state, row.http_status, row.error) for row in rows]
    figures = stats.compute([row.started_at for row in rows], outcomes)
    first, last = (_day(moment) for moment in (figures.first, figures.last))
    return Glance(
        conclusion=sentences.conclusion(figures, date_range(first, last)),
        spread=sentences.spread(figures),
        figures=figures,
        urgency=urgency(applicant.permit_expiry if applicant else None, procedure, _day(now), first, document),
        stale=staleness(figures.last, now),
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()
