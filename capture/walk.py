"""One walk through a booking site in a fresh browser context, returning what was seen.

The walk performs only the declared steps (see `steps.py`). Requests to booking-completion paths
are aborted at the network layer and end the attempt; requests to other hosts than the booking
site are aborted too (no tracker, no third party learns of the attempt). A server's redirect is
judged the same way, hop by hop (`redirect_guard.py`); a refused redirect of the page itself ends
the attempt. Dialogs are dismissed (« leave this page? » is accepted) and their messages kept (a
site may say « no slot » only in an alert()), downloads refused, popups closed. Whatever happens —
a hang, a crash, a blocked request — the page as it stands is still recorded, and the failure is
said in `error`.

Besides the page, the walk notes what only the live page can tell: the server's `Date` header with
our clock's reading when it arrived, the label of the counter chosen (and a screenshot of that step),
and where the decisive text sits in the full-page screenshot.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, CDPSession, Dialog, Frame, Page, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from capture.platforms import Platform
from capture.redirect_guard import RedirectHop, guard_redirects
from capture.rules import Decisive
from capture.steps import ELEMENT_TYPES, Action, Step
from evidence.clock import Clock
from evidence.net_errors import french_net_error

# Time kept back from the attempt's limit to record the page after a failure.
RECORDING_RESERVE_S = 8
# Time kept back to record the page a second time, when it was replaced during the first recording.
SETTLE_RETRY_S = 2
# A page may open dialogs without end: the first ones are kept, the others only dismissed.
MAX_DIALOGS_KEPT = 20
# A host name written the one way a canonical URL writes it (an IPv6 address or anything else is not).
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+")

T = TypeVar("T")


@dataclass(frozen=True)
class WalkPlan:
    url: str
    platform: Platform
    steps: tuple[Step, ...]
    timeout_s: int
    viewport: tuple[int, int]
    assisted: bool = False
    # Assisted walks end when this says the page shown is a final state (no slot, slots, error).
    is_final: Callable[[str, str], bool] | None = None
    # Where the decisive text of a recorded page (html, url, HTTP status) sits, to measure its box.
    find_decisive: Callable[[str, str | None, int | None], Decisive | None] | None = None


@dataclass(frozen=True)
class PageSnapshot:
    """A page as it was shown: used for the intermediate pages of an assisted capture."""

    url: str
    screenshot_png: bytes
    html: str


@dataclass(frozen=True)
class DialogSeen:
    """A JavaScript dialog the page opened, when, and over which address."""

    type: str
    message: str
    shown_at: datetime
    url: str


@dataclass(frozen=True)
class ChoiceSnapshot:
    """The page at the step that picked the counter, and the counter's label as the site displayed it."""

    url: str
    screenshot_png: bytes | None
    html: str | None
    counter_label: str | None


@dataclass(frozen=True)
class Observation:
    """Everything one walk saw. Values only: recording is someone else's job."""

    started_at: datetime
    finished_at: datetime
    url_requested: str
    final_url: str | None
    http_status: int | None
    server_date: str | None
    screenshot_png: bytes | None
    html: str | None
    mhtml: bytes | None
    har: bytes | None
    steps_done: tuple[str, ...]
    blocked_requests: tuple[str, ...]
    offsite_requests: tuple[str, ...]
    error: str | None
    # Redirect hops the guard refused (their target is also in `blocked_requests` or `offsite_requests`).
    refused_redirects: tuple[RedirectHop, ...] = ()
    earlier_pages: tuple[PageSnapshot, ...] = ()
    # The URL of the last document received, when the address shown differs (a script rewrote it
    # with the history API, or the browser shows its own error page).
    document_url: str | None = None
    # Our clock when the response carrying `server_date` arrived.
    server_date_received_at: datetime | None = None
    dialogs: tuple[DialogSeen, ...] = ()
    choice: ChoiceSnapshot | None = None
    # x, y, width, height in the full-page screenshot of the decisive text `located`.
    decisive_box: tuple[int, int, int, int] | None = None
    located: Decisive | None = None


class _ScriptFailed(Exception):
    """A function the walk ran in the page threw (its first line, as JavaScript said it)."""


