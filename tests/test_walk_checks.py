"""The checks the walk makes before each action, against the simulated site: an absent element stops the walk,
an element of another type ends the attempt, a button whose form holds a text field is never pressed, and an
element the checks and the action could read differently is never acted on, whatever the page's scripts do."""

from __future__ import annotations

import pytest

from capture.platforms import get_platform
from capture.steps import Action, Step
from capture.redirect_guard import guard_redirects
from capture.walk import DevTools, WalkPlan, _act, _AttemptEnded, _element_facts, _ScriptFailed, walk
from evidence.clock import SystemClock


def walk_steps(browser, url: str, platform: str, *steps: Step):
    plan = WalkPlan(
        url=url,
        platform=get_platform(platform),
        steps=(Step(Action.GOTO, url, "ouvrir la page"), *steps),
        timeout_s=20,
        viewport=(1366, 768),
    )
    return browser.run(lambda chromium: walk(chromium, plan, SystemClock()))


def test_an_absent_element_stops_the_walk_there(site, browser):
    url = f"{site.base_url}/booking/create/4963"
    seen = walk_steps(
        browser, url, "ezbooking",
        Step(Action.CHECK, "#absente", "cocher une case absente"),
        Step(Action.CHECK, "#condition", "cocher les conditions"),
    )
    assert seen.steps_done == ("ouvrir la page", "cocher une case absente : élément absent, parcours arrêté")
    assert seen.error is None and seen.screenshot_png is not None


def test_an_element_of_another_type_ends_the_attempt(site, browser):
    url = f"{site.base_url}/booking/create/4963"
    seen = walk_steps(browser, url, "ezbooking", Step(Action.CHECK, 'input[name="nextButton"]', "cocher le bouton"))
    assert seen.error == "élément inattendu pour « cocher le bouton » (type 'submit')"
    assert seen.steps_done == ("ouvrir la page",)


def on_a_page(browser, page_html: str, job):
    """`job(page, devtools)` on a blank page holding `page_html` (the walk opens only http and https addresses, and
    our simulated site has no such pages); returns its result, whether the page has a ticked box, and the requests
    the page sent."""

    async def run(chromium):
        context = await chromium.new_context()
        try:
            page = await context.new_page()
            requests = []
            page.on("request", lambda request: requests.append(request.url))
            await page.set_content(page_html)
            result = await job(page, DevTools(*await guard_redirects(page, lambda hop: False)))
            return result, await page.locator("input:checked").count() > 0, requests
        finally:
            await context.close()

    return browser.run(run)


async def checks_end_the_attempt(page, devtools, step: Step) -> str:
    with pytest.raises(_AttemptEnded) as ended:
        await _element_facts(page, devtools, step)
    return str(ended.value)


def test_a_button_whose_form_holds_a_text_field_is_never_pressed(browser):
    """The check is the walk's own, before its click."""
    form = (
        '<form method="post" action="https://example.invalid/"><input type="text" name="nom">'
        '<input type="submit" name="nextButton" value="Envoyer"></form>'
    )
    step = Step(Action.CLICK_BUTTON, 'input[name="nextButton"]', "envoyer")

    async def act_on_the_form(page, devtools):
        applies, facts = await _element_facts(page, devtools, step)
        assert applies  # no `when` condition
        return await _act(page, step, facts, 5000)

    stop, _, requests = on_a_page(browser, form, act_on_the_form)
    assert stop == "formulaire avec champ de saisie (nom), parcours arrêté"
    assert requests == []  # nothing was sent


def test_an_element_the_checks_could_misread_is_never_acted_on(browser):
    """The checks read the page's first button with the page's own `querySelector`; the click would go to the
    first one Playwright finds, and Playwright also looks inside open shadow roots. Here a shadow root placed
    first holds a button whose form has a text field, and the page's plain button comes after it: the checks
    would pass on the plain one while the click reached the other. Both counts are compared, and nothing is
    done."""
    page_html = (
        '<div id="isolated"></div>'
        '<form method="post" action="https://example.invalid/plain">'
        '<input type="submit" name="nextButton" value="Envoyer"></form>'
        "<script>document.getElementById('isolated').attachShadow({mode: 'open'}).innerHTML ="
        " '<form method=\"post\" action=\"https://example.invalid/shadow\"><input type=\"text\" name=\"nom\">"
        "<input type=\"submit\" name=\"nextButton\" value=\"Envoyer\"></form>';</script>"
    )
    step = Step(Action.CLICK_BUTTON, 'input[name="nextButton"]', "envoyer")

    async def check_the_page(page, devtools):
        return await page.locator(step.target).count(), await checks_end_the_attempt(page, devtools, step)

    (seen_by_playwright, reason), _, requests = on_a_page(browser, page_html, check_the_page)
    assert seen_by_playwright == 2  # the plain button and the isolated one
    assert reason == "élément ambigu pour « envoyer » (partie isolée de la page, ou page en cours de changement)"
    assert requests == []


def test_a_page_script_cannot_hide_a_text_field_from_the_checks(browser):
    """The checks run in a JavaScript world of their own: a page that makes its forms look empty to its own
    scripts does not fool them, and its button is never pressed."""
    page_html = (
        '<form method="post" action="https://example.invalid/"><input type="text" name="nom">'
        '<input type="submit" name="nextButton" value="Envoyer"></form>'
        "<script>Object.defineProperty(HTMLFormElement.prototype, 'elements', {get() { return []; }});</script>"
    )
    step = Step(Action.CLICK_BUTTON, 'input[name="nextButton"]', "envoyer")

    async def act_on_the_form(page, devtools):
        hidden_from_the_page = await page.evaluate("() => document.forms[0].elements.length === 0")
        applies, facts = await _element_facts(page, devtools, step)
        return hidden_from_the_page, await _act(page, step, facts, 5000)

    (hidden_from_the_page, stop), _, requests = on_a_page(browser, page_html, act_on_the_form)
    assert hidden_from_the_page  # the page's own world sees no field
    assert stop == "formulaire avec champ de saisie (nom), parcours arrêté"
    assert requests == []


def test_a_function_that_throws_in_the_page_is_said(browser):
    async def throw(page, devtools):
        with pytest.raises(_ScriptFailed) as failed:
            await devtools.call("(word) => { throw new TypeError(word); }", "refusé")
        return str(failed.value)

    said, _, _ = on_a_page(browser, "<p>page</p>", throw)
    assert said == "TypeError: refusé"
