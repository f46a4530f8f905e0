"""Offline classification of a captured page: which state it shows, the text on the page that shows it, and the
facts it gives besides (a block page's reference, the next publication of slots).

The page is read with an HTML5 parser (``capture/page.py``); each platform's rules are data beside its preset
(``capture/platform_rules.py``): the first rule that applies decides. A result — « aucun créneau » or
« créneaux disponibles » — needs its decisive text in the platform's result region *and* a booking address of
the platform: the same sentence quoted in a help page or a FAQ is « indéterminé ». So is any page without a
known marker: a page is never called a result by default.

An anti-bot refusal (Cloudflare) comes first, whatever the HTTP status: a block or a rate limit is an error (the
site was not reachable), a challenge is a captcha. Then an HTTP status of 403, 429 or 500 and above makes the
page an error whatever it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from http import HTTPStatus
from zoneinfo import ZoneInfo

from capture.page import Page, marker
from capture.platform_rules import CLOUDFLARE, RDVPREF_NEXT_RELEASE
from capture.platforms import Platform, detect_platform, get_platform
from capture.rules import Decisive, Finding, Rule
from capture.states import State

PARIS = ZoneInfo("Europe/Paris")
# « Prochaine mise en ligne de nouveaux rendez-vous : le 16/03/2026 à 14:00 » (the site's format DD/MM/YYYY à HH:mm)
_RELEASE_WHEN = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+[àa]\s+(\d{1,2})\s*[:h]\s*(\d{2})")
_RAY_ID = re.compile(r"Ray\s+ID\s*:?\s*([0-9a-f]{16})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Classification:
    """The state of a page, the platform whose rules decided, the evidence, and what else the page said.

    ``evidence_text`` is the decisive text exactly as found on the page (whitespace-normalised), or, when the
    decision rests on the HTTP status, on elements or on the absence of any marker, a short French explanation.
    ``decisive`` says where that text (or those elements) sit, to find them in the live page; ``block`` and
    ``block_reference`` name an anti-bot refusal and its reference (Cloudflare's Ray ID); ``next_release`` is the
    next publication of slots the platform announces.
    """

    state: State
    platform: str
    evidence_text: str
    decisive: Decisive | None = None
    block: str | None = None
    block_reference: str | None = None
    next_release: datetime | None = None


def classify(
    html: str,
    url: str | None = None,
    platform: str | None = None,
    http_status: int | None = None,
    dialogs: tuple[str, ...] = (),
) -> Classification:
    """Classify a captured page (and the messages of the JavaScript dialogs it showed, if any).

    ``platform`` (a preset name) overrides detection from ``url``; with neither, the generic rules apply.
    """
    preset: Platform = get_platform(platform) if platform else detect_platform(url or "")
    page = Page.parse(html, _regions(preset.name))
    # A known platform's address says whether it is a booking page, even when another preset was named.
    booking_page = preset.is_booking_page(url) and detect_platform(url or "").is_booking_page(url)
    if http_status is not None and _error_status(http_status):
        errors = CLOUDFLARE + tuple(rule for rule in preset.rules if rule.state is State.ERROR)
        finding = _first(errors, page, dialogs) or Finding(State.ERROR, _status_explanation(http_status))
    else:
        usable = tuple(rule for rule in preset.rules if booking_page or not rule.is_result)
        finding = _first(usable, page, dialogs) or Finding(State.UNKNOWN, _no_result(page, preset, booking_page))
    return Classification(
        finding.state,
        preset.name,
        finding.evidence,
        finding.decisive,
        finding.block,
        _ray_id(page) if finding.block else None,
        _next_release(page) if booking_page else None,
    )


@cache
def _regions(platform: str) -> frozenset[str]:
    """The page regions a platform's rules read (their text is then read once, with the whole page's)."""
    rules = get_platform(platform).rules + CLOUDFLARE
    return frozenset(rule.region for rule in rules if rule.region is not None)


def _first(rules: tuple[Rule, ...], page: Page, dialogs: tuple[str, ...]) -> Finding | None:
    return next((finding for rule in rules if (finding := rule.find(page, dialogs))), None)


def _no_result(page: Page, preset: Platform, booking_page: bool) -> str:
    """Why a page is « indéterminé », naming a result sentence that the page only quotes."""
    if not page.blocks:
        return "Page vide : aucun texte affiché."
    quoted = next(
        (text for rule in preset.rules if rule.is_result and rule.region for text in rule.texts
         if any(marker(text).search(block) for block in page.blocks)),
        None,
    )
    if quoted is None:
        return f"Aucun marqueur connu de « {preset.display_name} » sur la page."
    where = "l'adresse n'est pas une page de réservation" if not booking_page else "hors de la zone de résultat"
    return f"La phrase « {quoted} » figure sur la page, mais {where} : ce n'est pas un résultat de réservation."


def _error_status(status: int) -> bool:
    return status >= 500 or status in (403, 429)


def _status_explanation(status: int) -> str:
    try:
        phrase = f" ({HTTPStatus(status).phrase})"
    except ValueError:
        phrase = ""
    return f"Le serveur a répondu avec le code HTTP {status}{phrase}."


def _ray_id(page: Page) -> str | None:
    match = next((m for block in page.blocks if (m := _RAY_ID.search(block))), None)
    return match.group(1).lower() if match else None


def _next_release(page: Page) -> datetime | None:
    """The announced publication, Europe/Paris; None if absent or not a real date."""
    announcement = marker(RDVPREF_NEXT_RELEASE)
    for block in page.blocks:
        if (found := announcement.search(block)) and (when := _RELEASE_WHEN.match(block, found.end())):
            day, month, year, hour, minute = (int(part) for part in when.groups())
            try:
                return datetime(year, month, day, hour, minute, tzinfo=PARIS)
            except ValueError:
                return None
    return None