@dataclass(frozen=True)
class DevTools:
    """The walk's own DevTools session on its page (opened by the redirect guard), and the page's main frame."""

    session: CDPSession
    main_frame_id: str

    async def call(self, function: str, *args: Any) -> Any:
        """`function(*args)` run in the page's current document, its result returned by value (JSON).

        It runs in a JavaScript world of its own, made for this call: it sees the page's elements, but none of
        the page's scripts, so a page cannot change what the walk's checks read (by replacing `querySelector`,
        say). `page.evaluate` runs in the page's own world, and loads Playwright's serialiser into each new
        page first, about 15 ms a page. Raises _ScriptFailed if the function throws."""
        world = await self.session.send(
            "Page.createIsolatedWorld", {"frameId": self.main_frame_id, "worldName": "preuves-rdv"}
        )
        answer = await self.session.send("Runtime.evaluate", {
            "expression": f"({function})({', '.join(json.dumps(arg) for arg in args)})",
            "contextId": world["executionContextId"],
            "returnByValue": True,
        })
        if "exceptionDetails" in answer:
            failure = answer["exceptionDetails"].get("exception", {}).get("description") or "erreur inconnue"
            raise _ScriptFailed(failure.splitlines()[0])
        return answer["result"].get("value")


class _AttemptEnded(Exception):
    """The walk must stop here (a forbidden request was attempted)."""


@dataclass
class _Network:
    """What the network layer saw and refused during the walk."""

    platform: Platform
    site_host: str
    allow_captcha: bool
    blocked: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    redirects: list[RedirectHop] = field(default_factory=list)
    status: int | None = None
    server_date: str | None = None
    server_date_received_at: datetime | None = None
    document_url: str | None = None
    dialogs: list[DialogSeen] = field(default_factory=list)
    choice: ChoiceSnapshot | None = None

    def allowed_host(self, host: str) -> bool:
        if host == self.site_host:
            return True
        # Official sites load their assets from sibling hosts (*.interieur.gouv.fr …).
        return self.site_host.endswith(".gouv.fr") and host.endswith(".gouv.fr")

    def interception_pattern(self) -> re.Pattern[str]:
        """The requests `route` is given: every one to another host than the booking site's (and its sibling
        hosts), and every one a completion pattern matches; `route` decides for each. Playwright's driver
        matches this pattern (the same source, run by JavaScript, which reads it as Python does on the ASCII of
        a canonical URL), so the site's own other requests go on without a round trip to Python."""
        if not _PLAIN_HOST.fullmatch(self.site_host):
            return re.compile("^")  # every request
        hosts = r"(?:[a-z0-9-]+\.)+gouv\.fr" if self.site_host.endswith(".gouv.fr") else re.escape(self.site_host)
        sources = (rf"^(?!https?://{hosts}(?::\d+)?/)", *(p.pattern for p in self.platform.blocked_paths))
        return re.compile("|".join(f"(?:{source})" for source in sources), re.IGNORECASE)

    def refuses(self, url: str) -> bool:
        """Whether the guard stops a request to `url`, noting it with the completion or the off-site ones."""
        if url.startswith(("data:", "blob:")):
            return False
        if self.is_completion(url):
            self.blocked.append(url)
        elif not self.allowed_host((urlsplit(url).hostname or "").lower()):
            self.offsite.append(url)
        else:
            return False
        return True

    def refuses_redirect(self, hop: RedirectHop) -> bool:
        if not self.refuses(hop.to_url):
            return False
        self.redirects.append(hop)
        return True

    def stop_reason(self) -> str | None:
        """Why the walk must end now: a completion request was attempted, or the page itself was redirected
        where the guard refuses to go."""
        if self.blocked:
            return f"requête de réservation bloquée : {self.blocked[0]}"
        refused = next((hop for hop in self.redirects if hop.main_document), None)
        if refused is not None:
            return f"redirection vers un autre site refusée : {refused.to_url} (demandée par {refused.from_url})"
        return None

    def is_completion(self, url: str) -> bool:
        if not self.platform.is_blocked(url):
            return False
        # A person in an assisted capture may answer a captcha; booking itself stays blocked.
        return not (self.allow_captcha and "captcha" in url.lower())


