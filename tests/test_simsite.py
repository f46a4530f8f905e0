"""The simulated booking site, driven over real HTTP with urllib (no browser)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from simsite import (
    COMPLETION_PATH_PATTERNS,
    MODES,
    LoggedRequest,
    SimulatedSite,
    TextFieldSubmission,
    UnknownModeError,
    is_completion_path,
)
from simsite.markup import BANNER_ID
from simsite.rdvpref import captcha_code

REPO = Path(__file__).resolve().parent.parent
REAL_PAGES = Path(__file__).resolve().parent / "fixtures" / "real_pages"
BOOKING = "/booking/create/11343"
DEMARCHE = "/rdvpref/reservation/demarche/3720"
START_FORM = {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}
COUNTER_FORM = {"planning": "16161", "nextButton": "Etape suivante"}


# ------------------------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(markup: str, tag: str, **wanted: str) -> list[dict[str, str]]:
    """Attributes of every ``tag`` element whose attributes include ``wanted`` (``class_`` for class)."""
    parser = _Elements()
    parser.feed(markup)
    wanted = {name.rstrip("_"): value for name, value in wanted.items()}
    return [attrs for name, attrs in parser.elements if name == tag and wanted.items() <= attrs.items()]


def visible_text(markup: str) -> str:
    without_banner = re.sub(rf'<div id="{BANNER_ID}".*?</div>', " ", markup, flags=re.S)
    without_comments = re.sub(r"<!--.*?-->", " ", without_banner, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without_comments)).split())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """urllib with a cookie jar, optionally without following redirects; HTTP errors are returned, not raised."""

    def __init__(self, site: SimulatedSite, follow_redirects: bool = True) -> None:
        self.site = site
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        ]
        if not follow_redirects:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def open(self, path: str, form: dict[str, str] | None = None, timeout: float = 5) -> Page:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.site.base_url + path, data, timeout=timeout) as response:
                return Page(response.url, response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Page(error.url, error.code, dict(error.headers), error.read())


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    with SimulatedSite() as running:
        yield running


@pytest.fixture
def browser(site: SimulatedSite) -> Browser:
    return Browser(site)


# -------------------------------------------------------------------------------------- classic module flow


def test_conditions_page_has_the_real_form_and_sets_the_session_cookie(browser: Browser) -> None:
    for path in (BOOKING, BOOKING + "/0"):
        page = browser.open(path)
        assert page.status == 200
        checkbox = elements(page.text, "input", id="condition", name="condition", type="checkbox")
        assert len(checkbox) == 1
        assert checkbox[0]["title"].startswith("Cliquez la case pour accepter les conditions")
        assert elements(page.text, "label", **{"for": "condition"})
        assert (
            "Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer le processus de "
            "prise de rendez-vous." in visible_text(page.text)
        )
        start = elements(page.text, "input", type="submit", name="nextButton")
        assert [attrs["value"] for attrs in start] == ["Effectuer une demande de rendez-vous"]
        assert elements(page.text, "form", id="FormBookingCreate", method="post", action=BOOKING + "/0")
    first = Browser(browser.site).open(BOOKING)
    assert re.match(r"eZSESSID=[0-9a-f]{32}; path=/", first.headers["Set-Cookie"])


def test_accepting_the_conditions_redirects_to_the_counter_choice(site: SimulatedSite) -> None:
    page = Browser(site, follow_redirects=False).open(BOOKING + "/0", START_FORM)
    assert page.status == 302
    assert page.headers["Location"] == BOOKING + "/1"


def test_conditions_not_accepted_shows_the_conditions_again_with_an_error(browser: Browser) -> None:
    page = browser.open(BOOKING + "/0", {"nextButton": "Effectuer une demande de rendez-vous"})
    assert page.status == 200
    assert page.path == BOOKING + "/0"
    assert "Vous devez accepter les conditions d'utilisation" in visible_text(page.text)
    assert elements(page.text, "input", id="condition")


def test_counter_choice_page_has_the_real_structure(browser: Browser) -> None:
    page = browser.open(BOOKING + "/0", START_FORM)
    assert page.path == BOOKING + "/1"
    assert "<h2>Choix de la nature du rendez-vous</h2>" in page.text
    assert "<legend>Que souhaitez-vous effectuer ?</legend>" in page.text
    assert elements(page.text, "fieldset", id="fchoix_Booking")
    radios = elements(page.text, "input", type="radio", name="planning")
    assert [(r["id"], r["value"]) for r in radios] == [
        ("planning16161", "16161"),
        ("planning16162", "16162"),
        ("planning16163", "16163"),
    ]
    labels = re.findall(r'<label for="(planning\d+)">([^<]+)</label>', page.text)
    assert labels == [
        ("planning16161", "Calendrier - guichets 1, 2, 3 et 4"),
        ("planning16162", "Calendrier guichets 5, 6, 7 et 8"),
        ("planning16163", "Calendrier guichets 9, 10, 11 et 12"),
    ]
    assert elements(page.text, "input", class_="Bbutton", name="nextButton", value="Etape suivante")


def test_noslot_flow_ends_on_the_real_noslot_page(browser: Browser) -> None:
    browser.open(BOOKING)
    browser.open(BOOKING + "/0", START_FORM)
    page = browser.open(BOOKING + "/1", COUNTER_FORM)
    assert page.status == 200
    assert page.path == BOOKING + "/2"
    real = (REAL_PAGES / "ezbooking_noslot_valdoise_medsadok07-prefecture-bot.html").read_text("utf-8")
    for fragment in (
        '<div id="inner_Booking">',
        "<h2>Vérification de disponibilité</h2>",
        "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement.",
        '<input type="submit" name="finishButton" value="Terminer" '
        'title="Cliquez ici pour terminer le processus" class="Bbutton">',
        '<ul id="Progress_Booking">',
    ):
        assert fragment in real, fragment
        assert fragment in page.text, fragment
    images = [attrs["src"].rsplit("/", 1)[1] for attrs in elements(page.text, "img") if "etape_" in attrs["src"]]
    assert images == ["etape_1G.png", "etape_3.png", "etape_4.png", "etape_6.png", "etape_8.png", "etape_9.png"]


def test_counter_not_chosen_shows_the_choice_again(browser: Browser) -> None:
    page = browser.open(BOOKING + "/1", {"nextButton": "Etape suivante"})
    assert page.path == BOOKING + "/1"
    assert "Veuillez choisir la nature du rendez-vous." in visible_text(page.text)


def test_slots_flow_shows_the_description_then_the_slot_table(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots"
    browser.open(BOOKING + "/0", START_FORM)
    description = browser.open(BOOKING + "/1", COUNTER_FORM)
    assert description.path == BOOKING + "/3"
    assert "<h2>Description de la nature du rendez-vous</h2>" in description.text
    table = browser.open(BOOKING + "/3", {"nextButton": "Etape suivante"})
    assert table.path == BOOKING + "/4"
    assert "<h2>Choix d'une plage horaire</h2>" in table.text
    assert ">complet<" in table.text
    links = [attrs["href"] for attrs in elements(table.text, "a") if "/5/" in attrs.get("href", "")]
    assert len(links) >= 2
    assert table.text.count(">libre<") == len(links) + 1  # one more: the legend
    now = datetime.now(UTC)
    for link in links:
        match = re.fullmatch(BOOKING + r"/5/(\d+)", link)
        assert match is not None
        assert now < datetime.fromtimestamp(int(match.group(1)), UTC) < now + timedelta(days=8)
    assert site.completion_requests() == []
    assert site.submitted_text_fields() == []


def test_following_a_slot_link_is_logged_as_a_completion_request(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots"
    table = browser.open(BOOKING + "/4")
    link = next(attrs["href"] for attrs in elements(table.text, "a") if "/5/" in attrs.get("href", ""))
    page = browser.open(link)
    assert page.path == BOOKING + "/6"
    assert elements(page.text, "div", class_="g-recaptcha")
    assert [r.path for r in site.completion_requests()] == [link, BOOKING + "/6"]


def test_personal_details_submission_is_logged_with_its_text_fields(site: SimulatedSite, browser: Browser) -> None:
    form_page = browser.open(BOOKING + "/8")
    assert elements(form_page.text, "input", type="text", name="lastname")
    browser.open(BOOKING + "/8", {"lastname": "Martin", "firstname": "Awa", "nextButton": "Etape suivante"})
    assert site.submitted_text_fields() == [
        TextFieldSubmission(BOOKING + "/8", "lastname", "Martin"),
        TextFieldSubmission(BOOKING + "/8", "firstname", "Awa"),
    ]
    assert all(r.is_completion for r in site.requests)


def test_progress_images_are_served_as_png(browser: Browser) -> None:
    page = browser.open(BOOKING)
    sources = [attrs["src"] for attrs in elements(page.text, "img")]
    assert len(sources) == 6
    for source in sources:
        image = browser.open(source)
        assert image.status == 200
        assert image.headers["Content-Type"] == "image/png"
        assert image.body.startswith(b"\x89PNG\r\n\x1a\n")


def test_captcha_mode_puts_a_recaptcha_gate_on_the_conditions_page(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "captcha"
    page = browser.open(BOOKING)
    assert elements(page.text, "div", class_="g-recaptcha")
    assert elements(page.text, "textarea", name="g-recaptcha-response")
    blocked = browser.open(BOOKING + "/0", {**START_FORM, "g-recaptcha-response": ""})
    assert blocked.path == BOOKING + "/0"
    assert "Veuillez confirmer que vous n'êtes pas un robot." in visible_text(blocked.text)
    assert site.submitted_text_fields() == [TextFieldSubmission(BOOKING + "/0", "g-recaptcha-response", "")]


# ------------------------------------------------------------------------------------------ error modes


def test_overload_mode_serves_the_real_overload_page_after_the_conditions(
    site: SimulatedSite, browser: Browser
) -> None:
    site.mode = "overload"
    assert elements(browser.open(BOOKING).text, "input", id="condition")
    page = browser.open(BOOKING + "/0", START_FORM)
    assert page.status == 200
    assert page.path == BOOKING + "/1"
    real = (REAL_PAGES / "ezbooking_error_service_surcharge_valdoise_medsadok07-prefecture-bot.html").read_text("utf-8")
    assert visible_text(page.text) == visible_text(real)
    assert "<h1>Service surchargé</h1>" in page.text
    for path in (DEMARCHE + "/creneau/", DEMARCHE + "/cgu/", "/rdvsp/prefecture/recepisse"):
        assert "Service surchargé" in browser.open(path).text


def test_502_mode_answers_502_bad_gateway_everywhere(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "502"
    for path in (BOOKING, BOOKING + "/2", DEMARCHE + "/cgu/", "/rdvsp/x"):
        page = browser.open(path)
        assert page.status == 502
        assert "<h1>502 Bad Gateway</h1>" in page.text
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Date" in page.headers


def test_hang_mode_never_answers_yet_other_requests_and_stop_stay_fast() -> None:
    site = SimulatedSite(mode="hang").start()
    try:
        browser = Browser(site)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            browser.open(BOOKING, timeout=0.5)
        assert time.monotonic() - started < 3
        # While that request (and this one) hang, the control endpoint and other modes still answer.
        with pytest.raises(TimeoutError):
            browser.open(BOOKING + "/0", START_FORM, timeout=0.3)
        assert json.loads(browser.open("/__sim/mode").body) == {"mode": "hang"}
        site.mode = "noslot"
        assert browser.open(BOOKING).status == 200
        assert [r.path for r in site.requests] == [BOOKING, BOOKING + "/0", BOOKING]
        assert site.requests[1].form == START_FORM
    finally:
        started = time.monotonic()
        site.stop()
        assert time.monotonic() - started < 2


def test_stop_returns_quickly_while_requests_hang() -> None:
    site = SimulatedSite(mode="hang").start()
    browser = Browser(site)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            browser.open(BOOKING, timeout=0.2)
    started = time.monotonic()
    site.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(urllib.error.URLError):
        browser.open(BOOKING, timeout=1)


# ------------------------------------------------------------------------------------------ RDV Préfecture


def test_rdvpref_cgu_page_shows_the_captchetat_gate(browser: Browser) -> None:
    page = browser.open(DEMARCHE + "/cgu/")
    assert page.status == 200
    assert "<rdv-captchetat" in page.text
    image = elements(page.text, "img", id="captchaFR_CaptchaImage")
    assert len(image) == 1
    assert elements(page.text, "input", id="captchaFormulaireExtInput")
    assert elements(page.text, "a", id="captchaFR_SoundLink", title="Énoncer le code du captcha")
    assert elements(page.text, "audio", id="BDC_CaptchaSoundAudio_captchaFR")
    assert "code de sécurité" in visible_text(page.text)
    button = elements(page.text, "button", type="submit")
    assert len(button) == 1 and "_validerCaptcha" in button[0]["formaction"]
    assert re.search(r"<button [^>]*formaction=[^>]*>Suivant</button>", page.text)
    picture = browser.open(image[0]["src"])
    assert picture.headers["Content-Type"] == "image/png"


def test_rdvpref_captcha_answer_is_checked_and_logged_as_completion(site: SimulatedSite, browser: Browser) -> None:
    page = browser.open(DEMARCHE + "/cgu/")
    captcha_id = elements(page.text, "input", type="hidden", name="captchaId")[0]["value"]
    wrong = browser.open(DEMARCHE + "/cgu/_validerCaptcha", {"captchaId": captcha_id, "captchaFormulaireExtInput": "x"})
    assert wrong.path == DEMARCHE + "/cgu/"
    assert urllib.parse.urlsplit(wrong.url).query == "error=invalidCaptcha"
    assert "Le code de sécurité saisi est incorrect." in visible_text(wrong.text)
    answer = {"captchaId": captcha_id, "captchaFormulaireExtInput": captcha_code(captcha_id)}
    right = browser.open(DEMARCHE + "/cgu/_validerCaptcha", answer)
    assert right.path == DEMARCHE + "/creneau/"
    assert [r.path for r in site.completion_requests()] == [DEMARCHE + "/cgu/_validerCaptcha"] * 2
    assert [f.name for f in site.submitted_text_fields()] == ["captchaFormulaireExtInput"] * 2


def test_rdvpref_noslot_page(browser: Browser) -> None:
    page = browser.open(DEMARCHE + "/creneau/")
    text = visible_text(page.text)
    assert "Aucun créneau disponible à partir de cette date." in text
    assert "Veuillez réessayer ultérieurement." in text
    assert '"datePremiereDispo": ""' in page.text
    assert not elements(page.text, "input", name="trhId")


def test_rdvpref_slots_page(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots"
    page = browser.open(DEMARCHE + "/creneau/")
    assert "Aucun créneau" not in page.text
    slots = elements(page.text, "input", type="radio", name="trhId")
    assert len(slots) == 3 and all(s["id"].startswith("trhId_") for s in slots)
    assert len(elements(page.text, "li", class_="row cellule justify-center radio-card")) == 3
    assert re.search(r'"datePremiereDispo": "\d{4}-\d{2}-\d{2}"', page.text)
    taken = browser.open(DEMARCHE + "/informations/", {"trhId": slots[0]["value"]})
    assert taken.status == 200
    assert site.completion_requests()[-1].form == {"trhId": slots[0]["value"]}
    assert site.submitted_text_fields() == []


def test_rdvpref_slots_in_a_later_week(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "slots_later_week"
    page = browser.open(DEMARCHE + "/creneau/")
    text = visible_text(page.text)
    assert "Aucun créneau disponible sur cette semaine" in text
    assert "Aucun créneau disponible à partir de cette date." not in text
    match = re.search(r"Prochaine disponibilité le (\d{2})/(\d{2})/(\d{4})", text)
    assert match is not None
    day, month, year = (int(part) for part in match.groups())
    assert datetime(year, month, day).weekday() == 0  # a Monday, two weeks ahead at most
    assert re.search(r'"datePremiereDispo": "\d{4}-\d{2}-\d{2}"', page.text)


def test_rdvpref_captcha_mode_sends_the_slot_page_back_to_the_gate(site: SimulatedSite, browser: Browser) -> None:
    site.mode = "captcha"
    page = browser.open(DEMARCHE + "/creneau/")
    assert page.path == DEMARCHE + "/cgu/"
    assert "<rdv-captchetat" in page.text


# ------------------------------------------------------------------------------------- RDV Service Public


def test_rdvsp_noslot_and_slots(site: SimulatedSite, browser: Browser) -> None:
    noslot = browser.open("/prendre_rdv?public_link_organisation_id=2458")
    noslot_text = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
    assert noslot_text in visible_text(noslot.text)
    assert visible_text(browser.open("/rdvsp/prefecture/recepisse").text) == visible_text(noslot.text)
    site.mode = "slots"
    week = browser.open("/prendre_rdv?public_link_organisation_id=2458&lieu_id=1")
    assert "Malheureusement" not in week.text
    links = [attrs["href"] for attrs in elements(week.text, "a") if "rdv_wizard_step" in attrs.get("href", "")]
    assert len(links) == 6
    browser.open(links[0])
    assert [r.path for r in site.completion_requests()] == ["/users/rdv_wizard_step/new"]


# ----------------------------------------------------------------------------- control, log and safety


def test_control_endpoint_switches_mode_and_is_not_logged(site: SimulatedSite, browser: Browser) -> None:
    changed = browser.open("/__sim/mode", {"mode": "slots"})
    assert changed.status == 200
    assert json.loads(changed.body) == {"mode": "slots"}
    assert site.mode == "slots"
    refused = browser.open("/__sim/mode", {"mode": "sunny"})
    assert refused.status == 400
    assert json.loads(refused.body)["modes"] == list(MODES)
    assert site.mode == "slots"
    assert json.loads(browser.open("/__sim/mode").body) == {"mode": "slots"}
    assert site.requests == []


def test_control_log_returns_the_requests_as_json(site: SimulatedSite, browser: Browser) -> None:
    browser.open(BOOKING + "/0", START_FORM)
    log = json.loads(browser.open("/__sim/log").body)
    assert log["mode"] == "noslot"
    assert [(r["method"], r["path"]) for r in log["requests"]] == [("POST", BOOKING + "/0"), ("GET", BOOKING + "/1")]
    assert log["requests"][0]["form"] == START_FORM
    assert log["requests"][0]["completion"] is False
    assert log["requests"][0]["text_fields"] == []
    assert datetime.fromisoformat(log["requests"][0]["time"]).utcoffset() == timedelta(0)


def test_request_log_contents(site: SimulatedSite, browser: Browser) -> None:
    before = datetime.now(UTC)
    browser.open(BOOKING + "/1?source=test&empty=", COUNTER_FORM)
    after = datetime.now(UTC)
    first = site.requests[0]
    assert isinstance(first, LoggedRequest)
    assert before <= first.time <= after
    assert first.time.tzinfo is UTC
    assert first.method == "POST"
    assert first.path == BOOKING + "/1"
    assert first.query == {"source": "test", "empty": ""}
    assert first.form == COUNTER_FORM
    assert re.fullmatch(r"127\.0\.0\.1:\d+", first.client)
    assert first.headers["user-agent"].startswith("Python-urllib/")
    assert first.headers["content-type"] == "application/x-www-form-urlencoded"
    with pytest.raises(TypeError):
        first.form["planning"] = "0"  # type: ignore[index]
    assert [(r.method, r.path) for r in site.requests] == [("POST", BOOKING + "/1"), ("GET", BOOKING + "/2")]


def test_mode_is_validated_and_settable(site: SimulatedSite) -> None:
    with pytest.raises(UnknownModeError):
        SimulatedSite(mode="sunny")
    with pytest.raises(UnknownModeError):
        site.mode = "sunny"
    for mode in MODES:
        site.mode = mode
        assert site.mode == mode


def test_lifecycle() -> None:
    site = SimulatedSite()
    with pytest.raises(RuntimeError):
        site.base_url
    site.stop()  # not started: nothing to do
    with site:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)
        with pytest.raises(RuntimeError):
            site.start()
    site.stop()  # already stopped: nothing to do


@pytest.mark.parametrize(
    "path",
    [
        BOOKING + "/5/1714375800",
        BOOKING + "/6",
        BOOKING + "/7",
        BOOKING + "/8",
        BOOKING + "/9/",
        "/ezjscore/call/bookingserver::captcha::image",
        "/ezjscore/call/bookingserver%3A%3Acaptcha",
        DEMARCHE + "/cgu/_validerCaptcha",
        DEMARCHE + "/informations/",
        DEMARCHE + "/confirmation/",
        "/rdvsp/users/rdv_wizard_step1",
        "/rdvsp/users/rdvs",
    ],
)
def test_completion_paths(path: str) -> None:
    assert is_completion_path(path)


@pytest.mark.parametrize(
    "path",
    [
        BOOKING,
        BOOKING + "/0",
        BOOKING + "/1",
        BOOKING + "/2",
        BOOKING + "/3",
        BOOKING + "/4",
        BOOKING + "/55",
        DEMARCHE + "/cgu/",
        DEMARCHE + "/creneau/",
        "/rdvpref/captcha/" + "0" * 32 + ".png",  # the gate's image, loaded by any browser showing the gate
        "/rdvsp/prefecture/recepisse",
        "/",
    ],
)
def test_harmless_paths(path: str) -> None:
    assert not is_completion_path(path)
    assert not any(pattern.search(path) for pattern in COMPLETION_PATH_PATTERNS)


def test_multipart_form_fields_are_logged_too(site: SimulatedSite) -> None:
    boundary = "simsiteBoundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"planning\"\r\n\r\n16161\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nawa@example.org\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        site.base_url + BOOKING + "/1",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert site.requests[0].form == {"planning": "16161", "email": "awa@example.org"}
    assert site.submitted_text_fields() == [TextFieldSubmission(BOOKING + "/1", "email", "awa@example.org")]


_ALL_PAGES = (
    "/",
    BOOKING,
    BOOKING + "/1",
    BOOKING + "/2",
    BOOKING + "/3",
    BOOKING + "/4",
    BOOKING + "/6",
    BOOKING + "/8",
    BOOKING + "/9",
    DEMARCHE + "/",
    DEMARCHE + "/cgu/",
    DEMARCHE + "/cgu/?error=invalidCaptcha",
    DEMARCHE + "/creneau/",
    DEMARCHE + "/informations/",
    DEMARCHE + "/confirmation/",
    "/rdvsp/prefecture/recepisse",
    "/prendre_rdv",
    "/prendre_rdv?public_link_organisation_id=2458",
    "/prendre_rdv?public_link_organisation_id=2458&lieu_id=1&invitation_token=x",
    "/users/rdv_wizard_step/new",
    "/eAppointmentpref94/element/jsp/specific/pref94.jsp",
    "/eAppointmentpref94/element/jsp/specific/pref94.jsp?etape=3",
    "/nowhere",
)


def test_every_page_is_self_contained_utf8_and_marked_as_simulated(site: SimulatedSite, browser: Browser) -> None:
    external = re.compile(r"https?://|(?:src|href|action|formaction)\s*=\s*[\"']?\s*//", re.IGNORECASE)
    served = 0
    modes = [mode for mode in MODES if mode != "hang"]
    for mode in modes:
        site.mode = mode
        for path in _ALL_PAGES:
            page = browser.open(path)
            assert page.headers["Content-Type"] == "text/html; charset=utf-8", (mode, path)
            assert parsedate_to_datetime(page.headers["Date"]) > datetime.now(UTC) - timedelta(minutes=1)
            text = page.text  # raises if not UTF-8
            assert external.search(text) is None, (mode, path, external.search(text))
            assert f'id="{BANNER_ID}"' in text, (mode, path)
            served += 1
    assert served == len(modes) * len(_ALL_PAGES)


# ---------------------------------------------------------------------------------------------- the CLI


def test_cli_runs_standalone_and_is_driven_by_the_control_endpoints() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simsite", "--port", "0", "--mode", "noslot"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)

        def fetch(path: str, form: dict[str, str] | None = None) -> str:
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            with urllib.request.urlopen(base_url + path, data, timeout=5) as response:
                return response.read().decode("utf-8")

        assert "Il n'existe plus de plage horaire libre" in fetch(BOOKING + "/2")
        assert json.loads(fetch("/__sim/mode", {"mode": "slots"})) == {"mode": "slots"}
        assert "radio-card" in fetch(DEMARCHE + "/creneau/")
        log = json.loads(fetch("/__sim/log"))
        assert [r["path"] for r in log["requests"]] == [BOOKING + "/2", DEMARCHE + "/creneau/"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)  # 0.3 s here; 10 s once ran out at load 7 on 2 cores
    assert process.returncode == 0, err
    assert "Site simulé arrêté." in out
    assert f"GET {DEMARCHE}/creneau/" in out
