"""The demonstration's scripted person: in an accompanied attempt of `preuves demo`, it does what a
person does in the window the tool opened — types the security code and presses « Suivant ».

It is the only product code that knows a captcha's answer, and it is not a solver: it asks the
simulated site's own test control (`simsite.rdvpref.captcha_code`, the code the simulated site put in
its image), never reads the image, and acts on the local simulated site only. A test checks that
nothing else in the product touches the answer (tests/test_no_captcha_solving.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, Page

from capture.chromium import BrowserService
from simsite.rdvpref import captcha_code

Person = Callable[[Browser], Awaitable[None]]
WINDOW_WAIT_S = 30  # a loaded machine is slow to open a window
READING_S = 0.5  # a person reading the security code: far less than anyone takes, more than the tool needs


async def captcha_page(chromium: Browser) -> Page:
    """The page the tool opened, once it shows the captcha form."""
    for _ in range(WINDOW_WAIT_S * 10):
        pages = [page for context in chromium.contexts for page in context.pages]
        if pages and "/cgu/" in pages[0].url:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the captcha page never opened in the tool's window")
    await pages[0].wait_for_selector("#captchaFormulaireExtInput")
    return pages[0]


async def person_solves_the_captcha(chromium: Browser) -> None:
    """Type the code the simulated site drew for this page's captcha, press « Suivant »."""
    page = await captcha_page(chromium)
    # As a person does: the code is read once its image has loaded, which takes a moment. Typed at once, it
    # could leave the page before the tool had kept it (seen under load: an attempt without its captcha page).
    await page.wait_for_load_state("load")
    await asyncio.sleep(READING_S)
    captcha_id = await page.get_attribute('input[name="captchaId"]', "value")
    await page.fill("#captchaFormulaireExtInput", captcha_code(captcha_id or ""))
    await page.click('button[formaction*="_validerCaptcha"]')


def person_acts(browser: BrowserService, person: Person = person_solves_the_captcha) -> threading.Thread:
    """Start the person, who acts in the browser once the tool's attempt has begun there (on the browser
    that attempt holds, even if it was just started afresh)."""

    def act() -> None:
        deadline = time.monotonic() + WINDOW_WAIT_S
        while not browser.attempts_in_progress:
            if time.monotonic() > deadline:
                return  # the tool never opened its page: nothing to act on
            time.sleep(0.05)
        browser.beside(person)

    acting = threading.Thread(target=act, name="demo-person", daemon=True)
    acting.start()
    return acting
