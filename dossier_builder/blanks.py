"""The blanks of a draft: what only a person can supply stays visible in the text, and is listed.

A template asks for a blank by its key (`blank("service_address")`); the text then shows
« [à compléter : adresse postale du service des étrangers] » and the blank is noted, so the list
printed after the draft is exactly what the text still holds — never more, never less. Each blank
says how to fill it: an option of `preuves applicant set` when the tool can then fill it itself,
else that it is to be written by the applicant or counsel. A note for the reader to act on (slots
seen, attempts all in one week) is a blank too: nothing may be sent while it is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from evidence.letter_text import blank as blank_text

WRITE = "à rédiger par le demandeur ou son avocat avant l'envoi ou le dépôt"


@dataclass(frozen=True)
class Blank:
    key: str
    what: str  # « adresse postale du service des étrangers »
    how: str  # « preuves applicant set 3 --service-address "…" », or WRITE

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "what": self.what, "how": self.how}


SET = "preuves applicant set {case} "
# key → (what the blank asks for — « {detail} » filled by the template —, how to fill it).
BLANKS: dict[str, tuple[str, str]] = {
    "civility": ("civilité du demandeur", SET + '--civility "M." ou --civility Mme'),
    "birth_date": ("date de naissance", SET + "--birth-date AAAA-MM-JJ"),
    "birth_place": ("lieu de naissance", SET + '--birth-place "…"'),
    "nationality": ("nationalité", SET + '--nationality "…"'),
    "postal_address": ("adresse postale du demandeur", SET + '--address "rue;code postal ville"'),
    "place": ("ville où le document est signé", SET + '--address "…;95000 Cergy" (la dernière ligne : code postal et ville)'),
    "service_address": ("adresse postale du service des étrangers", SET + '--service-address "service;rue;code postal ville"'),
    "prefecture": ("préfecture concernée", SET + "--departement 95 (le département de la préfecture)"),
    "tribunal": ("tribunal administratif compétent", SET + "--departement 95 (le département de la préfecture)"),
    "procedure": ("démarche demandée", SET + "--demande premiere|renouvellement"),
    "application": ("première demande ou renouvellement de titre de séjour", SET + "--demande premiere|renouvellement"),
    "permit_expiry": ("date d'expiration du titre de séjour ou du récépissé", SET + "--permit-expiry AAAA-MM-JJ"),
    "anef": ("la démarche se fait-elle sur le téléservice ANEF ?", SET + "--anef oui|non"),
    "anef_reason": ("ce qui a empêché de déposer la demande sur le téléservice ANEF", WRITE),
    "declarations": (
        "absence d'obligation de quitter le territoire et de refus de titre de séjour, à confirmer par le demandeur",
        SET + "--oqtf non --refus non (seulement si c'est exact)",
    ),
    "oqtf": ("situation au regard de l'obligation de quitter le territoire déclarée, à examiner par un avocat", WRITE),
    "refusal": ("refus de titre de séjour déclaré : en quoi la mesure n'y fait pas obstacle, à examiner par un avocat", WRITE),
    "circumstances": ("circonstances particulières qui rendent urgente cette première demande", WRITE),
    "slots": ("tentatives ayant affiché des créneaux ({detail}) : à expliquer, ou cette note à retirer", WRITE),
    "same_week": (
        "toutes les tentatives datent de la même semaine, ce que le Conseil d'État a jugé insuffisant : "
        "d'autres semaines de tentatives sont nécessaires",
        "preuves plan {case} (tentatives sur plusieurs semaines), puis un nouveau brouillon",
    ),
}


@dataclass
class BlankRecorder:
    """Called by the templates; remembers each blank the text shows, in order, once."""

    case_id: int
    seen: dict[str, Blank] = field(default_factory=dict)

    def __call__(self, key: str, detail: str = "") -> Markup:
        what, how = BLANKS[key]
        blank = Blank(key, what.format(detail=detail), how.format(case=self.case_id))
        self.seen.setdefault(key, blank)
        return Markup('<span class="blank">{}</span>').format(escape(blank_text(blank.what)))

    @property
    def blanks(self) -> tuple[Blank, ...]:
        return tuple(self.seen.values())
