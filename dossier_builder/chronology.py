"""Attempts, letters and answers in one time line, with what is still unanswered and for how long.

Also (helper D, issue 14): the day the prefecture received each letter, and the other events —
phone calls, visits to the counter, referrals to the Défenseur des droits. Silence counts from
the receipt when it is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from dossier_builder.facts import AttemptFacts, DossierFacts, EventFacts, LetterFacts
from dossier_builder.french import channel_label, long_date, paris_short, state_label
from dossier_builder.pieces import iso_week, week_title
from evidence.letters import silence_since
from evidence.localtime import PARIS

SHORT_HASH = 12


@dataclass(frozen=True)
class Row:
    style: str  # "attempt" | "letter" | "unanswered" | "event"
    when: str
    event: str
    state: str
    piece: int | None
    short_hash: str
    elapsed: str  # days since the first event, « J+12 »


@dataclass(frozen=True)
class Week:
    title: str  # « Semaine du 2 au 8 novembre 2026 »
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


def _letter_event(letter: LetterFacts, answers: dict[int, LetterFacts], pending: dict[int, int]) -> str:
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
        return f"{text}. Réponse le {long_date(answer.letter_date)}, {delay} jours plus tard"
    if letter.received_on is not None:
        return f"{text}. Sans réponse {pending[letter.id]} jours après sa réception"
    return f"{text}. Sans réponse depuis {pending[letter.id]} jours"


def _attempt_event(attempt: AttemptFacts) -> str:
    kind = "Tentative assistée" if attempt.assisted else "Tentative"
    return f"{kind} n° {attempt.attempt_no}"


def weeks(facts: DossierFacts) -> list[Week]:
    """Every event in date order, grouped by ISO week (Europe/Paris)."""
    answers = _answers(facts.letters)
    pending = {item.letter.id: item.days for item in pending_letters(facts)}
    events: list[tuple[datetime, int, AttemptFacts | LetterFacts | EventFacts]] = [
        (_letter_moment(letter), 0, letter) for letter in facts.letters
    ] + [(attempt.started_at, 2, attempt) for attempt in facts.attempts]
    events += [(datetime.combine(event.event_date, time(0), PARIS), 1, event) for event in facts.events]
    events.sort(key=lambda item: (item[0], item[1], item[2].id))
    first_day = events[0][0].astimezone(PARIS).date()
    grouped: list[Week] = []
    current = None
    for moment, _, item in events:
        day = moment.astimezone(PARIS).date()
        if day.isocalendar()[:2] != current:
            current = day.isocalendar()[:2]
            grouped.append(Week(week_title(iso_week(day)), []))
        table = grouped[-1].rows
        elapsed = f"J+{(day - first_day).days}"
        if isinstance(item, EventFacts):
            table.append(_event_row(item, facts.letters, elapsed))
        elif isinstance(item, LetterFacts):
            style = "unanswered" if item.id in pending else "letter"
            digest = item.files[0].sha256[:SHORT_HASH] if item.files else ""
            table.append(
                Row(
                    style,
                    f"{day:%d/%m/%Y}",
                    _letter_event(item, answers, pending),
                    "",
                    item.piece,
                    digest,
                    elapsed,
                )
            )
        else:
            original = item.original or item.shown
            table.append(
                Row(
                    "attempt",
                    paris_short(item.started_at),
                    _attempt_event(item),
                    state_label(item.state),
                    item.piece,
                    original.sha256[:SHORT_HASH] if original else "",
                    elapsed,
                )
            )
    return grouped


# --- helper D (issue 14): receipts and events as rows ------------------------------------------


def _event_row(event: EventFacts, letters: tuple[LetterFacts, ...], elapsed: str) -> Row:
    """A receipt names the letter received; another event says what came of it."""
    if event.letter_id is not None:
        letter = next((item for item in letters if item.id == event.letter_id), None)
        sent = f"du {long_date(letter.letter_date)} " if letter else ""
        text = f"Avis de réception : courrier {sent}reçu par la préfecture"
        piece = letter.piece if letter else None
    else:
        text = event.label[0].upper() + event.label[1:] + (f" — {event.outcome}" if event.outcome else "")
        piece = None
    digest = event.files[0].sha256[:SHORT_HASH] if event.files else ""
    return Row("event", f"{event.event_date:%d/%m/%Y}", text, "", piece, digest, elapsed)
