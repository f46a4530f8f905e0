"""The competent tribunal and the préfet's name, from art. R. 221-3 CJA as in force since 9 Nov 2015."""

from __future__ import annotations

import pytest

from dossier_builder import tribunals
from dossier_builder.tribunals import BY_CODE, RESSORTS, from_prefecture, from_url, resolve

# The cases the issue lists (REFERENCE §1), as a lawyer writes them.
CASES = [
    ("Paris", "tribunal administratif de Paris", "le préfet de police"),
    ("Seine-Saint-Denis", "tribunal administratif de Montreuil", "le préfet de la Seine-Saint-Denis"),
    ("Hauts-de-Seine", "tribunal administratif de Cergy-Pontoise", "le préfet des Hauts-de-Seine"),
    ("Val-d'Oise", "tribunal administratif de Cergy-Pontoise", "le préfet du Val-d'Oise"),
    ("Val-de-Marne", "tribunal administratif de Melun", "le préfet du Val-de-Marne"),
    ("Seine-et-Marne", "tribunal administratif de Melun", "le préfet de Seine-et-Marne"),
    ("Essonne", "tribunal administratif de Versailles", "le préfet de l'Essonne"),
    ("Yvelines", "tribunal administratif de Versailles", "le préfet des Yvelines"),
    ("Rhône", "tribunal administratif de Lyon", "le préfet du Rhône"),
    ("Nord", "tribunal administratif de Lille", "le préfet du Nord"),
    ("Bouches-du-Rhône", "tribunal administratif de Marseille", "le préfet des Bouches-du-Rhône"),
    ("Haute-Garonne", "tribunal administratif de Toulouse", "le préfet de la Haute-Garonne"),
    # Beyond the list: elision, and the overseas tribunals named as art. R. 221-1 names them.
    ("Somme", "tribunal administratif d'Amiens", "le préfet de la Somme"),
    ("Loiret", "tribunal administratif d'Orléans", "le préfet du Loiret"),
    ("Vaucluse", "tribunal administratif de Nîmes", "le préfet de Vaucluse"),
    ("Ardèche", "tribunal administratif de Lyon", "le préfet de l'Ardèche"),
    ("Guadeloupe", "tribunal administratif de la Guadeloupe", "le préfet de la Guadeloupe"),
    ("La Réunion", "tribunal administratif de La Réunion", "le préfet de La Réunion"),
    ("Mayotte", "tribunal administratif de Mayotte", "le préfet de Mayotte"),
]


@pytest.mark.parametrize(("name", "tribunal", "prefect"), CASES)
def test_tribunal_and_prefect(name, tribunal, prefect):
    departement = tribunals.find(name)
    assert (departement.tribunal, departement.prefect) == (tribunal, prefect)


def test_every_departement_has_exactly_one_tribunal():
    listed = [code for codes in RESSORTS.values() for code in codes]
    assert sorted(listed) == sorted(BY_CODE)
    assert len(listed) == len(set(listed)) == 96 + 5  # metropolitan France and the five overseas départements
    # The two errors of older copies of the article (REFERENCE §1).
    assert "93" not in RESSORTS["Cergy-Pontoise"] and "92" not in RESSORTS["Paris"]


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Val-d'Oise", "95"),
        ("Préfecture du Val-d'Oise (simulée)", "95"),
        ("préfecture de la seine-saint-denis", "93"),
        ("Préfecture de l'Essonne", "91"),
        ("Préfecture d'Ille-et-Vilaine", "35"),
        ("Préfecture de police", "75"),
        ("93", "93"),
        ("2a", "2A"),
        ("Preefecture", None),
        ("Sous-préfecture de Palaiseau", None),  # a town, not a département: never guessed
        ("Bobigny", None),
        ("", None),
    ],
)
def test_departement_from_the_prefecture_label(label, code):
    found = from_prefecture(label)
    assert (found.code if found else None) == code


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://www.val-doise.gouv.fr/booking/create/11343", "95"),
        ("https://www.seine-saint-denis.gouv.fr/booking/create/1", "93"),
        ("https://www.cotes-darmor.gouv.fr/booking/create/1", "22"),
        ("https://pprdv.interieur.gouv.fr/booking/create/1", "75"),
        ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/2200/", None),
        ("http://127.0.0.1:8000/booking/create/4963", None),
    ],
)
def test_departement_from_the_booking_site(url, code):
    found = from_url(url)
    assert (found.code if found else None) == code


def test_the_users_code_wins_over_label_and_site():
    assert resolve("92", "Val-d'Oise", "https://www.essonne.gouv.fr/x").code == "92"
    assert resolve(None, "Sous-préfecture de Palaiseau", "https://www.essonne.gouv.fr/x").code == "91"
    assert resolve(None, None, None) is None
