"""Départements, their préfet and their tribunal administratif: data, with its source.

The competent tribunal for a référé against a préfet is the one in whose ressort the préfet has
his seat (art. R. 312-1 CJA; R. 312-8 for individual police measures gives the applicant's
residence — in the normal case the same tribunal). The ressorts are those of art. R. 221-3 CJA in
the version in force since 9 November 2015 (décret n° 2015-1444 du 6 novembre 2015, art. 1;
Légifrance LEGIARTI000031459523). Older copies found online put Seine-Saint-Denis under
Cergy-Pontoise and the Hauts-de-Seine under Paris: wrong today. Overseas tribunals are named as
art. R. 221-1 CJA names them (« tribunal administratif de la Guadeloupe » …), not by their seat.

In Paris the préfet de police is the authority for foreigners' residence (art. R. 431-3 CESEDA:
applications are filed at the préfecture de police), hence the defendant.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

SOURCE = (
    "article R. 221-3 du code de justice administrative, version en vigueur depuis le 9 novembre 2015 "
    "(décret n° 2015-1444 du 6 novembre 2015)"
)
PARIS = "75"

# Art. R. 221-3 CJA as written (seat : départements), metropolitan France, then the overseas
# départements under the name art. R. 221-1 gives their tribunal.
RESSORTS: dict[str, tuple[str, ...]] = {
    "Amiens": ("02", "60", "80"),
    "Bastia": ("2A", "2B"),
    "Besançon": ("25", "39", "70", "90"),
    "Bordeaux": ("24", "33", "47"),
    "Caen": ("14", "50", "61"),
    "Cergy-Pontoise": ("92", "95"),
    "Châlons-en-Champagne": ("08", "10", "51", "52"),
    "Clermont-Ferrand": ("03", "15", "43", "63"),
    "Dijon": ("21", "58", "71", "89"),
    "Grenoble": ("26", "38", "73", "74"),
    "Lille": ("59", "62"),
    "Limoges": ("19", "23", "36", "87"),
    "Lyon": ("01", "07", "42", "69"),
    "Marseille": ("04", "05", "13"),
    "Melun": ("77", "94"),
    "Montpellier": ("11", "34", "66"),
    "Montreuil": ("93",),
    "Nancy": ("54", "55", "88"),
    "Nantes": ("44", "49", "53", "72", "85"),
    "Nice": ("06",),
    "Nîmes": ("30", "48", "84"),
    "Orléans": ("18", "28", "37", "41", "45"),
    "Paris": ("75",),
    "Pau": ("32", "40", "64", "65"),
    "Poitiers": ("16", "17", "79", "86"),
    "Rennes": ("22", "29", "35", "56"),
    "Rouen": ("27", "76"),
    "Strasbourg": ("57", "67", "68"),
    "Toulon": ("83",),
    "Toulouse": ("09", "12", "31", "46", "81", "82"),
    "Versailles": ("78", "91"),
    "la Guadeloupe": ("971",),
    "la Martinique": ("972",),
    "la Guyane": ("973",),
    "La Réunion": ("974",),
    "Mayotte": ("976",),
}

# code → (name, the name as « le préfet … » and « Préfecture … » write it).
DEPARTEMENTS: dict[str, tuple[str, str]] = {
    "01": ("Ain", "de l'Ain"),
    "02": ("Aisne", "de l'Aisne"),
    "03": ("Allier", "de l'Allier"),
    "04": ("Alpes-de-Haute-Provence", "des Alpes-de-Haute-Provence"),
    "05": ("Hautes-Alpes", "des Hautes-Alpes"),
    "06": ("Alpes-Maritimes", "des Alpes-Maritimes"),
    "07": ("Ardèche", "de l'Ardèche"),
    "08": ("Ardennes", "des Ardennes"),
    "09": ("Ariège", "de l'Ariège"),
    "10": ("Aube", "de l'Aube"),
    "11": ("Aude", "de l'Aude"),
    "12": ("Aveyron", "de l'Aveyron"),
    "13": ("Bouches-du-Rhône", "des Bouches-du-Rhône"),
    "14": ("Calvados", "du Calvados"),
    "15": ("Cantal", "du Cantal"),
    "16": ("Charente", "de la Charente"),
    "17": ("Charente-Maritime", "de la Charente-Maritime"),
    "18": ("Cher", "du Cher"),
    "19": ("Corrèze", "de la Corrèze"),
    "2A": ("Corse-du-Sud", "de la Corse-du-Sud"),
    "2B": ("Haute-Corse", "de la Haute-Corse"),
    "21": ("Côte-d'Or", "de la Côte-d'Or"),
    "22": ("Côtes-d'Armor", "des Côtes-d'Armor"),
    "23": ("Creuse", "de la Creuse"),
    "24": ("Dordogne", "de la Dordogne"),
    "25": ("Doubs", "du Doubs"),
    "26": ("Drôme", "de la Drôme"),
    "27": ("Eure", "de l'Eure"),
    "28": ("Eure-et-Loir", "d'Eure-et-Loir"),
    "29": ("Finistère", "du Finistère"),
    "30": ("Gard", "du Gard"),
    "31": ("Haute-Garonne", "de la Haute-Garonne"),
    "32": ("Gers", "du Gers"),
    "33": ("Gironde", "de la Gironde"),
    "34": ("Hérault", "de l'Hérault"),
    "35": ("Ille-et-Vilaine", "d'Ille-et-Vilaine"),
    "36": ("Indre", "de l'Indre"),
    "37": ("Indre-et-Loire", "d'Indre-et-Loire"),
    "38": ("Isère", "de l'Isère"),
    "39": ("Jura", "du Jura"),
    "40": ("Landes", "des Landes"),
    "41": ("Loir-et-Cher", "de Loir-et-Cher"),
    "42": ("Loire", "de la Loire"),
    "43": ("Haute-Loire", "de la Haute-Loire"),
    "44": ("Loire-Atlantique", "de la Loire-Atlantique"),
    "45": ("Loiret", "du Loiret"),
    "46": ("Lot", "du Lot"),
    "47": ("Lot-et-Garonne", "de Lot-et-Garonne"),
    "48": ("Lozère", "de la Lozère"),
    "49": ("Maine-et-Loire", "de Maine-et-Loire"),
    "50": ("Manche", "de la Manche"),
    "51": ("Marne", "de la Marne"),
    "52": ("Haute-Marne", "de la Haute-Marne"),
    "53": ("Mayenne", "de la Mayenne"),
    "54": ("Meurthe-et-Moselle", "de Meurthe-et-Moselle"),
    "55": ("Meuse", "de la Meuse"),
    "56": ("Morbihan", "du Morbihan"),
    "57": ("Moselle", "de la Moselle"),
    "58": ("Nièvre", "de la Nièvre"),
    "59": ("Nord", "du Nord"),
    "60": ("Oise", "de l'Oise"),
    "61": ("Orne", "de l'Orne"),
    "62": ("Pas-de-Calais", "du Pas-de-Calais"),
    "63": ("Puy-de-Dôme", "du Puy-de-Dôme"),
    "64": ("Pyrénées-Atlantiques", "des Pyrénées-Atlantiques"),
    "65": ("Hautes-Pyrénées", "des Hautes-Pyrénées"),
    "66": ("Pyrénées-Orientales", "des Pyrénées-Orientales"),
    "67": ("Bas-Rhin", "du Bas-Rhin"),
    "68": ("Haut-Rhin", "du Haut-Rhin"),
    "69": ("Rhône", "du Rhône"),
    "70": ("Haute-Saône", "de la Haute-Saône"),
    "71": ("Saône-et-Loire", "de Saône-et-Loire"),
    "72": ("Sarthe", "de la Sarthe"),
    "73": ("Savoie", "de la Savoie"),
    "74": ("Haute-Savoie", "de la Haute-Savoie"),
    "75": ("Paris", "de Paris"),
    "76": ("Seine-Maritime", "de la Seine-Maritime"),
    "77": ("Seine-et-Marne", "de Seine-et-Marne"),
    "78": ("Yvelines", "des Yvelines"),
    "79": ("Deux-Sèvres", "des Deux-Sèvres"),
    "80": ("Somme", "de la Somme"),
    "81": ("Tarn", "du Tarn"),
    "82": ("Tarn-et-Garonne", "de Tarn-et-Garonne"),
    "83": ("Var", "du Var"),
    "84": ("Vaucluse", "de Vaucluse"),
    "85": ("Vendée", "de la Vendée"),
    "86": ("Vienne", "de la Vienne"),
    "87": ("Haute-Vienne", "de la Haute-Vienne"),
    "88": ("Vosges", "des Vosges"),
    "89": ("Yonne", "de l'Yonne"),
    "90": ("Territoire de Belfort", "du Territoire de Belfort"),
    "91": ("Essonne", "de l'Essonne"),
    "92": ("Hauts-de-Seine", "des Hauts-de-Seine"),
    "93": ("Seine-Saint-Denis", "de la Seine-Saint-Denis"),
    "94": ("Val-de-Marne", "du Val-de-Marne"),
    "95": ("Val-d'Oise", "du Val-d'Oise"),
    "971": ("Guadeloupe", "de la Guadeloupe"),
    "972": ("Martinique", "de la Martinique"),
    "973": ("Guyane", "de la Guyane"),
    "974": ("La Réunion", "de La Réunion"),
    "976": ("Mayotte", "de Mayotte"),
}


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    of: str  # « du Val-d'Oise »
    tribunal_seat: str

    @property
    def prefect(self) -> str:
        """« le préfet du Val-d'Oise »; in Paris « le préfet de police »."""
        return "le préfet de police" if self.code == PARIS else f"le préfet {self.of}"

    @property
    def prefecture(self) -> str:
        """« Préfecture du Val-d'Oise »; in Paris « Préfecture de police »."""
        return "Préfecture de police" if self.code == PARIS else f"Préfecture {self.of}"

    @property
    def tribunal(self) -> str:
        """« tribunal administratif de Cergy-Pontoise », « d'Amiens », « de la Guadeloupe »."""
        return f"tribunal administratif {of_place(self.tribunal_seat)}"