async def walk(browser: Browser, plan: WalkPlan, clock: Clock) -> Observation:
    started_at = clock.now()
    network = _Network(plan.platform, (urlsplit(plan.url).hostname or "").lower(), plan.assisted)
    steps_done: list[str] = []
    earlier: list[PageSnapshot] = []
    error: str | None = None
    with tempfile.TemporaryDirectory(prefix="preuves-har-") as tmp:
        har_path = Path(tmp) / "attempt.har"
        context = await browser.new_context(
            viewport={"width": plan.viewport[0], "height": plan.viewport[1]},
            locale="fr-FR",
            timezone_id="Europe/Paris",
            accept_downloads=False,
            service_workers="block",
            record_har_path=har_path,
            record_har_content="omit",
        )
        page, devtools = await _prepare(context, network, clock)
        loop = asyncio.get_running_loop()
        reserve = min(RECORDING_RESERVE_S, plan.timeout_s / 3)
        deadline = loop.time() + plan.timeout_s
        budget = plan.timeout_s - reserve
        try:
            walk_steps = _run_steps(page, devtools, plan.steps, steps_done, network, budget)
            await asyncio.wait_for(walk_steps, timeout=budget)
            if plan.assisted and plan.is_final is not None:
                person = _wait_for_person(page, plan.is_final, network, earlier)
                await asyncio.wait_for(person, timeout=deadline - reserve - loop.time())
        # Each step may take the whole budget, so Playwright's own timeout and ours can fire
        # together on the first step; both mean the same thing.
        except (TimeoutError, PlaywrightTimeout):
            error = f"délai dépassé : la page n'a pas répondu en {round(budget)} s"
        except _AttemptEnded as stop:
            error = str(stop)
        except PlaywrightError as exc:  # the guard's own refusal, if any, is the cause
            error = network.stop_reason() or french_net_error(_first_line(exc))
        recorded = await _record_page(page, devtools, deadline)
        located, box = await _decisive_box(page, devtools, recorded, plan, network.status, deadline)
        if error is None:
            error = network.stop_reason()
        if recorded.screenshot is None and error is None:
            if not page.is_closed():
                error = "capture d'écran impossible dans le délai de la tentative"
            elif plan.assisted:
                kept = " : les pages vues sont gardées" if earlier else ""
                error = f"fenêtre fermée avant la page finale{kept}"
            else:
                error = "la page s'est fermée d'elle-même"
        try:
            await asyncio.wait_for(context.close(), timeout=max(deadline - loop.time(), 1))
            har = har_path.read_bytes() if har_path.exists() else None
        except (TimeoutError, PlaywrightError):
            har = None
    return Observation(
        started_at=started_at,
        finished_at=clock.now(),
        url_requested=plan.url,
        final_url=recorded.url,
        http_status=network.status,
        server_date=network.server_date,
        screenshot_png=recorded.screenshot,
        html=recorded.html,
        mhtml=recorded.mhtml,
        har=har,
        steps_done=tuple(steps_done),
        blocked_requests=tuple(network.blocked),
        offsite_requests=tuple(network.offsite),
        error=error,
        refused_redirects=tuple(network.redirects),
        earlier_pages=tuple(earlier),
        document_url=network.document_url if network.document_url != recorded.url else None,
        server_date_received_at=network.server_date_received_at,
        dialogs=tuple(network.dialogs),
        choice=network.choice,
        decisive_box=box,
        located=located if box else None,
    )


async def _prepare(context: BrowserContext, network: _Network, clock: Clock) -> tuple[Page, DevTools]:
    """The walk's page, every guard and listener in place, and its DevTools session."""

    async def route(route_request) -> None:  # type: ignore[no-untyped-def]
        if network.refuses(route_request.request.url):
            await route_request.abort("blockedbyclient")
        else:
            await route_request.continue_()

    await context.route(network.interception_pattern(), route)
    page = await context.new_page()
    devtools = DevTools(*await guard_redirects(page, network.refuses_redirect))

    def on_response(response: Response) -> None:
        if response.request.is_navigation_request() and response.frame == page.main_frame:
            network.status = response.status
            network.server_date = response.headers.get("date")
            network.server_date_received_at = clock.now()
            network.document_url = response.url

    # The handlers below return what they start: Playwright then runs it and holds it until it ends (a task
    # held by nobody may be collected before it ends).
    def on_dialog(dialog: Dialog) -> Awaitable[None]:
        if dialog.type != "beforeunload" and len(network.dialogs) < MAX_DIALOGS_KEPT:
            network.dialogs.append(DialogSeen(dialog.type, dialog.message, clock.now(), page.url))
        # Dismissed (never confirm, never type into a prompt), except « leave this page? »: leaving
        # is what the walk's own click asked for, and staying would silently end the walk there.
        return dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss()

    page.on("response", on_response)
    page.on("dialog", on_dialog)
    # Popups are refused: any page other than ours is closed at once.
    context.on("page", lambda other: other.close() if other != page else None)
    return page, devtools


