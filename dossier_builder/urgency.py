"""Urgency as the note states it: when the applicant's titre de séjour expires, how many days are left at the
bundle's date, and — where the procedure has one — the window in which the renewal is to be filed, with
where the first attempt fell in it.

The window comes from the guide in `shared/context/guide-rdv-prefecture-fr.txt`: « Les démarches via l'ANEF
imposent un dépôt entre le 120ème et le 60ème jour avant expiration. » It is data (RENEWAL_RULES), matched
against the procedure's label as the case names it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from dossier_builder.french import Noun, long_date


@dataclass(frozen=True)
class RenewalRule:
    """A filing window counted back from the expiry date, for procedures whose label holds one of `words`."""

    words: tuple[str, ...]  # lower case, without accents
    excluded: tuple[str, ...]
    opens_days: int
    closes_days: int
    wording: str  # the rule as the note quotes it


RENEWAL_RULES = (
    RenewalRule(
        words=("renouvellement",),
        excluded=("recepisse",),
        opens_days=120,
        closes_days=60,
        wording=(
            "la demande de renouvellement se dépose entre le 120e et le 60e jour avant l'expiration du titre "
            "(délais imposés pour les démarches sur l'ANEF)"
        ),
    ),
)
DAYS = Noun("jour", "jours")
PERMIT = "titre de séjour"
RECEIPT = "récépissé"


def document_of(kinds: set[str]) -> str:
    """Which document's expiry the applicant gave: a récépissé when that is the only one filed, else the titre."""
    return RECEIPT if "recepisse" in kinds and "titre-de-sejour" not in kinds else PERMIT


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def renewal_rule(procedure: str | None) -> RenewalRule | None:
    if not procedure:
        return None
    plain = _plain(procedure)
    return next(
        (
            rule
            for rule in RENEWAL_RULES
            if any(word in plain for word in rule.words) and not any(word in plain for word in rule.excluded)
        ),
        None,
    )


@dataclass(frozen=True)
class Window:
    opens: date
    closes: date
    rule: RenewalRule


@dataclass(frozen=True)
class Urgency:
    expiry: date
    on: date  # the bundle's date (Paris)
    first_attempt: date
    window: Window | None
    document: str = PERMIT  # « titre de séjour » or « récépissé »

    @property
    def days_left(self) -> int:
        """Days from the bundle's date to the expiry; negative once the titre has expired."""
        return (self.expiry - self.on).days

    @property
    def left_text(self) -> str:
        """'dans 20 jours', 'aujourd'hui', 'expiré depuis 3 jours'."""
        if self.days_left > 0:
            return f"dans {DAYS.count(self.days_left)}"
        if self.days_left == 0:
            return "aujourd'hui"
        return f"expiré depuis {DAYS.count(-self.days_left)}"

    @property
    def summary(self) -> str:
        """The sentence of the note's summary."""
        when, which = long_date(self.expiry), f"Le {self.document} du demandeur"
        if self.days_left > 0:
            return f"{which} expire le {when}, dans {DAYS.count(self.days_left)}."
        if self.days_left == 0:
            return f"{which} expire aujourd'hui, {when}."
        return f"{which} a expiré le {when}, il y a {DAYS.count(-self.days_left)}."

    @property
    def placement(self) -> str | None:
        """Where the first attempt fell: inside the renewal window, before it opened, or after it closed."""
        if self.window is None:
            return None
        first = long_date(self.first_attempt)
        if self.first_attempt < self.window.opens:
            early = (self.window.opens - self.first_attempt).days
            return f"La première tentative, le {first}, précède de {DAYS.count(early)} l'ouverture de cette période."
        if self.first_attempt <= self.window.closes:
            return f"La première tentative, le {first}, se situe dans cette période."
        late = (self.expiry - self.first_attempt).days
        when = f"{DAYS.count(late)} avant l'expiration du titre" if late > 0 else "après l'expiration du titre"
        return f"La première tentative, le {first}, se situe après la fin de cette période, {when}."


def urgency(
    expiry: date | None, procedure: str | None, on: date, first_attempt: date, document: str = PERMIT
) -> Urgency | None:
    """The urgency of a case, or None when the expiry date is not known. The renewal window is a titre's: a
    récépissé has none."""
    if expiry is None:
        return None
    rule = renewal_rule(procedure) if document == PERMIT else None
    window = (
        Window(expiry - timedelta(days=rule.opens_days), expiry - timedelta(days=rule.closes_days), rule)
        if rule
        else None
    )
    return Urgency(expiry, on, first_attempt, window, document)
