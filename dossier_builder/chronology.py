"""Attempts, letters and answers in one time line, with what is still unanswered and for how long.

Also the day the prefecture received each letter, and the case's other events — phone calls, visits to
the counter, referrals to the Défenseur des droits. Silence counts from the receipt when it is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from dossier_builder.facts import AttemptFacts, DossierFacts, EventFacts, LetterFacts
from dossier_builder.french import Noun, channel_label, long_date, paris_short, state_label
from dossier_builder.pieces import iso_week, week_title
from evidence.letters import silence_since
from evidence.localtime import PARIS, utc_offset_text

SHORT_HASH = 12
DAYS = Noun("jour", "jours")


@dataclass(frozen=True)
class Event:
    """One line of the chronology, before it is placed in its week.

    Each kind of event has its source in EVENT_SOURCES (attempts, letters …): adding a kind is adding a source.
    """

    moment: datetime  # aware; an event known by its date only is at 00:00 Paris that day
    timed: bool  # False for an event known by its date only (a letter): no time of day is shown
    id: int  # orders events of the same moment and kind
    style: str  # "attempt" | "letter" | "unanswered" | "event" (a CSS class of the row)
    text: str
    state: str
    piece: int | None
    short_hash: str


@dataclass(frozen=True)
class Row:
    style: str
    when: str  # « 27/11/2026 09:35 », with « (UTC+01:00) » only in a week where the offset changes
    event: str
    state: str
    piece: int | None
    short_hash: str
    elapsed: str  # days since the first event, « J+12 »


@dataclass(frozen=True)
class Week:
    title: str  # « Semaine du 2 au 8 novembre 2026 »
    offset_note: str  # « heure de Paris, UTC+01:00 », or the change of time within the week
    rows: list[Row]


@dataclass(frozen=True)
class PendingLetter:
    letter: LetterFacts
    days: int  # from the letter (its receipt, when known) to the end of the period (or the dossier's date)
    silence_since: date | None  # when two months of silence on a written request elapsed


def _letter_moment(letter: LetterFacts) -> datetime:
    # A letter has a date, no time: it sorts before the attempts of that day.
    return datetime.combine(letter.letter_date, time(0), PARIS)


def _answers(letters: tuple[LetterFacts, ...]) -> dict[int, LetterFacts]:
    """Sent letter id → the first received letter that answers it."""
    found: dict[int, LetterFacts] = {}
    for letter in letters:
        if letter.direction == "received" and letter.answers_id is not None:
            found.setdefault(letter.answers_id, letter)
    return found


def reference_day(facts: DossierFacts) -> date:
    """Until when silence is counted: the end of the chosen period, or the dossier's date."""
    today = facts.generated_at.astimezone(PARIS).date()
    return min(facts.date_to, today) if facts.date_to else today


def pending_letters(facts: DossierFacts) -> list[PendingLetter]:
    answered = _answers(facts.letters)
    until = reference_day(facts)
    return [
        PendingLetter(
            letter,
            (until - (letter.received_on or letter.letter_date)).days,
            silence_since(letter.direction, letter.channel, letter.letter_date, False, until, letter.received_on),
        )
        for letter in facts.letters
        if letter.direction == "sent" and letter.id not in answered
    ]


def _letter_text(letter: LetterFacts, answers: dict[int, LetterFacts], pending: dict[int, int]) -> str:
    how = channel_label(letter.channel)
    subject = f" — « {letter.subject} »" if letter.subject else ""
    tracking = f" (suivi {letter.tracking})" if letter.tracking else ""
    if letter.direction == "received":
        return f"Réponse reçue de la préfecture, {how}{subject}"
    text = f"Courrier envoyé à la préfecture, {how}{tracking}{subject}"
    if letter.received_on is not None:
        text += f", reçu par la préfecture le {long_date(letter.received_on)}"
    if letter.id in answers:
        answer = answers[letter.id]
        delay = (answer.letter_date - letter.letter_date).days
        return f"{text}. Réponse le {long_date(answer.letter_date)}, {DAYS.count(delay)} plus tard"
    if letter.received_on is not None:
        return f"{text}. Sans réponse {DAYS.count(pending[letter.id])} après sa réception"
    return f"{text}. Sans réponse depuis {DAYS.count(pending[letter.id])}"