async def _run_steps(
    page: Page, devtools: DevTools, steps: tuple[Step, ...], done: list[str], network: _Network, budget_s: float
) -> None:
    timeout_ms = budget_s * 1000
    for step in steps:
        if reason := network.stop_reason():
            raise _AttemptEnded(reason)
        facts = None
        if step.action in ELEMENT_TYPES:
            applies, facts = await _element_facts(page, devtools, step)
        else:
            applies = step.when is None or await page.locator(step.when).count() > 0
        if not applies:
            continue
        if step.action is Action.GOTO:
            await page.goto(step.target, wait_until="load", timeout=timeout_ms)
        elif step.action is Action.WAIT_IDLE:
            await page.wait_for_load_state("networkidle", timeout=timeout_ms)
        elif step.action is Action.WAIT_SELECTOR:
            await page.wait_for_selector(step.target, timeout=timeout_ms)
        elif step.action is Action.WAIT_TEXT:
            await page.get_by_text(step.target).first.wait_for(timeout=timeout_ms)
        elif stop_reason := await _act(page, step, facts, timeout_ms):
            done.append(f"{step.description} : {stop_reason}")
            return
        elif step.choice:
            network.choice = await _choice_snapshot(page, facts["label"] if facts else None, timeout_ms)
        done.append(step.description)
    if reason := network.stop_reason():
        raise _AttemptEnded(reason)


# What the checks before an action need of its element (the first `target` in the page), read without waiting
# for it: null when absent, else how many elements `target` matches, the first one's type and the fields of its
# form that would carry typed text (or a captcha answer) if the form were submitted; for the step that picks the
# counter (`withLabel`), the label the site shows for it too: its <label for=…>, else the label around it.
_ELEMENT_FACTS = """(target, withLabel) => {
  const e = document.querySelector(target);
  if (!e) return null;
  const textFields = e.form ? Array.from(e.form.elements).filter(f =>
    f.tagName === 'TEXTAREA' || (f.tagName === 'INPUT' &&
    !['hidden', 'checkbox', 'radio', 'submit', 'button', 'image', 'reset'].includes(f.type))
  ).map(f => f.name || f.id || f.tagName.toLowerCase()) : [];
  const label = withLabel ? ((e.labels && e.labels[0]) || e.closest('label')) : null;
  return {matches: document.querySelectorAll(target).length, kind: (e.type || '').toLowerCase(), textFields,
          label: label ? label.innerText : null};
}"""


async def _element_facts(page: Page, devtools: DevTools, step: Step) -> tuple[bool, dict[str, Any] | None]:
    """Whether an action's step applies (its `when` condition) and the facts of its element (_ELEMENT_FACTS), all
    read from the page as it stands, the requests sent together (one round trip's wait).

    The facts are read by the browser's own `querySelector`, in a world of their own (`DevTools.call`): a
    locator's `evaluate_all` would load Playwright's selector engine into each new page's own world, about 40 ms a
    page that the action itself, run in Playwright's isolated world, does not need. Playwright's engine also looks
    into a page's isolated parts (open shadow roots), where `querySelector` does not, so the element checked might
    not be the one the action reaches: both count the elements, and if they disagree the attempt ends there."""
    reads = [devtools.call(_ELEMENT_FACTS, step.target, step.choice), page.locator(step.target).count()]
    if step.when is not None:
        reads.append(page.locator(step.when).count())
    try:
        facts, matches, *condition = await asyncio.gather(*reads)
    except _ScriptFailed as failure:
        raise _AttemptEnded(f"élément illisible pour « {step.description} » : {failure}") from None
    applies = not condition or condition[0] > 0
    if applies and (facts["matches"] if facts else 0) != matches:
        raise _AttemptEnded(f"élément ambigu pour « {step.description} » (partie isolée de la page, ou page en "
                            "cours de changement)")
    return applies, facts


