"""The sentences a judge reads first: what the attempts gave, how they were spread, what the letters got.

Every figure comes from `stats.Statistics` (the same figures as the tables), every count agrees in French with
its noun and verb for none, one and many (tests/test_sentences.py).
"""

from __future__ import annotations

from datetime import date

from dossier_builder.french import WEEKDAYS, Noun, agree, hour_span, long_date, number, weekday_span
from dossier_builder.outcomes import OFFLINE
from dossier_builder.stats import Statistics
from evidence.localtime import PARIS
from evidence.server_time import LargestGap, direction_text, gap_text

# What a failed attempt met, as a verb phrase: (one attempt, several attempts).
OUTCOMES = {
    "noslot": ("a montré qu'aucun créneau n'était libre", "ont montré qu'aucun créneau n'était libre"),
    "captcha": ("s'est arrêtée au captcha", "se sont arrêtées au captcha"),
    "error": ("s'est heurtée à une erreur du site", "se sont heurtées à une erreur du site"),
    OFFLINE: (
        "n'a pas pu joindre le site (échec de la connexion)", "n'ont pas pu joindre le site (échec de la connexion)"
    ),
    "unknown": ("a abouti à une page non reconnue", "ont abouti à une page non reconnue"),
}
SLOTS = "slots"
FOUND_SLOTS = ("a trouvé des créneaux proposés", "ont trouvé des créneaux proposés")
SENT = Noun("courrier envoyé", "courriers envoyés")
RECEIVED = Noun("réponse reçue", "réponses reçues", feminine=True)
UNANSWERED = Noun("courrier resté sans réponse", "courriers restés sans réponse")
DIFFERENT_DAYS = Noun("jour différent", "jours différents")


def _verb(count: int, phrases: tuple[str, str]) -> str:
    return agree(count, *phrases)


def _breakdown(failures: list[tuple[str, int]], total: int) -> str:
    """'27 ont montré …, 5 se sont heurtées …'; 'toutes ont montré …' when one outcome covers them all."""
    if len(failures) == 1:
        state, count = failures[0]
        who = "elle" if count == 1 else ("toutes" if count == total else f"les {number(count)}")
        return f"{who} {_verb(count, OUTCOMES[state])}"
    return ", ".join(f"{number(count)} {_verb(count, OUTCOMES[state])}" for state, count in failures)


def conclusion(stats: Statistics, period: str) -> str:
    """'Aucune des 32 tentatives faites du 2 au 27 novembre 2026 n'a permis d'obtenir un créneau : 27 ont
    montré qu'aucun créneau n'était libre, 5 se sont heurtées à une erreur du site.'"""
    counts = dict(stats.by_state)
    total, slots = stats.attempts, counts.get(SLOTS, 0)
    failures = [(state, count) for state, count in stats.by_state if state != SLOTS and count]
    unknown_states = [state for state, _ in failures if state not in OUTCOMES]
    if unknown_states:
        raise ValueError(f"no wording for states {unknown_states}")
    made = "faite" if total == 1 else "faites"
    if slots == 0:
        if total == 1:
            return f"La tentative {made} {period} n'a pas permis d'obtenir un créneau : {_breakdown(failures, 1)}."
        return (
            f"Aucune des {number(total)} tentatives {made} {period} n'a permis d'obtenir un créneau : "
            f"{_breakdown(failures, total)}."
        )
    if slots == total:
        if total == 1:
            return f"La tentative {made} {period} {FOUND_SLOTS[0]}."
        return f"Les {number(total)} tentatives {made} {period} ont toutes trouvé des créneaux proposés."
    failed = total - slots
    others = "l'autre n'a" if failed == 1 else f"les {number(failed)} autres n'ont"
    return (
        f"Sur les {number(total)} tentatives {made} {period}, {number(slots)} {_verb(slots, FOUND_SLOTS)} ; "
        f"{others} permis d'obtenir aucun créneau ({_breakdown(failures, failed)})."
    )


def spread(stats: Statistics) -> str:
    """'Elles ont été faites sur 20 jours différents, réparties sur 4 semaines, du lundi au vendredi, de 8 h 21
    à 20 h 55 (heure de Paris).'"""
    first = stats.first.astimezone(PARIS)
    hours = hour_span(stats.earliest, stats.latest)
    if stats.attempts == 1:
        return f"Elle a été faite le {_weekday_date(first.date())} {hours} (heure de Paris)."
    if stats.distinct_days == 1:
        return f"Elles ont été faites le même jour, le {_weekday_date(first.date())}, {hours} (heure de Paris)."
    weeks = "dans la même semaine" if stats.distinct_weeks == 1 else f"réparties sur {number(stats.distinct_weeks)} semaines"
    return (
        f"Elles ont été faites sur {DIFFERENT_DAYS.count(stats.distinct_days)}, {weeks}, "
        f"{weekday_span(stats.weekdays)}, {hours} (heure de Paris)."
    )


def _weekday_date(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {long_date(day)}"


def letters(sent: int, received: int, unanswered: int) -> str:
    """'2 courriers envoyés à la préfecture ; aucune réponse reçue.'"""
    if sent == 0 and received == 0:
        return "Aucun courrier n'est enregistré pour ce dossier sur la période."
    text = f"{SENT.count(sent)} à la préfecture ; {RECEIVED.count(received)}"
    if received and unanswered:
        text += f" ; {UNANSWERED.count(unanswered)}"
    return text[0].upper() + text[1:] + "."


def clock_gap(gap: LargestGap | None, attempts: int) -> str:
    """'Relevée à chaque tentative, l'heure du serveur s'écarte au plus de 2 s de celle de l'ordinateur
    (tentative n° 4, le serveur en avance sur l'ordinateur). …'"""
    if gap is None:
        if attempts == 1:
            return "Le serveur n'a pas donné son heure lors de cette tentative."
        return "Le serveur n'a donné son heure lors d'aucune de ces tentatives."
    if gap.compared == attempts:
        seen = "Relevée lors de la tentative" if attempts == 1 else "Relevée à chaque tentative"
    else:
        seen = f"Relevée lors de {number(gap.compared)} des {number(attempts)} tentatives"
    if abs(gap.skew_ms) < 1000:
        return (
            f"{seen}, l'heure du serveur ne s'écarte pas de plus d'une seconde de celle de l'ordinateur : "
            "les dates et heures imprimées dans les captures sont donc celles du serveur de la préfecture."
        )
    how = "s'écarte de" if gap.compared == 1 else "s'écarte au plus de"
    text = (
        f"{seen}, l'heure du serveur {how} {gap_text(gap.skew_ms)} de celle de l'ordinateur "
        f"(tentative n° {gap.attempt_no}, {direction_text(gap.skew_ms)})"
    )
    if gap.too_large:
        return text + "."
    return (
        f"{text}. Les dates et heures imprimées dans les captures concordent donc à {gap_text(gap.skew_ms)} près "
        "avec celles du serveur de la préfecture."
    )
