"""The checks the walk makes before each action, against the simulated site: an absent element stops the walk,
an element of another type ends the attempt, and a button whose form holds a text field is never pressed."""

from __future__ import annotations

from capture.platforms import get_platform
from capture.steps import Action, Step
from capture.walk import WalkPlan, _act, _element_facts, walk
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


def test_a_button_whose_form_holds_a_text_field_is_never_pressed(browser):
    """The form is set into a blank page (the walk opens only http and https addresses, and our simulated site
    has no such page); the check is the walk's own, before its click."""
    form = (
        '<form method="post" action="https://example.invalid/"><input type="text" name="nom">'
        '<input type="submit" name="nextButton" value="Envoyer"></form>'
    )
    step = Step(Action.CLICK_BUTTON, 'input[name="nextButton"]', "envoyer")

    async def act_on_the_form(chromium):
        context = await chromium.new_context()
        page = await context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        await page.set_content(form)
        applies, facts = await _element_facts(page, step)
        assert applies  # no `when` condition
        stop = await _act(page, step, facts, 5000)
        await context.close()
        return stop, requests

    stop, requests = browser.run(act_on_the_form)
    assert stop == "formulaire avec champ de saisie (nom), parcours arrêté"
    assert requests == []  # nothing was sent
