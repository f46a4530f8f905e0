"""Which requests the walk's network guard is given: the browser side picks them (Playwright's driver matches the
guard's pattern in JavaScript), so every request the guard must stop has to match there, as JavaScript reads it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from capture.platforms import PLATFORMS
from capture.walk import _Network

RDVPREF = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4443/"
# The site's own pages and assets, the platforms' completion requests, and addresses that only look like the site.
URLS = (
    "http://127.0.0.1:5555/booking/create/4963",
    "http://127.0.0.1:5555/booking/create/4963/2",
    "http://127.0.0.1:5555/static/style.css",
    "http://127.0.0.1/booking/create/1234/5/1650000000",
    "http://127.0.0.1:5555/booking/create/1234/6",
    "http://127.0.0.1:5555/ezjscore/call/bookingserver::captcha::11343",
    "http://127.0.0.1:5555/rdvpref/reservation/demarche/77/_validerCaptcha",
    "http://127.0.0.1:5555/rdvpref/reservation/demarche/77/informations/",
    "http://127.0.0.1:5555/eAppointmentpref94/dwr/call/plaincall/AjaxAppointment.confirmAppointment.dwr",
    "http://127.0.0.1:5555/users/rdvs",
    "http://127.0.0.1.evil.test/booking/create/4963",
    "http://127.0.0.1:5555@evil.test/booking/create/4963",
    "http://localhost:5555/booking/create/4963",
    "https://evil.test/?next=http://127.0.0.1:5555/",
    "ws://127.0.0.1:5555/socket",
    "https://www.val-doise.gouv.fr/booking/create/11343",
    "https://www.val-doise.gouv.fr/booking/create/11343/5/1650000000",
    "https://www.essonne.gouv.fr/ezjscore/call/bookingserver::captcha::11343",
    "https://static.interieur.gouv.fr/dsfr.css",
    "https://gouv.fr/",
    "https://www.val-doise.gouv.fr.evil.test/booking/create/11343",
    "https://evil.test/www.val-doise.gouv.fr/",
    "https://WWW.VAL-DOISE.GOUV.FR/BOOKING/CREATE/11343/6",
    RDVPREF + "creneau/",
    RDVPREF + "_validerCaptcha",
    RDVPREF + "confirmation/",
    "https://rdv.anct.gouv.fr/prendre_rdv?departement=95",
    "https://rdv.anct.gouv.fr/users/rdv_wizard_step/new",
    "data:image/png;base64,iVBORw0KGgo=",
)
SITES = ("http://127.0.0.1:5555/booking/create/4963", "https://www.val-doise.gouv.fr/booking/create/11343", RDVPREF,
         "https://rdv.anct.gouv.fr/prendre_rdv", "http://[::1]:5555/booking/create/4963")


def guard(platform: str, site_url: str) -> _Network:
    return _Network(PLATFORMS[platform], urlsplit(site_url).hostname or "", allow_captcha=False)


@pytest.fixture(scope="module")
def matched_in_javascript(browser) -> dict[tuple[str, str], dict[str, bool]]:
    """{(platform, site): {url: matched}}: every guard's pattern applied to every URL by Chromium's JavaScript,
    all in one page (a page each cost the module about twenty seconds)."""
    patterns = {(platform, site_url): guard(platform, site_url).interception_pattern()
                for platform in PLATFORMS for site_url in SITES}

    async def match_all(chromium):
        context = await chromium.new_context()
        try:
            page = await context.new_page()
            return await page.evaluate(
                "([patterns, urls]) => patterns.map(([source, flags]) =>"
                " urls.map(url => new RegExp(source, flags).test(url)))",
                # re.IGNORECASE, the one flag a pattern carries
                [[[pattern.pattern, "i" if pattern.flags & 2 else ""] for pattern in patterns.values()], list(URLS)],
            )
        finally:
            await context.close()

    matched = browser.run(match_all)
    return {key: dict(zip(URLS, row, strict=True)) for key, row in zip(patterns, matched, strict=True)}


@pytest.mark.parametrize("site_url", SITES)
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_request_the_guard_must_stop_is_given_to_it(
    matched_in_javascript: dict[tuple[str, str], dict[str, bool]], platform: str, site_url: str
) -> None:
    network = guard(platform, site_url)
    pattern = network.interception_pattern()
    in_javascript = matched_in_javascript[platform, site_url]
    for url in URLS:
        if network.refuses(url):  # the guard's own decision, for first requests and redirect hops alike
            assert in_javascript[url], url
        assert in_javascript[url] == bool(pattern.search(url)), url  # the two engines read it alike
    if network.site_host == "::1":  # not a plain host name: every request is given to the guard
        assert all(in_javascript.values())
        return
    # The point of the pattern: the site's own requests are not sent to Python.
    own = [
        url for url in URLS
        if url.startswith("http") and urlsplit(url).hostname == network.site_host and not network.is_completion(url)
    ]
    assert own and not any(in_javascript[url] for url in own)
