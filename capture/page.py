"""A captured page as the classifier reads it: an HTML5 tree (lexbor, through selectolax) and its visible text.

Any input is read without error, as a browser would: bytes that are not HTML simply give a page without text.
Two things a browser does not show are left out of the text: unrendered elements (script, style, template,
noscript) and hidden ones (the ``hidden`` attribute, an inline ``display: none`` or ``visibility: hidden``).

Visible text comes in *blocks*: the runs of text between two block-level boundaries (a paragraph, a heading, a
table cell…), whitespace-normalised; a ``<br>`` is a space, so a sentence broken over two lines stays one block.
The label of a submit button counts as visible text too.

lexbor spends time proportional to the depth of the open elements for each block element it opens, so a page
nesting thousands of them takes minutes to parse. Browsers stop nesting at a depth of 512 (Blink); here the
markup is cut where such elements nest deeper than that, before parsing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

MAX_NESTING = 512
_NESTING_TAGS = (
    "address|article|aside|blockquote|center|details|dialog|dir|div|dl|fieldset|figcaption|figure|footer|form"
    "|header|hgroup|main|menu|nav|ol|section|summary|table|ul"
)
_NESTING = re.compile(rf"<(/?)(?:{_NESTING_TAGS})(?=[\s/>])", re.IGNORECASE)

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body button caption dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 head header hr html label legend li main nav ol option p pre section "
    "select summary table tbody td tfoot th thead title tr ul".split()
)
_UNRENDERED_TAGS = frozenset({"script", "style", "template", "noscript"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BUTTON_INPUTS = frozenset({"submit", "button"})


class SelectorError(ValueError):
    """A CSS selector the parser cannot read (a mistake in the rule data, found when it is loaded)."""


def normalise(text: str) -> str:
    """NFC, runs of whitespace (non-breaking spaces included) as one space, no space at the ends."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@cache
def marker(text: str) -> re.Pattern[str]:
    """A case-insensitive pattern for an exact site string, tolerant of spacing and apostrophe variants."""
    pattern = ""
    for index, word in enumerate(text.split()):
        if index:
            pattern += r"\s*" if word[0] in ":;!?»" else r"\s+"
        pattern += re.sub(r"['’]", "['’`]", re.escape(word))
    return re.compile(pattern, re.IGNORECASE)


def check_selector(selector: str) -> str:
    """The selector itself, once the parser has accepted it."""
    try:
        LexborHTMLParser("").css(selector)
    except SelectolaxError as exc:
        raise SelectorError(f"sélecteur CSS illisible : {selector!r}") from exc
    return selector


def bounded_nesting(html: str) -> str:
    """The markup up to where block elements would nest deeper than MAX_NESTING (all of it, normally)."""
    depth = 0
    for tag in _NESTING.finditer(html):
        depth = max(depth - 1, 0) if tag.group(1) else depth + 1
        if depth > MAX_NESTING:
            return html[: tag.start()]
    return html


def hidden(node: LexborNode) -> bool:
    """Whether this element itself is not shown (its ancestors are not looked at)."""
    if node.tag in _UNRENDERED_TAGS:
        return True
    attributes = node.attributes
    return "hidden" in attributes or bool(_HIDDEN_STYLE.search(attributes.get("style") or ""))


def visible(node: LexborNode) -> bool:
    """Whether the element and all its ancestors are shown."""
    current: LexborNode | None = node
    while current is not None and current.tag != "-document":
        if hidden(current):
            return False
        current = current.parent
    return True


def _children(node: LexborNode) -> list[LexborNode]:
    return list(node.iter(include_text=True))


def text_blocks(root: LexborNode) -> list[str]:
    """The visible text under ``root``, block by block (iteratively: a page may nest inline elements deeply)."""
    blocks: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = normalise("".join(buffer))
        buffer.clear()
        if text:
            blocks.append(text)

    # Each entry: (node, leaving). An element is entered, its children follow, then it is left.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if tag == "-text":
            buffer.append(node.text_content or "")
            continue
        if leaving:
            if tag in _BLOCK_TAGS:
                flush()
            continue
        if tag in _BLOCK_TAGS:
            flush()
        if tag == "br":
            buffer.append(" ")
        if hidden(node) or tag in ("-comment", "-doctype"):
            continue
        if tag == "input" and (node.attributes.get("type") or "").lower() in _BUTTON_INPUTS:
            flush()
            buffer.append(node.attributes.get("value") or "")
            flush()
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    flush()
    return blocks


@dataclass(frozen=True)
class Page:
    """One parsed page; the text of the whole page is computed once, when first asked for."""

    tree: LexborHTMLParser

    @classmethod
    def parse(cls, html: str) -> Page:
        return cls(LexborHTMLParser(bounded_nesting(html)))

    def select(self, selector: str) -> list[LexborNode]:
        """The elements matching ``selector`` (already checked by ``check_selector``), in document order."""
        return self.tree.css(selector)

    @cached_property
    def blocks(self) -> tuple[str, ...]:
        return tuple(text_blocks(self.tree.root)) if self.tree.root is not None else ()

    @cached_property
    def text_length(self) -> int:
        return sum(len(block) for block in self.blocks)

    def first_text(self, selector: str) -> str | None:
        """The visible text of the first shown element matching ``selector`` that has any."""
        return next((" ".join(blocks) for _, blocks in self.regions(selector) if blocks), None)

    def regions(self, selector: str) -> Iterator[tuple[LexborNode, list[str]]]:
        """Each visible element matching ``selector`` with its visible text blocks."""
        for node in self.select(selector):
            if visible(node):
                yield node, text_blocks(node)
