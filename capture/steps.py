"""Browser steps as validated data: the closed list of operations a capture may perform.

The allowed operations are the safety contract of the tool. A step can open a page, tick a checkbox, choose a
radio button, press a named submit button, or wait — nothing else: no typing, no clicking on an arbitrary
element. Every step is checked when it is built, so a preset or a configuration that would fill a text field,
pick a slot or touch a captcha fails at load time, before any browser is started.

How a runner executes a sequence (the contract the browser layer implements):
- steps run in order; ``GOTO`` loads ``target`` (an http(s) URL), ``WAIT_IDLE`` waits until the page has made
  no request for a moment (a site that answers by a script, with a dialog, has answered then; its target is
  empty), the other actions use ``target`` as a CSS selector (``WAIT_TEXT``: a visible text);
- a step marked ``choice`` is the one that picks the case's counter: the runner records what the site called
  it (the label of the element chosen) and a screenshot of the page at that moment;
- a step with ``when`` runs only if that selector matches something on the current page; otherwise it is
  skipped, which is not a failure;
- a step whose target is missing ends the walk: the page reached at that point is what gets captured and
  classified (an error page, a captcha gate or an unexpected page is evidence too);
- a selector cannot always tell what it designates (``#condition`` could name anything), so before acting the
  runner also checks the element found: a checkbox for ``CHECK``, a radio for ``CHOOSE_RADIO``, a submit button
  for ``CLICK_BUTTON``.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from evidence.errors import BadInput


class StepError(BadInput):
    """A step (or the data it is built from) is outside what the tool is allowed to do."""


class Action(StrEnum):
    """The only operations a step may perform."""

    GOTO = "goto"
    CHECK = "check"
    CHOOSE_RADIO = "choose_radio"
    CLICK_BUTTON = "click_button"
    WAIT_SELECTOR = "wait_selector"
    WAIT_TEXT = "wait_text"
    WAIT_IDLE = "wait_idle"


# Actions that act on the page and the element types each may touch (the runner checks the element found too).
ELEMENT_TYPES: dict[Action, frozenset[str]] = {
    Action.CHECK: frozenset({"checkbox"}),
    Action.CHOOSE_RADIO: frozenset({"radio"}),
    Action.CLICK_BUTTON: frozenset({"submit", "button", "image"}),
}

# Input types into which someone could type (the tool never types) — refused as selector targets.
_TEXT_INPUT_TYPES = frozenset(
    {"text", "email", "tel", "password", "number", "search", "url", "date", "datetime-local", "month",
     "week", "time", "file", "hidden"}
)
_TEXT_TAGS = frozenset({"textarea", "select"})

# Names, ids, classes and paths of slots, captchas and booking completion on the known sites.
_FORBIDDEN_SELECTOR_WORDS = re.compile(
    r"trhId|captcha|hourValueSelect|availabilityColumn|ui-state-default|contenteditable"
    r"|/booking/create/\d+/[5-9]",
    re.IGNORECASE,
)
# Buttons that finish, confirm or book something.
_FORBIDDEN_BUTTON_WORDS = re.compile(r"confirm|valid|r[ée]serv|book|terminer|finish", re.IGNORECASE)
# Request paths that complete a booking on any known site; a GOTO may never open them directly.
_FORBIDDEN_GOTO_PATHS = re.compile(
    r"/booking/create/\d+/[5-9](?:[/?#]|$)|captcha|/(?:informations|confirmation)/", re.IGNORECASE
)

# A restricted CSS grammar: compounds of tag, #id, .class, [attr] and [attr=value], joined by descendant or
# child combinators, alternatives separated by commas. No pseudo-classes, no partial attribute matches, no
# Playwright engines (text=, xpath=, >>, :has-text()).
_IDENT = r"-?[_a-zA-Z][_a-zA-Z0-9-]*"
_VALUE = r"\"[^\"\\\n]*\"|'[^'\\\n]*'|[-_a-zA-Z0-9]+"
_ATTRIBUTE = rf"\[\s*({_IDENT})\s*(?:=\s*({_VALUE})\s*)?\]"
_PART = rf"#{_IDENT}|\.{_IDENT}|{_ATTRIBUTE}"
_COMPOUND = re.compile(rf"(?:({_IDENT}|\*)(?:{_PART})*|(?:{_PART})+)")
_COMBINATOR = re.compile(r"\s*>\s*|\s+")
_ALTERNATIVE = re.compile(r"\s*,\s*")
_ATTRIBUTE_RE = re.compile(_ATTRIBUTE)


@dataclass(frozen=True)
class _Target:
    """The element a compound selector designates: its tag (if named) and its [attr=value] constraints."""

    tag: str | None
    attributes: dict[str, str]


def _target(compound: re.Match[str]) -> _Target:
    attributes = {name.lower(): value.strip("\"'") for name, value in _ATTRIBUTE_RE.findall(compound.group(0))}
    tag = compound.group(1)
    return _Target(tag.lower() if tag and tag != "*" else None, attributes)


def _parse_selector(selector: str) -> list[_Target]:
    """Return the target element of each comma-separated alternative, refusing anything outside the grammar."""
    if not selector.strip() or len(selector) > 300:
        raise StepError(f"Sélecteur vide ou trop long : {selector!r}")
    text = selector.strip()
    targets = []
    position = 0
    while True:
        compound = _COMPOUND.match(text, position)
        if compound is None or compound.end() == position:
            raise StepError(f"Sélecteur refusé (seul un CSS simple est accepté) : {selector!r}")
        position = compound.end()
        if position == len(text):
            targets.append(_target(compound))
            return targets
        if separator := _ALTERNATIVE.match(text, position):
            targets.append(_target(compound))
        elif (separator := _COMBINATOR.match(text, position)) is None:
            raise StepError(f"Sélecteur refusé (seul un CSS simple est accepté) : {selector!r}")
        position = separator.end()


def _check_selector(selector: str) -> list[_Target]:
    """Refuse a selector naming a text field, a slot or a captcha, whatever the action."""
    targets = _parse_selector(selector)
    if _FORBIDDEN_SELECTOR_WORDS.search(selector):
        raise StepError(f"Sélecteur refusé (créneau, captcha ou champ de saisie) : {selector!r}")
    for target in targets:
        if target.tag in _TEXT_TAGS or target.attributes.get("type", "").lower() in _TEXT_INPUT_TYPES:
            raise StepError(f"Sélecteur refusé (champ de saisie) : {selector!r}")
    return targets


def _check_interaction(action: Action, selector: str) -> None:
    targets = _check_selector(selector)
    if len(targets) != 1:
        raise StepError(f"Une action doit viser un seul élément, sans virgule : {selector!r}")
    target = targets[0]
    if target.tag not in (None, "input", "button"):
        raise StepError(f"Action « {action} » refusée sur un élément <{target.tag}> : {selector!r}")
    input_type = target.attributes.get("type")
    if input_type is not None and input_type.lower() not in ELEMENT_TYPES[action]:
        raise StepError(f"Action « {action} » refusée sur un champ de type {input_type!r} : {selector!r}")
    if action is Action.CLICK_BUTTON:
        if target.tag is None and "type" not in target.attributes:
            raise StepError(f"Le bouton doit être désigné comme input ou button : {selector!r}")
        if not ({"name", "value"} & target.attributes.keys()):
            raise StepError(f"Le bouton doit être désigné par son nom ou sa valeur : {selector!r}")
        if _FORBIDDEN_BUTTON_WORDS.search(selector):
            raise StepError(f"Bouton de validation ou de réservation refusé : {selector!r}")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise StepError(f"Adresse refusée (http ou https attendu) : {url!r}")
    if _FORBIDDEN_GOTO_PATHS.search(parts.path + "?" + parts.query):
        raise StepError(f"Adresse refusée (étape de réservation ou de captcha) : {url!r}")


@dataclass(frozen=True)
class Step:
    """One browser operation, validated at construction (see the module docstring for how it runs)."""

    action: Action
    target: str
    description: str = ""
    when: str | None = None
    choice: bool = False

    def __post_init__(self) -> None:
        try:
            action = Action(self.action)
        except ValueError:
            allowed = ", ".join(a.value for a in Action)
            raise StepError(f"Action inconnue {self.action!r} (autorisées : {allowed})") from None
        object.__setattr__(self, "action", action)
        if not isinstance(self.target, str):
            raise StepError(f"Cible invalide pour « {action} » : {self.target!r}")
        if action is Action.GOTO:
            _check_url(self.target)
        elif action is Action.WAIT_TEXT:
            if not self.target.strip() or len(self.target) > 200 or "\n" in self.target:
                raise StepError(f"Texte à attendre vide ou trop long : {self.target!r}")
        elif action is Action.WAIT_SELECTOR:
            _check_selector(self.target)
        elif action is Action.WAIT_IDLE:
            if self.target:
                raise StepError(f"« {action} » n'a pas de cible : {self.target!r}")
        else:
            _check_interaction(action, self.target)
        if self.when is not None:
            _check_selector(self.when)
        if self.choice and action not in (Action.CHECK, Action.CHOOSE_RADIO):
            raise StepError(f"Seul le choix d'une case ou d'un bouton radio peut être le choix du guichet : {action}")
