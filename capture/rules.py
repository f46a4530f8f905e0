"""A classification rule: where on the page (a CSS selector for the region), what must be there (exact texts of
the site, or elements to count), and the state it means.

Rules are data (see ``capture/platform_rules.py``), checked when they are built: a selector the parser cannot
read, a missing text, a wrong placeholder fails at import time, before any page is classified.

A rule whose state is a result (« aucun créneau », « créneaux disponibles ») only ever applies on a booking
address of the platform (see ``Platform.is_booking_page``): the same sentence quoted in a help page is no
evidence. Which address is a booking address is the classifier's business; a rule only says what it looks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

from selectolax.lexbor import LexborNode

from capture.page import Page, check_selector, marker, normalise
from capture.states import State

RESULT_STATES = frozenset({State.NOSLOT, State.SLOTS})
EVIDENCE_MAX_CHARS = 300
_PLACEHOLDERS = frozenset({"count", "first", "all", "element"})


class RuleError(ValueError):
    """A rule that cannot work as written (found when the rule data is loaded)."""


@dataclass(frozen=True)
class Decisive:
    """Where the decisive text (or the decisive elements) sit, for finding them again in the live page."""

    region: str
    elements: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Finding:
    state: State
    evidence: str
    decisive: Decisive | None = None
    block: str | None = None


@dataclass(frozen=True)
class Rule:
    """``state`` when, inside an element matching ``region``, one of ``texts`` is shown and/or at least
    ``min_count`` visible ``elements`` (whose text is ``element_text``, if given) are present.

    ``region=None`` reads the page's JavaScript dialogs instead of the page (``texts`` only). ``requires`` and
    ``unless`` are texts looked for anywhere on the page. ``max_page_chars`` keeps a rule to short pages (a bare
    error page). The evidence is the block of text found, or ``explanation`` (with ``{count}``, ``{first}``,
    ``{all}`` and ``{element}`` for the elements found). ``block`` names an anti-bot refusal ("blocked",
    "rate-limited").
    """

    state: State
    region: str | None
    texts: tuple[str, ...] = ()
    elements: str | None = None
    element_text: str | None = None
    min_count: int = 1
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    max_page_chars: int | None = None
    explanation: str | None = None
    block: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.state, State):
            raise RuleError(f"état inconnu : {self.state!r}")
        if not (self.texts or self.elements):
            raise RuleError("une règle cherche des textes ou des éléments")
        if self.region is None and (self.elements or not self.texts):
            raise RuleError("une règle sur les boîtes de dialogue cherche des textes seulement")
        for selector in (self.region, self.elements):
            if selector is not None:
                check_selector(selector)
        if any(not text.strip() for text in (*self.texts, *self.requires, *self.unless)):
            raise RuleError("texte vide dans une règle")
        if self.min_count < 1:
            raise RuleError(f"min_count doit être au moins 1 : {self.min_count}")
        if self.elements and not self.texts and self.explanation is None:
            raise RuleError("une règle qui compte des éléments donne une explication")
        if self.explanation is not None:
            names = {field for _, field, _, _ in Formatter().parse(self.explanation) if field is not None}
            if names - _PLACEHOLDERS:
                raise RuleError(f"explication avec un champ inconnu : {self.explanation!r}")

    @property
    def is_result(self) -> bool:
        """Whether the rule gives a result state (which needs a booking address)."""
        return self.state in RESULT_STATES

    def find(self, page: Page, dialogs: tuple[str, ...] = ()) -> Finding | None:
        """The finding of this rule on the page, or None when it does not apply."""
        if self.max_page_chars is not None and page.text_length > self.max_page_chars:
            return None
        if any(_shown(page.blocks, text) for text in self.unless):
            return None
        if not all(_shown(page.blocks, text) for text in self.requires):
            return None
        if self.region is None:
            return self._in_dialogs(dialogs)
        for node, blocks in page.regions(self.region):
            if finding := self._in_region(page, node, blocks):
                return finding
        return None

    def _in_dialogs(self, dialogs: tuple[str, ...]) -> Finding | None:
        for message in dialogs:
            text = normalise(message)
            if _found(text, self.texts) is not None:
                return Finding(self.state, text[:EVIDENCE_MAX_CHARS], None, self.block)
        return None

    def _in_region(self, page: Page, node: LexborNode, blocks: list[str]) -> Finding | None:
        assert self.region is not None
        evidence = None
        if self.texts:
            evidence = next((found for block in blocks if (found := _found(block, self.texts))), None)
            if evidence is None:
                return None
        if self.elements:
            elements = [e for e in node.css(self.elements) if page.visible(e) and self._counts(page, e)]
            if len(elements) < self.min_count:
                return None
            if evidence is None:  # the elements decide; an intermediate step's have nothing decisive to show
                decisive = None if self.state is State.UNKNOWN else Decisive(self.region, self.elements)
                return Finding(self.state, self._explain(page, elements), decisive, self.block)
        assert evidence is not None
        if self.explanation is not None:  # a recognised page that is no result: its explanation is the evidence
            return Finding(self.state, self._explain(page, []), None, self.block)
        return Finding(self.state, evidence, Decisive(self.region, text=evidence), self.block)

    def _counts(self, page: Page, element: LexborNode) -> bool:
        return self.element_text is None or _text(page, element).casefold() == self.element_text.casefold()

    def _explain(self, page: Page, elements: list[LexborNode]) -> str:
        texts = [_text(page, e) for e in elements]
        assert self.explanation is not None
        return self.explanation.format(
            count=len(elements),
            first=texts[0] if texts else "",
            all=", ".join(texts),
            element=_describe(elements[0]) if elements else "",
        )


def _found(block: str, texts: tuple[str, ...]) -> str | None:
    """The evidence for the first of ``texts`` in ``block``: the block, or the match alone when the block is long."""
    for text in texts:
        if match := marker(text).search(block):
            return block if len(block) <= EVIDENCE_MAX_CHARS else match.group(0)
    return None


def _shown(blocks: tuple[str, ...], text: str) -> bool:
    pattern = marker(text)
    return any(pattern.search(block) for block in blocks)


def _text(page: Page, element: LexborNode) -> str:
    """What an element shows: its visible text, else its accessible label (a link drawn as an icon)."""
    return normalise(" ".join(page.text_of(element))) or normalise(element.attributes.get("aria-label") or "")


def _describe(element: LexborNode) -> str:
    """« div.g-recaptcha », « img#captchaFR_CaptchaImage »: how a developer would name the element."""
    identifier = element.attributes.get("id")
    classes = (element.attributes.get("class") or "").split()
    return element.tag + (f"#{identifier}" if identifier else "") + "".join(f".{c}" for c in classes[:3])