async def _act(page: Page, step: Step, facts: dict[str, Any] | None, timeout_ms: float) -> str | None:
    """Tick, choose or press one element, whose `facts` were just read. Returns why the walk must stop here,
    or None."""
    if facts is None:
        return "élément absent, parcours arrêté"
    element = page.locator(step.target).first
    kind = facts["kind"]
    if kind not in ELEMENT_TYPES[step.action]:
        raise _AttemptEnded(f"élément inattendu pour « {step.description} » (type {kind!r})")
    if step.action is Action.CLICK_BUTTON:
        text_fields = facts["textFields"]
        if text_fields:
            # Submitting would send a text field (a captcha answer, personal data): never.
            return f"formulaire avec champ de saisie ({', '.join(text_fields)}), parcours arrêté"
        await element.click(timeout=timeout_ms)
        await page.wait_for_load_state("load", timeout=timeout_ms)
    else:
        await element.check(timeout=timeout_ms)
    return None


async def _choice_snapshot(page: Page, label: str | None, timeout_ms: float) -> ChoiceSnapshot:
    """The page as it stands once the counter is chosen (before going on), and the counter's `label` (read with
    the element's facts). A part that cannot be read is missing from the snapshot; the walk goes on."""
    screenshot = await _or_none(page.screenshot(full_page=True, timeout=timeout_ms))
    html = await _or_none(page.content())
    return ChoiceSnapshot(page.url, screenshot, html, " ".join(label.split()) if label else None)


async def _or_none(job: Awaitable[T]) -> T | None:
    try:
        return await job
    except PlaywrightError:
        return None


# The box, in page pixels, of the decisive text (its text node, else the smallest shown element under
# the region that holds all of it) or of the decisive elements (all of them). Text is compared without
# spaces or case: the page's layout (line breaks, text-transform) changes neither.
_DECISIVE_BOX = r"""([region, elements, text]) => {
  const squash = s => (s || '').replace(/\s+/g, '').toLowerCase();
  const shown = e => { const r = e.getBoundingClientRect(), st = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none'; };
  const wanted = squash(text);
  let boxes = [];
  for (const area of document.querySelectorAll(region)) {
    if (!shown(area)) continue;
    if (elements) {
      boxes = Array.from(area.querySelectorAll(elements)).filter(shown).map(e => e.getBoundingClientRect());
    } else if (squash(area.innerText).includes(wanted)) {
      let best = area, deeper = true;
      while (deeper) {
        deeper = false;
        for (const child of best.children) {
          if (shown(child) && squash(child.innerText).includes(wanted)) { best = child; deeper = true; break; }
        }
      }
      boxes = [best.getBoundingClientRect()];
      for (const node of best.childNodes) {  // the text alone, when one text node holds it all
        if (node.nodeType === Node.TEXT_NODE && squash(node.textContent).includes(wanted)) {
          const range = document.createRange();
          range.selectNodeContents(node);
          boxes = [range.getBoundingClientRect()];
          break;
        }
      }
    }
    if (boxes.length) break;
  }
  if (!boxes.length) return null;
  const left = Math.min(...boxes.map(b => b.left)), top = Math.min(...boxes.map(b => b.top));
  const right = Math.max(...boxes.map(b => b.right)), bottom = Math.max(...boxes.map(b => b.bottom));
  return [Math.round(left + window.scrollX), Math.round(top + window.scrollY),
          Math.round(right - left), Math.round(bottom - top)];
}"""


async def _decisive_box(
    page: Page, devtools: DevTools, recorded: _Recording, plan: WalkPlan, status: int | None, deadline: float
) -> tuple[Decisive | None, tuple[int, int, int, int] | None]:
    """Where the decisive text of the recorded page is, measured in the same page (never another one)."""
    if plan.find_decisive is None or recorded.html is None or page.is_closed() or page.url != recorded.url:
        return None, None
    decisive = plan.find_decisive(recorded.html, recorded.url, status)
    if decisive is None:
        return None, None
    measure = devtools.call(_DECISIVE_BOX, [decisive.region, decisive.elements, decisive.text])
    try:
        box = await _before(measure, deadline)
    except _ScriptFailed:
        return None, None
    return decisive, (box[0], box[1], box[2], box[3]) if box else None


