"""Offline classification of a captured page: which state it shows, and the text on the page that shows it.

Each platform has an ordered list of rules; the first that recognises the page decides. The order is the same
everywhere: server errors first (the overload page of the prefecture module says *both* that the service is
overloaded and that there is no slot — it is an error page), then captcha gates, then result pages (no slot,
slots), then the known intermediate steps, which are « indéterminé » like any page without a known marker. A
page is never called « aucun créneau » or « créneaux disponibles » by default.

Rules read the visible text (parsed with the standard library; script, style, template and hidden elements are
skipped) and, where a site gives nothing else, the markup itself.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html import unescape
from html.parser import HTMLParser
from http import HTTPStatus

from capture.platforms import Platform, detect_platform, get_platform
from capture.states import State


@dataclass(frozen=True)
class Classification:
    """The state of a page, the platform whose rules decided, and the evidence.

    ``evidence_text`` is the decisive text exactly as found on the page (whitespace-normalised), or, when the
    decision rests on the HTTP status, on markup or on the absence of any marker, a short French explanation.
    """

    state: State
    platform: str
    evidence_text: str


# Exact strings of the sites (REFERENCE.md §4 and the real page samples).
EZBOOKING_NOSLOT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
EZBOOKING_NOSLOT_HEADING = "Vérification de disponibilité"
EZBOOKING_DESCRIPTION_HEADING = "Description de la nature du rendez-vous"
EZBOOKING_PLANNING_HEADING = "Choix d'une plage horaire"
EZBOOKING_CONDITIONS = "Veuillez cocher la case pour accepter les conditions d'utilisation"
EZBOOKING_CONDITIONS_BUTTON = "Effectuer une demande de rendez-vous"
EZBOOKING_COUNTER_HEADING = "Choix de la nature du rendez-vous"
EZBOOKING_COUNTER_QUESTION = "Que souhaitez-vous effectuer ?"
RDVPREF_CAPTCHA = "code de sécurité"
RDVPREF_NOSLOT = "Aucun créneau disponible à partir de cette date."
RDVPREF_EMPTY_WEEK = "Aucun créneau disponible sur cette semaine"
EAPPOINTMENT_CAPTCHA = "Code de vérification"
EAPPOINTMENT_HOURS_HEADING = "Choix d'une heure"
ANCT_NOSLOT = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."

ERROR_TEXTS = (
    "Service surchargé",
    "Request forbidden by administrative rules",
    "The server returned an invalid or incomplete response",
    "Attention : Cette page n'est pas disponible pour le moment",
    "403 Forbidden",
    "429 Too Many Requests",
    "502 Bad Gateway",
    "503 Service Unavailable",
    "503 Service Temporarily Unavailable",
    "504 Gateway Time-out",
    "504 Gateway Timeout",
)
# Words that also occur in ordinary pages (a news item about a maintenance): they count only in a heading or
# on a page short enough to be a bare error page.
WEAK_ERROR_TEXTS = ("site indisponible", "service indisponible", "maintenance")
SHORT_PAGE_CHARS = 600

_EVIDENCE_MAX_CHARS = 300
_CAPTCHA_CLASSES = frozenset({"g-recaptcha", "h-captcha", "cf-turnstile", "img_captcha", "choice_captcha"})
_CAPTCHA_TAGS = frozenset({"rdv-captchetat"})
_NEXT_AVAILABILITY = re.compile(r"Prochaine\s+disponibilit[ée]\s+le\s+\S", re.IGNORECASE)
_DATE_PREMIERE_DISPO = re.compile(r'"datePremiereDispo"\s*:\s*"([^"]+)"')
_EZBOOKING_SLOT_LINK = re.compile(r"/booking/create/\d+/5/\d+")
_HOUR_CHOICE = re.compile(r"[AÀ]\s+\d{1,2}\s*[:h]\s*\d{2}", re.IGNORECASE)
_DAY_NUMBER = re.compile(r"\d{1,2}")


# ---------------------------------------------------------------------------------------------- page reading

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br button caption dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 head header hr html label legend li main nav ol option p pre section "
    "select summary table tbody td tfoot th thead title tr ul".split()
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "title", "legend"})
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_UNRENDERED_TAGS = frozenset({"script", "style", "template", "noscript"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    text_parts: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        return _normalise("".join(self.text_parts))


@dataclass(frozen=True)
class _Block:
    """A run of visible text between two block-level boundaries."""

    text: str
    heading: bool


@dataclass(frozen=True)
class _Page:
    blocks: tuple[_Block, ...]
    elements: tuple[_Element, ...]
    markup: str

    @property
    def text_length(self) -> int:
        return sum(len(b.text) for b in self.blocks)


@dataclass
class _Open:
    tag: str
    hides_text: bool
    heading: bool
    element: _Element | None


class _PageReader(HTMLParser):
    """Collects visible text blocks and the rendered elements of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.elements: list[_Element] = []
        self._open: list[_Open] = []
        self._hidden = 0  # open elements hiding their content
        self._unrendered = 0  # open script/style/template/noscript elements
        self._headings = 0
        self._buffer: list[str] = []
        self._buffer_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=tag in _VOID_TAGS)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        attributes = {name.lower(): value or "" for name, value in attrs}
        if tag in _BLOCK_TAGS:
            self._flush()
        element = None
        if not self._unrendered and tag not in _UNRENDERED_TAGS:
            element = _Element(tag, attributes)
            self.elements.append(element)
        hidden_style = bool(_HIDDEN_STYLE.search(attributes.get("style", "")))
        hides_text = tag in _UNRENDERED_TAGS or "hidden" in attributes or hidden_style
        if closed:
            if tag == "input" and attributes.get("type", "").lower() in ("submit", "button") and not (
                self._hidden or hides_text
            ):
                self._add_block(attributes.get("value", ""), heading=False)
            return
        entry = _Open(tag, hides_text, tag in _HEADING_TAGS, element)
        self._open.append(entry)
        self._count(entry, 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if not any(entry.tag == tag for entry in self._open):
            return
        while self._open:
            entry = self._open.pop()
            self._count(entry, -1)
            if entry.tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self._buffer.append(data)
        self._buffer_heading = self._buffer_heading or bool(self._headings)
        for entry in self._open:
            if entry.element is not None:
                entry.element.text_parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _count(self, entry: _Open, step: int) -> None:
        self._hidden += step * entry.hides_text
        self._unrendered += step * (entry.tag in _UNRENDERED_TAGS)
        self._headings += step * entry.heading

    def _flush(self) -> None:
        self._add_block("".join(self._buffer), self._buffer_heading)
        self._buffer = []
        self._buffer_heading = False

    def _add_block(self, text: str, heading: bool) -> None:
        text = _normalise(text)
        if text:
            self.blocks.append(_Block(text, heading))


def _read(page_html: str) -> _Page:
    reader = _PageReader()
    reader.feed(page_html)
    reader.close()
    return _Page(tuple(reader.blocks), tuple(reader.elements), unescape(page_html))


# ---------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Finding:
    state: State
    evidence: str


Rule = Callable[[_Page], _Finding | None]


@cache
def _marker(text: str) -> re.Pattern[str]:
    """A case-insensitive pattern for an exact site string, tolerant of spacing and apostrophe variants."""
    pattern = ""
    for index, word in enumerate(text.split()):
        if index:
            pattern += r"\s*" if word[0] in ":;!?»" else r"\s+"
        pattern += re.sub(r"['’]", "['’`]", re.escape(word))
    return re.compile(pattern, re.IGNORECASE)


def _find(page: _Page, pattern: re.Pattern[str], headings_only: bool = False) -> str | None:
    """The evidence for the first match: its whole block, or the match alone when the block is long."""
    for block in page.blocks:
        if headings_only and not block.heading:
            continue
        if match := pattern.search(block.text):
            return block.text if len(block.text) <= _EVIDENCE_MAX_CHARS else match.group(0)
    return None


def _find_any(page: _Page, texts: tuple[str, ...], headings_only: bool = False) -> str | None:
    """The evidence for the first of ``texts`` found on the page."""
    for text in texts:
        if (evidence := _find(page, _marker(text), headings_only)) is not None:
            return evidence
    return None


def _text_rule(state: State, *texts: str, headings_only: bool = False) -> Rule:
    def rule(page: _Page) -> _Finding | None:
        evidence = _find_any(page, texts, headings_only)
        return None if evidence is None else _Finding(state, evidence)

    return rule


def _unknown_if(text: str, explanation: str, headings_only: bool = False) -> Rule:
    """An intermediate page: recognised, but it shows no result, so the state stays « indéterminé »."""

    def rule(page: _Page) -> _Finding | None:
        return _Finding(State.UNKNOWN, explanation) if _find(page, _marker(text), headings_only) else None

    return rule


_strong_errors = _text_rule(State.ERROR, *ERROR_TEXTS)


def _weak_errors(page: _Page) -> _Finding | None:
    evidence = _find_any(page, WEAK_ERROR_TEXTS, headings_only=page.text_length > SHORT_PAGE_CHARS)
    return None if evidence is None else _Finding(State.ERROR, evidence)


def _captcha_markup(page: _Page) -> _Finding | None:
    """Captcha widgets of the known sites: reCAPTCHA, hCaptcha, Turnstile, CaptchEtat, image captchas."""
    for element in page.elements:
        image = element.tag == "img" and "captcha" in (element.attrs.get("src", "") + element.id).lower()
        widget = element.classes & _CAPTCHA_CLASSES
        if image or widget or element.tag in _CAPTCHA_TAGS or element.id.startswith("BDC_Captcha"):
            name = element.tag + (f"#{element.id}" if element.id else "")
            name += "".join(f".{c}" for c in sorted(widget))
            return _Finding(State.CAPTCHA, f"Captcha affiché sur la page (élément {name}).")
    return None


def _ezbooking_slots(page: _Page) -> _Finding | None:
    """Step 3 of the module, the week table with « libre » cells (one is the legend), or links to a slot."""
    if (evidence := _find(page, _marker(EZBOOKING_DESCRIPTION_HEADING), headings_only=True)) is not None:
        return _Finding(State.SLOTS, evidence)
    free_cells = sum(block.text.lower() == "libre" for block in page.blocks)
    if free_cells > 1:
        heading = _find(page, _marker(EZBOOKING_PLANNING_HEADING), headings_only=True)
        return _Finding(State.SLOTS, f"{heading or 'Tableau des plages horaires'} : cases « libre » affichées.")
    for element in page.elements:
        if element.tag == "a" and _EZBOOKING_SLOT_LINK.search(element.attrs.get("href", "")):
            return _Finding(State.SLOTS, f"Lien vers une plage horaire : {element.attrs['href']}")
    return None


def _ezbooking_counter_choice(page: _Page) -> _Finding | None:
    radios = any(e.tag == "input" and e.attrs.get("name") == "planning" for e in page.elements)
    shown = radios or _find(page, _marker(EZBOOKING_COUNTER_HEADING), headings_only=True)
    if shown or _find(page, _marker(EZBOOKING_COUNTER_QUESTION)):
        return _Finding(
            State.UNKNOWN,
            "Étape intermédiaire (choix du guichet) : la page n'indique pas s'il reste des créneaux.",
        )
    return None


def _ezbooking_conditions(page: _Page) -> _Finding | None:
    checkbox = any(e.tag == "input" and "condition" in (e.id, e.attrs.get("name")) for e in page.elements)
    if checkbox or _find_any(page, (EZBOOKING_CONDITIONS, EZBOOKING_CONDITIONS_BUTTON)):
        return _Finding(
            State.UNKNOWN,
            "Étape intermédiaire (acceptation des conditions d'utilisation) : "
            "la page n'indique pas s'il reste des créneaux.",
        )
    return None


def _rdvpref_slots(page: _Page) -> _Finding | None:
    """Slots to choose, a later week announced next to an empty one, or a first availability date in the data."""
    slot_inputs = sum(e.tag == "input" and e.attrs.get("name") == "trhId" for e in page.elements)
    if slot_inputs:
        return _Finding(State.SLOTS, f"{slot_inputs} créneau(x) proposé(s) au choix sur la page.")
    if _find(page, _marker(RDVPREF_EMPTY_WEEK)) and (evidence := _find(page, _NEXT_AVAILABILITY)):
        return _Finding(State.SLOTS, evidence)
    if match := _DATE_PREMIERE_DISPO.search(page.markup):
        return _Finding(State.SLOTS, match.group(0))
    return None


def _eappointment_slots(page: _Page) -> _Finding | None:
    """The hour list under « Choix d'une heure », or selectable days in the date picker."""
    heading = _find(page, _marker(EAPPOINTMENT_HOURS_HEADING), headings_only=True)
    hour = next((b.text for b in page.blocks if _HOUR_CHOICE.fullmatch(b.text)), None)
    if heading and hour:
        return _Finding(State.SLOTS, f"{heading} : {hour}")
    days = [
        e.text
        for e in page.elements
        if e.tag == "a" and "ui-state-default" in e.classes and _DAY_NUMBER.fullmatch(e.text)
    ]
    if days:
        return _Finding(State.SLOTS, f"Jours sélectionnables dans le calendrier : {', '.join(days)}")
    return None


_ERRORS: tuple[Rule, ...] = (_strong_errors, _weak_errors)

RULES: dict[str, tuple[Rule, ...]] = {
    "ezbooking": (
        *_ERRORS,
        _captcha_markup,
        _text_rule(State.NOSLOT, EZBOOKING_NOSLOT),
        _text_rule(State.NOSLOT, EZBOOKING_NOSLOT_HEADING, headings_only=True),
        _ezbooking_slots,
        _unknown_if(
            EZBOOKING_PLANNING_HEADING,
            "Tableau des plages horaires sans case « libre » : les autres semaines ne sont pas visibles.",
            headings_only=True,
        ),
        _ezbooking_counter_choice,
        _ezbooking_conditions,
    ),
    "rdvpref": (
        *_ERRORS,
        _text_rule(State.CAPTCHA, RDVPREF_CAPTCHA),
        _captcha_markup,
        _text_rule(State.NOSLOT, RDVPREF_NOSLOT),
        _rdvpref_slots,
        _unknown_if(
            RDVPREF_EMPTY_WEEK,
            "« Aucun créneau disponible sur cette semaine », sans date de prochaine disponibilité : "
            "les autres semaines ne sont pas visibles.",
        ),
    ),
    "eappointment94": (
        *_ERRORS,
        _text_rule(State.CAPTCHA, EAPPOINTMENT_CAPTCHA),
        _captcha_markup,
        _eappointment_slots,
    ),
    "anct": (*_ERRORS, _captcha_markup, _text_rule(State.NOSLOT, ANCT_NOSLOT)),
    # Only the unambiguous sentences: no heading, no slot reading on an unknown site.
    "generic": (*_ERRORS, _captcha_markup, _text_rule(State.NOSLOT, EZBOOKING_NOSLOT, RDVPREF_NOSLOT, ANCT_NOSLOT)),
}


def _error_status(status: int) -> bool:
    return status >= 500 or status in (403, 429)


def _status_explanation(status: int) -> str:
    try:
        phrase = f" ({HTTPStatus(status).phrase})"
    except ValueError:
        phrase = ""
    return f"Le serveur a répondu avec le code HTTP {status}{phrase}."


def classify(
    html: str, url: str | None = None, platform: str | None = None, http_status: int | None = None
) -> Classification:
    """Classify a captured page.

    ``platform`` (a preset name) overrides detection from ``url``; with neither, the generic rules apply. An
    HTTP status of 403, 429 or 500 and above makes the page an error whatever it says.
    """
    preset: Platform = get_platform(platform) if platform else detect_platform(url or "")
    page = _read(html)
    if http_status is not None and _error_status(http_status):
        finding = _strong_errors(page) or _weak_errors(page)
        evidence = finding.evidence if finding else _status_explanation(http_status)
        return Classification(State.ERROR, preset.name, evidence)
    for rule in RULES[preset.name]:
        if finding := rule(page):
            return Classification(finding.state, preset.name, finding.evidence)
    if not page.blocks:
        return Classification(State.UNKNOWN, preset.name, "Page vide : aucun texte affiché.")
    return Classification(
        State.UNKNOWN, preset.name, f"Aucun marqueur connu de « {preset.display_name} » sur la page."
    )
