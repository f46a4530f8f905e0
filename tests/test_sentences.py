"""The words a judge reads at a glance: French plurals and agreement for none, one and many, the conclusion
sentence equal to the counts, weekdays and hours as prose, the urgency and the clock gap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from dossier_builder import sentences, stats
from dossier_builder.french import Noun, agree, hour_span, weekday_span
from dossier_builder.urgency import document_of, urgency
from evidence.server_time import LargestGap, gap_text

MONDAY = datetime(2026, 11, 2, 7, 21, tzinfo=UTC)  # 8 h 21 in Paris


def figures(states: list[str], offsets: list[tuple[int, int]] | None = None) -> stats.Statistics:
    """Statistics of attempts in `states`, at (days, hours) after Monday 2 November 2026 8 h 21 (Paris)."""
    offsets = offsets or [(n, (5 * n) % 13) for n in range(len(states))]
    return stats.compute([MONDAY + timedelta(days=d, hours=h) for d, h in offsets], states)


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        (Noun("tentative", "tentatives", feminine=True), ["aucune tentative", "1 tentative", "2 tentatives", "1\u202f000 tentatives"]),
        (Noun("courrier envoyé", "courriers envoyés"), ["aucun courrier envoyé", "1 courrier envoyé", "2 courriers envoyés", "1\u202f000 courriers envoyés"]),
        (Noun("réponse reçue", "réponses reçues", feminine=True), ["aucune réponse reçue", "1 réponse reçue", "2 réponses reçues", "1\u202f000 réponses reçues"]),
    ],
)
def test_counted_nouns_for_none_one_and_many(noun, expected):
    assert [noun.count(n) for n in (0, 1, 2, 1000)] == expected


def test_verbs_agree_with_the_count():
    assert [agree(n, "a", "ont") for n in (0, 1, 2)] == ["a", "a", "ont"]


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ({0, 1, 2, 3, 4}, "du lundi au vendredi"),
        ({0}, "le lundi"),
        ({0, 3}, "le lundi et le jeudi"),
        ({0, 1}, "le lundi et le mardi"),
        ({0, 1, 2, 5}, "du lundi au mercredi et le samedi"),
        ({0, 2, 4, 6}, "le lundi, le mercredi, le vendredi et le dimanche"),
        (set(range(7)), "tous les jours de la semaine"),
    ],
)
def test_weekdays_as_prose(days, expected):
    assert weekday_span(days) == expected


def test_hours_as_prose():
    assert hour_span(time(8, 21, 26), time(20, 55, 3)) == "de 8 h 21 à 20 h 55"
    assert hour_span(time(9, 0), time(17, 5)) == "de 9 h à 17 h 05"
    assert hour_span(time(9, 30, 1), time(9, 30, 59)) == "à 9 h 30"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["noslot"], "La tentative faite le 2 novembre 2026 n'a pas permis d'obtenir un créneau : elle a montré qu'aucun créneau n'était libre."),
        (["noslot", "noslot"], "Aucune des 2 tentatives faites du 2 au 3 novembre 2026 n'a permis d'obtenir un créneau : toutes ont montré qu'aucun créneau n'était libre."),
        (["noslot", "error", "noslot", "captcha", "error"], "Aucune des 5 tentatives faites du 2 au 6 novembre 2026 n'a permis d'obtenir un créneau : 2 ont montré qu'aucun créneau n'était libre, 1 s'est arrêtée au captcha, 2 se sont heurtées à une erreur du site."),
        (["slots"], "La tentative faite le 2 novembre 2026 a trouvé des créneaux proposés."),
        (["slots", "slots"], "Les 2 tentatives faites du 2 au 3 novembre 2026 ont toutes trouvé des créneaux proposés."),
        (["slots", "noslot"], "Sur les 2 tentatives faites du 2 au 3 novembre 2026, 1 a trouvé des créneaux proposés ; l'autre n'a permis d'obtenir aucun créneau (elle a montré qu'aucun créneau n'était libre)."),
        (["slots", "slots", "noslot", "unknown", "noslot"], "Sur les 5 tentatives faites du 2 au 6 novembre 2026, 2 ont trouvé des créneaux proposés ; les 3 autres n'ont permis d'obtenir aucun créneau (2 ont montré qu'aucun créneau n'était libre, 1 a abouti à une page non reconnue)."),
    ],
)
def test_conclusion_equals_the_counts(states, expected):
    figures_ = figures(states)
    first, last = figures_.first.date(), figures_.last.date()
    period = "le 2 novembre 2026" if first == last else f"du 2 au {last.day} novembre 2026"
    assert sentences.conclusion(figures_, period) == expected


def test_spread_for_one_attempt_one_day_and_many_weeks():
    assert sentences.spread(figures(["noslot"])) == "Elle a été faite le lundi 2 novembre 2026 à 8 h 21 (heure de Paris)."
    same_day = figures(["noslot", "noslot"], [(0, 0), (0, 3)])
    assert sentences.spread(same_day) == (
        "Elles ont été faites le même jour, le lundi 2 novembre 2026, de 8 h 21 à 11 h 21 (heure de Paris)."
    )
    one_week = figures(["noslot"] * 3, [(0, 0), (1, 1), (2, 12)])
    assert sentences.spread(one_week) == (
        "Elles ont été faites sur 3 jours différents, dans la même semaine, du lundi au mercredi, "
        "de 8 h 21 à 20 h 21 (heure de Paris)."
    )
    weeks = figures(["noslot"] * 4, [(0, 0), (3, 2), (7, 0), (14, 1)])
    assert sentences.spread(weeks) == (
        "Elles ont été faites sur 4 jours différents, réparties sur 3 semaines, le lundi et le jeudi, "
        "de 8 h 21 à 10 h 21 (heure de Paris)."
    )


@pytest.mark.parametrize(
    ("sent", "received", "unanswered", "expected"),
    [
        (0, 0, 0, "Aucun courrier n'est enregistré pour ce dossier sur la période."),
        (1, 0, 1, "1 courrier envoyé à la préfecture ; aucune réponse reçue."),
        (2, 0, 2, "2 courriers envoyés à la préfecture ; aucune réponse reçue."),
        (3, 1, 2, "3 courriers envoyés à la préfecture ; 1 réponse reçue ; 2 courriers restés sans réponse."),
        (2, 2, 0, "2 courriers envoyés à la préfecture ; 2 réponses reçues."),
        (0, 1, 0, "Aucun courrier envoyé à la préfecture ; 1 réponse reçue."),
    ],
)
def test_letters_sentence(sent, received, unanswered, expected):
    assert sentences.letters(sent, received, unanswered) == expected


@pytest.mark.parametrize(
    ("milliseconds", "expected"),
    [(0, "moins d'une seconde"), (-999, "moins d'une seconde"), (1400, "1 s"), (-59_000, "59 s"),
     (60_000, "1 min"), (125_000, "2 min 5 s"), (3_840_000, "1 h 4 min"), (3 * 86_400_000, "3 jours")],
)
def test_clock_gaps_in_words(milliseconds, expected):
    assert gap_text(milliseconds) == expected


def test_clock_gap_sentence():
    assert sentences.clock_gap(None, 1) == "Le serveur n'a pas donné son heure lors de cette tentative."
    assert sentences.clock_gap(None, 3) == "Le serveur n'a donné son heure lors d'aucune de ces tentatives."
    assert sentences.clock_gap(LargestGap(2, 400, 3), 3) == (
        "Relevée à chaque tentative, l'heure du serveur ne s'écarte pas de plus d'une seconde de celle de "
        "l'ordinateur : les dates et heures imprimées dans les captures sont donc celles du serveur de la préfecture."
    )
    assert sentences.clock_gap(LargestGap(4, -2300, 2), 3) == (
        "Relevée lors de 2 des 3 tentatives, l'heure du serveur s'écarte au plus de 2 s de celle de l'ordinateur "
        "(tentative n° 4, le serveur en retard sur l'ordinateur). Les dates et heures imprimées dans les captures "
        "concordent donc à 2 s près avec celles du serveur de la préfecture."
    )
    assert sentences.clock_gap(LargestGap(1, 192_000, 1), 1) == (
        "Relevée lors de la tentative, l'heure du serveur s'écarte de 3 min 12 s de celle de l'ordinateur "
        "(tentative n° 1, le serveur en avance sur l'ordinateur)."
    )


def test_urgency_days_left_and_renewal_window():
    found = urgency(date(2027, 1, 20), "Renouvellement de titre de séjour", date(2026, 12, 4), date(2026, 11, 2))
    assert found.days_left == 47 and found.left_text == "dans 47 jours"
    assert found.summary == "Le titre de séjour du demandeur expire le 20 janvier 2027, dans 47 jours."
    assert (found.window.opens, found.window.closes) == (date(2026, 9, 22), date(2026, 11, 21))
    assert found.placement == "La première tentative, le 2 novembre 2026, se situe dans cette période."
    early = urgency(date(2027, 6, 1), "renouvellement", date(2026, 12, 4), date(2026, 11, 2))
    assert early.placement == "La première tentative, le 2 novembre 2026, précède de 91 jours l'ouverture de cette période."
    late = urgency(date(2026, 12, 1), "RENOUVELLEMENT", date(2026, 12, 4), date(2026, 11, 2))
    assert late.placement == (
        "La première tentative, le 2 novembre 2026, se situe après la fin de cette période, 29 jours avant "
        "l'expiration du titre."
    )
    assert late.left_text == "expiré depuis 3 jours"
    assert late.summary == "Le titre de séjour du demandeur a expiré le 1er décembre 2026, il y a 3 jours."
    today = urgency(date(2026, 12, 4), None, date(2026, 12, 4), date(2026, 11, 2))
    assert (today.left_text, today.window, today.placement) == ("aujourd'hui", None, None)
    assert urgency(date(2027, 1, 2), "Renouvellement de récépissé", date(2026, 12, 4), date(2026, 11, 2)).window is None
    assert urgency(None, "Renouvellement", date(2026, 12, 4), date(2026, 11, 2)) is None
    tomorrow = urgency(date(2026, 12, 5), "Première demande", date(2026, 12, 4), date(2026, 11, 2))
    assert tomorrow.left_text == "dans 1 jour"


def test_a_recepisse_expires_without_a_renewal_window():
    assert document_of({"recepisse", "domicile"}) == "récépissé"
    assert document_of({"recepisse", "titre-de-sejour"}) == document_of(set()) == "titre de séjour"
    found = urgency(date(2027, 1, 20), "Renouvellement de titre de séjour", date(2026, 12, 4), date(2026, 11, 2),
                    "récépissé")
    assert found.summary == "Le récépissé du demandeur expire le 20 janvier 2027, dans 47 jours."
    assert found.window is None and found.placement is None