async def _wait_for_person(
    page: Page, is_final: Callable[[str, str], bool], network: _Network, earlier: list[PageSnapshot]
) -> None:
    """Assisted capture: keep every page the person goes through, as it was first shown, until a
    final one (recorded afterwards like any attempt's page), a blocked request, or the end of the
    window (closed by the person, or its tab crashed)."""
    crashed = asyncio.Event()
    page.on("crash", lambda _: crashed.set())
    shown: PageSnapshot | None = None  # the page on screen, not yet kept
    while not (page.is_closed() or crashed.is_set()):
        if reason := network.stop_reason():
            raise _AttemptEnded(reason)
        try:
            await page.wait_for_load_state("load")
            url = page.url
            html = await page.content()
            if shown is None or url != shown.url:
                screenshot = await page.screenshot(full_page=True)
                if page.url == url:  # otherwise the page changed meanwhile: read it again
                    if shown is not None:
                        earlier.append(shown)
                    shown = PageSnapshot(url, screenshot, html)
        except PlaywrightError:
            # The page was being replaced (the person's click is loading), or the window closed.
            await asyncio.sleep(0.5)
            continue
        if shown is not None and shown.url == url and is_final(html, url):
            return
        await asyncio.sleep(0.5)
    if shown is not None:
        earlier.append(shown)  # no final page: the last one shown is kept with the others


@dataclass(frozen=True)
class _Recording:
    url: str | None
    screenshot: bytes | None
    html: str | None
    mhtml: bytes | None

    @property
    def complete(self) -> bool:
        return None not in (self.screenshot, self.html, self.mhtml)


async def _record_page(page: Page, devtools: DevTools, deadline: float) -> _Recording:
    """Screenshot, DOM and MHTML of the page as it stands, all before the attempt's deadline.

    A page may replace itself while it is recorded (a script's redirect, the error page of a
    blocked request): Chromium then refuses the screenshot or the DOM, or never finishes it, or the
    three files would show two different documents. The page is then recorded once more, after it
    has settled, with the time kept back for that.
    """
    if page.is_closed():
        return _Recording(None, None, None, None)
    navigations = 0

    def on_navigation(frame: Frame) -> None:
        nonlocal navigations
        navigations += frame == page.main_frame

    page.on("framenavigated", on_navigation)
    try:
        keep_back = SETTLE_RETRY_S if _seconds_left(deadline) > 2 * SETTLE_RETRY_S else 0
        recording = await _record_document(page, devtools, deadline - keep_back)
        unsettled = navigations or not recording.complete
        if unsettled and not page.is_closed() and _seconds_left(deadline) >= 1:
            await _before(page.wait_for_load_state("load"), deadline)
            second = await _record_document(page, devtools, deadline)
            if second.screenshot is not None or recording.screenshot is None:
                recording = second
    finally:
        page.remove_listener("framenavigated", on_navigation)
    return recording


async def _record_document(page: Page, devtools: DevTools, deadline: float) -> _Recording:
    url = page.url
    # Playwright's own timeout as well as ours: a screenshot left running in the browser would hold
    # up the next one (a page's screenshots are taken one at a time).
    timeout_ms = max(_seconds_left(deadline), 0.5) * 1000
    screenshot = await _before(page.screenshot(full_page=True, timeout=timeout_ms), deadline)
    html = await _before(page.content(), deadline)
    snapshot = await _before(devtools.session.send("Page.captureSnapshot", {"format": "mhtml"}), deadline)
    mhtml = snapshot["data"].encode("utf-8") if snapshot else None
    return _Recording(url, screenshot, html, mhtml)


async def _before(job: Awaitable[T], deadline: float) -> T | None:
    """The job's result, or None if it fails or would end after the deadline."""
    try:
        return await asyncio.wait_for(job, timeout=max(_seconds_left(deadline), 0.5))
    except (TimeoutError, PlaywrightError):
        return None


def _seconds_left(deadline: float) -> float:
    return deadline - asyncio.get_running_loop().time()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
