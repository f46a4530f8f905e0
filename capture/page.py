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
from collections.abc import Iterable, Iterator
from functools import cache

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


class Page:
    """One parsed page and its visible text, read in a single pass.

    ``regions`` names the selectors the caller will ask about (a platform's rule regions): their elements start
    and end a block, and the blocks each one holds are noted during the pass, so that the text of a region costs
    nothing more. Any other element's text is read on demand.
    """

    def __init__(self, tree: LexborHTMLParser, regions: Iterable[str] = ()) -> None:
        self.tree = tree
        self._hidden = self._hidden_elements()
        self._buttons = {
            node.mem_id: node.attributes.get("value") or ""
            for node in tree.css("input[type=submit i], input[type=button i]")
        }
        self._spans: dict[int, tuple[int, int]] = {}
        marked = {node.mem_id for selector in regions for node in tree.css(selector)}
        self.blocks: tuple[str, ...] = tuple(self._read(tree.root, marked)) if tree.root is not None else ()
        self.text_length = sum(len(block) for block in self.blocks)

    @classmethod
    def parse(cls, html: str, regions: Iterable[str] = ()) -> Page:
        return cls(LexborHTMLParser(bounded_nesting(html)), regions)

    def select(self, selector: str) -> list[LexborNode]:
        """The elements matching ``selector`` (already checked by ``check_selector``), in document order."""
        return self.tree.css(selector)

    def visible(self, node: LexborNode) -> bool:
        """Whether the element and all its ancestors are shown."""
        current: LexborNode | None = node
        while current is not None and current.tag != "-document":
            if current.mem_id in self._hidden:
                return False
            current = current.parent
        return True

    def text_of(self, node: LexborNode) -> list[str]:
        """The visible text blocks under an element (shown or not itself: see ``visible``)."""
        span = self._spans.get(node.mem_id)
        return list(self.blocks[span[0]:span[1]]) if span is not None else self._read(node, set())

    def regions(self, selector: str) -> Iterator[tuple[LexborNode, list[str]]]:
        """Each visible element matching ``selector`` with its visible text blocks."""
        for node in self.select(selector):
            if self.visible(node):
                yield node, self.text_of(node)

    def first_text(self, selector: str) -> str | None:
        """The visible text of the first shown element matching ``selector`` that has any."""
        return next((" ".join(blocks) for _, blocks in self.regions(selector) if blocks), None)

    def _hidden_elements(self) -> set[int]:
        hidden = {node.mem_id for node in self.tree.css("[hidden], " + ", ".join(_UNRENDERED_TAGS))}
        hidden |= {
            node.mem_id for node in self.tree.css("[style]")
            if _HIDDEN_STYLE.search(node.attributes.get("style") or "")
        }
        return hidden

    def _read(self, root: LexborNode, marked: set[int]) -> list[str]:
        """Blocks of visible text under ``root``, iteratively (a page may nest inline elements deeply); the
        span of blocks of each ``marked`` element is noted."""
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
            identity = node.mem_id
            boundary = tag in _BLOCK_TAGS or identity in marked
            if boundary:
                flush()
            if leaving:
                if identity in marked:
                    self._spans[identity] = (self._spans[identity][0], len(blocks))
                continue
            if tag == "br":
                buffer.append(" ")
            if identity in self._hidden or tag in ("-comment", "-doctype"):
                continue
            if identity in self._buttons:  # a submit button's label: a block of its own
                flush()
                buffer.append(self._buttons[identity])
                flush()
                continue
            if identity in marked:
                self._spans[identity] = (len(blocks), len(blocks))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
        flush()
        return blocks
