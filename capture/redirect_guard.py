"""The network guard on redirect hops, which Playwright's `route` never sees.

Playwright gives a route handler the first request of a redirect chain only, then lets Chromium follow the
server's `Location` on its own. Chromium's DevTools `Fetch` domain, though, pauses every hop of the chain (the
paused request names the one whose redirect it follows, `redirectedRequestId`), and several DevTools sessions
may intercept the same requests, each in turn. So the walk opens one session of its own on its page, pauses
each of the page's requests there, and refuses a hop before it leaves the browser (`Fetch.failRequest`,
BlockedByClient, as the guard aborts a first request): the host a redirect points to receives nothing.

First requests are only let through here: `route` (capture/walk.py) judges them, for popups too. The cost is one
round trip to Python for each request of the page (the site's own included), a few milliseconds an attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page


@dataclass(frozen=True)
class RedirectHop:
    """A request the browser was about to make because the server answered `from_url` with a redirect."""

    from_url: str
    to_url: str
    # The page's own address is being redirected (not an image, a script, a frame's document).
    main_document: bool


async def guard_redirects(page: Page, refuses: Callable[[RedirectHop], bool]) -> None:
    """From now on, every redirect hop of `page` is given to `refuses` before it is sent; refused, it fails."""
    session = await page.context.new_cdp_session(page)
    main_frame = (await session.send("Page.getFrameTree"))["frameTree"]["frame"]["id"]
    urls: dict[str, str] = {}  # request id → URL, to name where a redirect came from

    async def answer(event: dict[str, Any]) -> None:
        request_id, url = event["requestId"], event["request"]["url"]
        urls[request_id] = url
        origin = event.get("redirectedRequestId")
        hop = None if origin is None else RedirectHop(
            urls.pop(origin, ""), url, event.get("resourceType") == "Document" and event.get("frameId") == main_frame
        )
        try:
            if hop is not None and refuses(hop):
                await session.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
            else:
                await session.send("Fetch.continueRequest", {"requestId": request_id})
        except PlaywrightError:
            pass  # the page closed meanwhile: the request went with it

    session.on("Fetch.requestPaused", lambda event: asyncio.ensure_future(answer(event)))
    await session.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
