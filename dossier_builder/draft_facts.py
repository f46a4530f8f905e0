"""The facts a letter or a requête tells, computed from the dossier's facts (`facts.gather`):
the failed attempts summed up, the letters sent and received with their receipt and silence, the
other events, the request a relance or a referral refers to, and the screenshots a letter annexes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dossier_builder import french
from dossier_builder.facts import AttemptFacts, EventFacts, LetterFacts
from dossier_builder.images import jpeg_copy
from evidence.errors import BadInput
from evidence.letters import CHANNELS, RECEIPT_EVENT, WRITTEN_CHANNELS, silence_since
from evidence.localtime import PARIS, paris_time

# The attempts a letter counts as failed: those that reached the site (not an attempt whose own connection
# failed, dossier_builder/outcomes.py).
FAILED_STATES = ("noslot", "error", "captcha", "unknown")
# How the letters say what each failed attempt showed.
OUTCOME_PHRASES = {
    "noslot": "le site a indiqué qu'aucun créneau n'était disponible",
    "error": "le site était en erreur ou indisponible",
    "captcha": "la tentative s'est arrêtée au code de sécurité (captcha) exigé avant l'affichage des créneaux",
    "unknown": "le site a affiché une page ne proposant aucun créneau identifiable",
}
# The rejected case of CE 10 juin 2020 n° 435594 (REFERENCE §1): 4 screenshots, one registered
# letter and one email, all between 13 and 18 September 2019.
CE_435594_SCREENSHOTS = 4
CE_435594_SPAN_DAYS = 6


@dataclass(frozen=True)
class AttemptLine:
    when: str  # '02/11/2026 09:30:00 (UTC+01:00)'
    state: str  # French label
    sha256: str | None  # of the dated screenshot a letter annexes (its own, even when two pages look alike)


@dataclass(frozen=True)
class AttemptSummary:
    """The failed attempts, as the facts of a letter tell them."""

    count: int
    first: datetime
    last: datetime
    first_day: date  # Europe/Paris
    last_day: date
    distinct_days: int
    distinct_weeks: int
    span_days: int
    weekdays: int  # how many different days of the week (Monday … Sunday)
    earliest_time: str  # '8 h 05'
    latest_time: str
    outcomes: tuple[str, ...]  # '… aucun créneau n'était disponible (12 fois)'
    quoted_text: str | None  # the page's own words, most often seen on a no-slot page
    days_text: str  # '2, 3 et 9 novembre 2026 ; 1er décembre 2026'
    pieces_text: str  # 'pièces n° 3 à 6'
    lines: tuple[AttemptLine, ...]

    @property
    def beyond_ce_435594(self) -> bool:
        """More attempts, over more days and more than one week, than the case the CE rejected."""
        return (
            self.count > CE_435594_SCREENSHOTS and self.span_days > CE_435594_SPAN_DAYS and self.distinct_weeks > 1
        )


@dataclass(frozen=True)
class LetterLine:
    id: int
    letter_date: date
    direction: str
    channel_code: str
    channel: str  # French label
    subject: str | None
    tracking: str | None
    piece: int
    received_on: date | None  # by the prefecture (avis de réception)
    answer_date: date | None
    silence_since: date | None
    days_unanswered: int | None  # from the receipt (else the letter's date) to the draft's date
    sha256: str | None  # of the letter's own file

    @property
    def written(self) -> bool:
        return self.channel_code in WRITTEN_CHANNELS


@dataclass(frozen=True)
class EventLine:
    event_date: date
    label: str
    outcome: str | None


@dataclass(frozen=True)
class Shot:
    """A screenshot a letter annexes: the copy with date and time printed in (the raw capture's hash
    is printed in it), identified by its own SHA-256."""

    number: int
    when: str
    state: str
    sha256: str | None
    image: str | None  # file name of the JPEG copy in the scratch folder; None if it cannot be shown


def _time_of_day(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def days_text(days: list[date]) -> str:
    """Distinct days grouped by month: '2, 3 et 9 novembre 2026 ; 1er décembre 2026'."""
    groups: dict[tuple[int, int], list[int]] = {}
    for day in sorted(set(days)):
        groups.setdefault((day.year, day.month), []).append(day.day)
    parts = []
    for (year, month), numbers in groups.items():
        names = ["1er" if n == 1 else str(n) for n in numbers]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        parts.append(f"{listed} {french.MONTHS[month - 1]} {year}")
    return " ; ".join(parts)


def pieces_text(numbers: list[int]) -> str:
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f"pièce n° {numbers[0]}"
    joiner = " et " if len(numbers) == 2 else " à "
    return f"pièces n° {numbers[0]}{joiner}{numbers[-1]}"


def failed_attempts(attempts: tuple[AttemptFacts, ...]) -> list[AttemptFacts]:
    return [a for a in attempts if a.outcome in FAILED_STATES]


def summarise_attempts(attempts: tuple[AttemptFacts, ...]) -> AttemptSummary:
    failed = failed_attempts(attempts)
    if not failed:
        raise BadInput("aucune tentative infructueuse enregistrée : rien à exposer dans un courrier")
    moments = [a.started_at for a in failed]
    days = [m.astimezone(PARIS).date() for m in moments]
    counts = Counter(a.state for a in failed)
    quoted = Counter(a.evidence_text for a in failed if a.state == "noslot" and a.evidence_text)
    local_times = sorted(moments, key=lambda m: m.astimezone(PARIS).time())
    return AttemptSummary(
        count=len(failed),
        first=min(moments),
        last=max(moments),
        first_day=min(days),
        last_day=max(days),
        distinct_days=len(set(days)),
        distinct_weeks=len({d.isocalendar()[:2] for d in days}),
        span_days=(max(days) - min(days)).days + 1,
        weekdays=len({d.weekday() for d in days}),
        earliest_time=_time_of_day(local_times[0]),
        latest_time=_time_of_day(local_times[-1]),
        outcomes=tuple(  # « (3 fois) » after each, unless there is but one attempt
            OUTCOME_PHRASES[state] + ("" if len(failed) == 1 else f" ({french.plural(counts[state], 'fois', 'fois')})")
            for state in FAILED_STATES
            if counts[state]
        ),
        quoted_text=quoted.most_common(1)[0][0] if quoted else None,
        days_text=days_text(days),
        pieces_text=pieces_text(sorted({a.piece for a in failed})),
        lines=tuple(
            AttemptLine(paris_time(a.started_at), french.state_label(a.outcome), a.shown.sha256 if a.shown else None)
            for a in failed
        ),
    )


def letter_lines(letters: tuple[LetterFacts, ...], today: date) -> list[LetterLine]:
    first_answer: dict[int, date] = {}
    for letter in letters:
        if letter.direction == "received" and letter.answers_id is not None:
            first_answer.setdefault(letter.answers_id, letter.letter_date)
    lines = []
    for letter in letters:
        answered = letter.id in first_answer
        pending = letter.direction == "sent" and not answered and letter.channel in WRITTEN_CHANNELS
        lines.append(
            LetterLine(
                id=letter.id,
                letter_date=letter.letter_date,
                direction=letter.direction,
                channel_code=letter.channel,
                channel=CHANNELS.get(letter.channel, letter.channel),
                subject=letter.subject,
                tracking=letter.tracking,
                piece=letter.piece,
                received_on=letter.received_on,
                answer_date=first_answer.get(letter.id),
                silence_since=silence_since(
                    letter.direction, letter.channel, letter.letter_date, answered, today, letter.received_on
                ),
                days_unanswered=(today - (letter.received_on or letter.letter_date)).days if pending else None,
                sha256=letter.files[0].sha256 if letter.files else None,
            )
        )
    return lines


def event_lines(events: tuple[EventFacts, ...]) -> tuple[EventLine, ...]:
    """The applicant's own steps (calls, visits, referrals); receipts are told with their letter."""
    return tuple(EventLine(e.event_date, e.label, e.outcome) for e in events if e.kind != RECEIPT_EVENT)


def first_unanswered(letters: list[LetterLine]) -> LetterLine | None:
    """The request a relance or a referral cites: the first written one left unanswered, else the
    latest written request."""
    requests = [line for line in letters if line.direction == "sent" and line.written]
    pending = [line for line in requests if line.answer_date is None]
    return pending[0] if pending else (requests[-1] if requests else None)


def annex_shots(attempts: tuple[AttemptFacts, ...], home: Path, scratch: Path) -> tuple[Shot, ...]:
    """JPEG copies, in `scratch`, of the failed attempts' dated screenshots (a file that cannot be
    read — purged, or not an image — is listed without its picture)."""
    shots = []
    for number, attempt in enumerate(failed_attempts(attempts), start=1):
        shown = attempt.shown
        image = None
        if shown is not None:
            name = f"capture-{attempt.id}.jpg"
            try:
                jpeg_copy(home / shown.blob_path, scratch / name)
            except OSError:
                pass
            else:
                image = name
        shots.append(
            Shot(
                number,
                paris_time(attempt.started_at),
                french.state_label(attempt.outcome),
                shown.sha256 if shown else None,
                image,
            )
        )
    return tuple(shots)