def letter_events(facts: DossierFacts) -> list[Event]:
    answers = _answers(facts.letters)
    pending = {item.letter.id: item.days for item in pending_letters(facts)}
    return [
        Event(
            _letter_moment(letter),
            False,
            letter.id,
            "unanswered" if letter.id in pending else "letter",
            _letter_text(letter, answers, pending),
            "",
            letter.piece,
            letter.files[0].sha256[:SHORT_HASH] if letter.files else "",
        )
        for letter in facts.letters
    ]


def attempt_fingerprint(attempt: AttemptFacts) -> str:
    """The attempt's own fingerprint: its journal entry's hash (the raw screenshot's only if it has none)."""
    if attempt.entry_hash:
        return attempt.entry_hash
    original = attempt.original or attempt.shown
    return original.sha256 if original else ""


def attempt_events(facts: DossierFacts) -> list[Event]:
    return [
        Event(
            attempt.started_at,
            True,
            attempt.id,
            "attempt",
            f"{'Tentative assistée' if attempt.assisted else 'Tentative'} n° {attempt.attempt_no}",
            state_label(attempt.outcome),
            attempt.piece,
            attempt_fingerprint(attempt)[:SHORT_HASH],
        )
        for attempt in facts.attempts
    ]


def _case_event_text(event: EventFacts, letters: dict[int, LetterFacts]) -> tuple[str, int | None]:
    """A receipt names the letter received; another event says what came of it."""
    if event.letter_id is not None:
        letter = letters.get(event.letter_id)
        sent = f"du {long_date(letter.letter_date)} " if letter else ""
        return f"Avis de réception : courrier {sent}reçu par la préfecture", letter.piece if letter else None
    return event.label[0].upper() + event.label[1:] + (f" — {event.outcome}" if event.outcome else ""), None


def case_events(facts: DossierFacts) -> list[Event]:
    """Receipts of letters, phone calls, visits, referrals: known by their date only."""
    letters = {letter.id: letter for letter in facts.letters}
    found = []
    for event in facts.events:
        text, piece = _case_event_text(event, letters)
        found.append(
            Event(
                datetime.combine(event.event_date, time(0), PARIS), False, event.id, "event", text, "", piece,
                event.files[0].sha256[:SHORT_HASH] if event.files else "",
            )
        )
    return found


# Where the chronology's events come from; on one moment, events known by their date only come first,
# then in the order of this tuple.
EVENT_SOURCES: tuple[Callable[[DossierFacts], list[Event]], ...] = (letter_events, case_events, attempt_events)


def _offset_note(events: list[Event]) -> tuple[str, bool]:
    """The week's UTC offset, and whether it changes within the week (then each row shows its own)."""
    offsets = {utc_offset_text(event.moment) for event in events if event.timed}
    if len(offsets) > 1:
        return "heure de Paris ; changement d'heure dans la semaine, décalage UTC indiqué à chaque ligne", True
    return f"heure de Paris, {offsets.pop() if offsets else utc_offset_text(events[0].moment)}", False


def _when(event: Event, with_offset: bool) -> str:
    local = event.moment.astimezone(PARIS)
    if not event.timed:
        return f"{local:%d/%m/%Y}"
    return paris_short(event.moment) if with_offset else f"{local:%d/%m/%Y %H:%M}"


def weeks(facts: DossierFacts) -> list[Week]:
    """Every event in date order, grouped by ISO week (Europe/Paris)."""
    events = [
        (event.moment, event.timed, rank, event.id, event)
        for rank, source in enumerate(EVENT_SOURCES)
        for event in source(facts)
    ]
    events.sort(key=lambda item: item[:4])
    first_day = events[0][0].astimezone(PARIS).date()
    by_week: dict[tuple[int, int], list[Event]] = {}
    for *_, event in events:
        by_week.setdefault(event.moment.astimezone(PARIS).date().isocalendar()[:2], []).append(event)
    grouped = []
    for week_events in by_week.values():
        note, with_offset = _offset_note(week_events)
        first = week_events[0].moment.astimezone(PARIS).date()
        rows = [
            Row(
                event.style,
                _when(event, with_offset),
                event.text,
                event.state,
                event.piece,
                event.short_hash,
                f"J+{(event.moment.astimezone(PARIS).date() - first_day).days}",
            )
            for event in week_events
        ]
        grouped.append(Week(week_title(iso_week(first)), note, rows))
    return grouped
