"""The network guard on redirect hops, which Playwright's `route` never sees.

Playwright gives a route handler the first request of a redirect chain only, then lets Chromium follow the
server's `Location` on its own. Chromium's DevTools `Fetch` domain, though, pauses every hop of the chain (the
paused request names the one whose redirect it follows, `redirectedRequestId`), and several DevTools sessions
may intercept the same requests, each in turn. So the walk opens one session of its own on its page, pauses
each of the page's requests there, and refuses a hop before it leaves the browser (`Fetch.failRequest`,
BlockedByClient, as the guard aborts a first request): the host a redirect points to receives nothing.

First requests are only let through here: `route` (capture/walk.py) judges them, a popup's too; the
hops of a popup or of a dedicated worker do not reach this session, which is the page's (probed). The cost is one
round trip to Python for each request of the page (the site's own included), a few per cent of a one-GET attempt's CPU;
the session itself costs nothing more, since the walk takes its MHTML through it instead of opening another,
and runs its own functions in the page through it (capture/walk.py `DevTools.call`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError


@dataclass(frozen=True)
class RedirectHop:
    """A request the browser was about to make because the server answered `from_url` with a redirect."""

    from_url: str
    to_url: str
    # The page's own address is being redirected (not an image, a script, a frame's document).
    main_document: bool


async def guard_redirects(page: Page, refuses: Callable[[RedirectHop], bool]) -> tuple[CDPSession, str]:
    """From now on, every redirect hop of `page` is given to `refuses` before it is sent; refused, it fails.
    Returns the DevTools session, which the walk uses for its other DevTools calls (the MHTML, its functions run
    in the page), and the id of the page's main frame."""
    session = await page.context.new_cdp_session(page)
    urls: dict[str, str] = {}  # request id → URL, to name where a redirect came from
    main_frame: list[str] = []  # its id, read with the set-up (asked while a hop waits, it never answers)

    async def answer(event: dict[str, Any]) -> None:
        request_id, url = event["requestId"], event["request"]["url"]
        urls[request_id] = url
        origin = event.get("redirectedRequestId")
        try:
            if origin is not None:
                document = event.get("resourceType") == "Document" and event.get("frameId") in main_frame
                if refuses(RedirectHop(urls.pop(origin, ""), url, document)):
                    await session.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
                    return
            await session.send("Fetch.continueRequest", {"requestId": request_id})
        except PlaywrightError:
            pass  # the page closed meanwhile: the request went with it

    # A coroutine handler: Playwright runs it and holds it until it ends (a task started here and held by
    # nobody could be collected before it answered, leaving its request paused until the attempt's limit).
    session.on("Fetch.requestPaused", answer)
    frames, _ = await asyncio.gather(
        session.send("Page.getFrameTree"),
        session.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}),
    )
    main_frame.append(frames["frameTree"]["frame"]["id"])
    return session, main_frame[0]