def of_place(name: str) -> str:
    """« de Paris », « d'Orléans », « de la Guadeloupe » (a name given with its article keeps it)."""
    if name.startswith(("la ", "le ", "les ")):
        return f"de {name}"
    return f"d'{name}" if _plain(name[:1]) in "aeiouy" else f"de {name}"


def _plain(text: str) -> str:
    """Lower case, no accents, words of letters and digits separated by single spaces."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.findall(r"[a-z0-9]+", ascii_text))


def _slug(name: str) -> str:
    """How a prefecture's host writes a name: Val-d'Oise → « val doise » (val-doise.gouv.fr)."""
    return re.sub(r"\b([dl]) ", r"\1", _plain(name))


def _build() -> dict[str, Departement]:
    seats = {code: seat for seat, codes in RESSORTS.items() for code in codes}
    return {code: Departement(code, name, of, seats[code]) for code, (name, of) in DEPARTEMENTS.items()}


BY_CODE = _build()
_BY_NAME = {_plain(d.name): d for d in BY_CODE.values()} | {"reunion": BY_CODE["974"]}
_BY_SLUG = {_slug(d.name): d for d in BY_CODE.values()} | {"reunion": BY_CODE["974"]}
# The préfecture de police's own hosts (its booking module is pprdv.interieur.gouv.fr, REFERENCE §4).
_PARIS_HOSTS = ("pprdv.interieur.gouv.fr", "www.prefecturedepolice.interieur.gouv.fr")
_GOUV_HOST = re.compile(r"^(?:www\.)?([a-z0-9-]+)\.gouv\.fr$")
_LEADING_ARTICLE = re.compile(r"^(?:de la|de l|du|des|de|d) ")


def find(code_or_name: str | None) -> Departement | None:
    """A département by its code (« 95 », « 2A ») or its name, however accented or cased."""
    if not code_or_name or not code_or_name.strip():
        return None
    code = code_or_name.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = f"0{code}"
    return BY_CODE.get(code) or _BY_NAME.get(_plain(code_or_name))


def from_prefecture(label: str | None) -> Departement | None:
    """The département a prefecture's label names: « Val-d'Oise », « Préfecture du Val-d'Oise
    (simulée) », « Préfecture de police » (Paris). None when it names none, or a sous-préfecture."""
    if not label:
        return None
    plain = _plain(re.sub(r"\([^)]*\)", " ", label))
    if plain.startswith("sous prefecture"):
        return None
    if plain.startswith("prefecture de police"):
        return BY_CODE[PARIS]
    return find(_LEADING_ARTICLE.sub("", plain.removeprefix("prefecture ")))


def from_url(url: str | None) -> Departement | None:
    """The département of a prefecture's own site: https://www.val-doise.gouv.fr/… → Val-d'Oise."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    if host in _PARIS_HOSTS:
        return BY_CODE[PARIS]
    match = _GOUV_HOST.match(host)
    return _BY_SLUG.get(match.group(1).replace("-", " ")) if match else None


def resolve(code: str | None, prefecture: str | None, url: str | None) -> Departement | None:
    """The case's département: the one the user gave, else the prefecture's label, else its site."""
    return find(code) or from_prefecture(prefecture) or from_url(url)
