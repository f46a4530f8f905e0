"""The simulated site's newer pages, over real HTTP with urllib: RDV Préfecture's slot page in every variant,
RDV Service Public, eAppointment, and what stands in front of any platform (Cloudflare, proxies, maintenance)."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simsite import rdvpref
from simsite.cloudflare import BLOCKED_HEADLINE, CHALLENGE_TEXT, RATE_LIMITED_HEADLINE
from simsite.eappointment import AVAILABILITY_PATH, NOSLOT_DIALOG, PAGE_PATH
from simsite.server import MODES, SimulatedSite
from tests.test_simsite import DEMARCHE, Browser, browser, elements, site, visible_text  # noqa: F401

CRENEAU = DEMARCHE + "/creneau/"
SEARCH = "/prendre_rdv?public_link_organisation_id=2458"
EVERY_PLATFORM = ("/booking/create/11343", DEMARCHE + "/cgu/", CRENEAU, SEARCH, PAGE_PATH)


# ---------------------------------------------------------------------------------- RDV Préfecture variants


def messages(markup: str) -> list[str]:
    """The component's messages: the text of each ``div.text-center.q-pa-md``."""
    return [" ".join(re.sub(r"<[^>]+>", " ", m).split())
            for m in re.findall(r'<div class="text-center q-pa-md">(.*?)</div>', markup, flags=re.S)]


@pytest.mark.parametrize(
    ("mode", "expected", "slots"),
    [
        ("noslot", ["Aucun créneau disponible à partir de cette date. Veuillez réessayer ultérieurement."], 0),
        ("noslot_week", ["Aucun créneau disponible sur cette semaine"], 0),
        ("noslot_unpublished", ["Veuillez réessayer ultérieurement."], 0),
        ("slots_later_week", ["Aucun créneau disponible sur cette semaine", "Prochaine disponibilité le "], 0),
        ("slots", [], 3),
        ("slots_mobile", [], 3),
    ],
)
def test_rdvpref_slot_page_variants(site: SimulatedSite, browser: Browser, mode: str, expected: list[str],
                                    slots: int) -> None:
    site.mode = mode
    page = browser.open(CRENEAU)
    shown = [m for m in messages(page.text) if not m.startswith(("Prochaine mise en ligne", "Dernière mise"))]
    assert [m[: len(e)] for m, e in zip(shown, expected, strict=True)] == expected
    assert len(elements(page.text, "input", name="trhId")) == slots
    assert all(card["class"].endswith("radio-card") for card in elements(page.text, "li") if "class" in card)
    assert elements(page.text, "h1", id="demarche-titre")


