"""A plan in French words, for the command line and the dashboard alike."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from evidence.localtime import PARIS
from evidence.stats import WINDOWS

if TYPE_CHECKING:
    from capture.plan import PlanResult

WINDOW_LABELS = {name: label for name, label, *_ in WINDOWS}
STATUS_LABELS = {
    "planned": "prévue", "reminded": "rappel envoyé", "running": "en cours", "done": "faite", "missed": "manquée",
    "failed": "échouée", "cancelled": "annulée",
}
REASON_LABELS = {
    "regular": "tentative régulière",
    "monday_morning": "lundi matin (mise en ligne)",
    "month_release": "1er ou 15 du mois (mise en ligne)",
    "early_evening": "début de soirée (mise en ligne)",
    "announced_release": "juste après la mise en ligne annoncée",
}
MODE_LABELS = {"unattended": "automatique", "accompanied": "accompagnée"}
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def french_moment(moment: datetime) -> str:
    """'lun. 07/12/2026 09:14' (Europe/Paris)."""
    local = moment.astimezone(PARIS)
    return f"{WEEKDAYS[local.weekday()]} {local:%d/%m/%Y %H:%M}"


def window_label(window: str) -> str:
    return WINDOW_LABELS.get(window, "nuit").split(" (")[0]


def plan_summary(result: PlanResult, case_reference: str) -> list[str]:
    """How the plan was made, in the words a person needs to trust it."""
    from capture.plan import DAY_HOURS  # the planner, with its calendar of holidays: not for `preuves status`

    lines = []
    if result.cancelled:
        lines.append(f"{result.cancelled} tentative(s) prévue(s) de l'ancien plan remplacée(s).")
    if result.times:
        lines.append(
            f"Plan établi : {len(result.times)} tentative(s) du {french_moment(result.times[0].at)} au "
            f"{french_moment(result.times[-1].at)}, {result.per_day} par jour ouvré — les moments habituels de "
            "mise en ligne (lundi matin, 1er et 15 du mois, début de soirée) en font partie."
        )
    if result.hours != DAY_HOURS:
        night = result.hours[0] < DAY_HOURS[0] or result.hours[1] > DAY_HOURS[1]
        lines.append(
            f"Heures choisies : de {result.hours[0]} h à {result.hours[1]} h"
            f"{' (la nuit comprise, comme demandé)' if night else ''}."
        )
    if result.closed:
        days = ", ".join(f"{day:%d/%m/%Y} ({name})" for day, name in sorted(result.closed.items()))
        lines.append(f"Jours fériés sans tentative : {days}.")
    if result.announced:
        lines.append(f"Une tentative juste après la mise en ligne annoncée pour le {french_moment(result.announced)}.")
    if result.mode == "accompanied":
        lines.append(
            "Tentatives accompagnées : un captcha protège cette page à chaque visite. À chaque heure prévue, "
            "« preuves watch » (ou « preuves serve ») vous le rappelle ; commencez alors « preuves capture "
            f"{case_reference} --assisted » ou le bouton du tableau de bord, et résolvez le captcha vous-même."
        )
    return lines