def test_rdvpref_mobile_list_opens_only_the_first_day_with_slots(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots_mobile"
    page = browser.open(CRENEAU)
    contents = elements(page.text, "div", class_="q-expansion-item__content")
    assert len(contents) == 5 and sum("style" not in c for c in contents) == 1
    assert not elements(page.text, "li", class_="row cellule justify-center radio-card")


@pytest.mark.parametrize("mode", ["noslot", "noslot_unpublished"])
def test_rdvpref_announces_the_next_publication(site: SimulatedSite, browser: Browser, mode: str) -> None:
    site.mode = mode
    announced = rdvpref.next_release(datetime.now(UTC).date())
    text = visible_text(browser.open(CRENEAU).text)
    assert f"Prochaine mise en ligne de nouveaux rendez-vous : le {announced:%d/%m/%Y à %H:%M}" in text
    assert (announced.weekday(), announced.hour, str(announced.tzinfo)) == (0, 14, "Europe/Paris")
    assert "Dernière mise en ligne de rendez-vous : le " in text


# ------------------------------------------------------------------------------------- RDV Service Public


def test_rdvsp_invitation_wording(browser: Browser) -> None:
    text = visible_text(browser.open(SEARCH + "&invitation_token=abc").text)
    assert "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé." in text


def test_rdvsp_place_choice_and_later_week(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots"
    places = visible_text(browser.open(SEARCH).text)
    assert "2 lieux sont disponibles" in places and places.count("Prochaine disponibilité le ") == 2
    site.mode = "slots_later_week"
    week = browser.open(SEARCH + "&lieu_id=1")
    assert "rdv_wizard_step" not in week.text
    assert re.search(r"Prochaine disponibilité le \w+ \d{1,2} \w+ \d{4} à 09h00", visible_text(week.text))


@pytest.mark.parametrize(
    ("mode", "status", "heading"),
    [("maintenance", 503, "Service indisponible"), ("404", 404, "Page introuvable"), ("500", 500, "Erreur inattendue")],
)
def test_rdvsp_has_its_own_error_pages(site: SimulatedSite, browser: Browser, mode: str, status: int,
                                       heading: str) -> None:
    site.mode = mode
    page = browser.open(SEARCH)
    assert page.status == status and f"<h1 class=\"fr-h1\">{heading}</h1>" in page.text or f"<h1>{heading}</h1>" in (
        page.text
    )
    other = browser.open(CRENEAU)
    assert other.status == status and heading not in other.text


# ------------------------------------------------------------------------------------------- eAppointment


def test_eappointment_motive_page_and_its_availability_call(site: SimulatedSite, browser: Browser) -> None:
    page = browser.open(PAGE_PATH)
    assert len(elements(page.text, "input", type="checkbox", name="selectedMotiveKeyList")) == 2
    assert elements(page.text, "input", type="button", id="nextButtonId", value="Continuer")
    assert json.dumps(NOSLOT_DIALOG) in page.text  # said only by the script's alert()
    assert NOSLOT_DIALOG not in visible_text(page.text)

    def availability() -> str:
        request = urllib.request.Request(site.base_url + AVAILABILITY_PATH, data=b"callCount=1",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()

    assert '{"disponible":false}' in availability()
    site.mode = "slots"
    assert '{"disponible":true}' in availability()
    calendar = browser.open(PAGE_PATH + "?etape=3")
    assert len(elements(calendar.text, "a", class_="ui-state-default")) == 2
    assert site.completion_requests() == [] and site.submitted_text_fields() == []


# ------------------------------------------------------------------------- in front of every platform


@pytest.mark.parametrize(
    ("mode", "status", "text"),
    [("blocked", 403, BLOCKED_HEADLINE), ("rate_limited", 429, RATE_LIMITED_HEADLINE),
     ("challenge", 403, CHALLENGE_TEXT)],
)
def test_cloudflare_in_front_of_every_platform(site: SimulatedSite, browser: Browser, mode: str, status: int,
                                               text: str) -> None:
    site.mode = mode
    rays = set()
    for path in EVERY_PLATFORM:
        page = browser.open(path)
        assert (page.status, page.headers["Server"]) == (status, "cloudflare"), path
        ray = page.headers["CF-RAY"].removesuffix("-CDG")
        assert re.fullmatch(r"[0-9a-f]{16}", ray) and ray in page.text
        assert text in visible_text(page.text)
        rays.add(ray)
        assert ("cf-mitigated" in page.headers) is (mode == "challenge")
    assert len(rays) == len(EVERY_PLATFORM)  # one Ray ID per answer, as Cloudflare does


@pytest.mark.parametrize(
    ("mode", "status", "text"),
    [("502", 502, "502 Bad Gateway"), ("503", 503, "No server is available to handle this request."),
     ("504", 504, "The server didn't respond in time."), ("maintenance", 503, "Le site est en maintenance."),
     ("404", 404, "404 Not Found"), ("500", 500, "500 Internal Server Error")],
)
def test_proxies_and_site_wide_pages(site: SimulatedSite, browser: Browser, mode: str, status: int,
                                     text: str) -> None:
    site.mode = mode
    for path in EVERY_PLATFORM[:3] + EVERY_PLATFORM[4:]:
        page = browser.open(path)
        assert (page.status, text in visible_text(page.text)) == (status, True), (mode, path)


def test_every_mode_is_documented() -> None:
    source = (Path(__file__).resolve().parent.parent / "simsite" / "server.py").read_text(encoding="utf-8")
    documentation = source.split("MODES: tuple[str, ...] = (", 1)[1].split('"""', 2)[1]
    assert len(set(MODES)) == len(MODES)
    assert [mode for mode in MODES if f'"{mode}"' not in documentation] == []


def test_every_mode_is_in_the_user_documentation() -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "platforms.md").read_text(encoding="utf-8")
    assert [mode for mode in MODES if f"`{mode}`" not in guide] == []
