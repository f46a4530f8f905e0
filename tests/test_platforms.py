"""Platform presets and steps: detection by URL, the steps of each preset, the refusal of unsafe steps."""

from urllib.parse import urlsplit, urlunsplit

import pytest

from capture.platforms import GENERIC, PLATFORMS, PlatformError, detect_platform, get_platform
from capture.steps import Action, Step, StepError

RDVPREF = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4443/"
SAMPLE_URLS = {
    "ezbooking": "https://www.val-doise.gouv.fr/booking/create/11343/2",
    "rdvpref": RDVPREF + "creneau/",
    "eappointment94": "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/element/jsp/specific/"
    "pref94.jsp",
    "anct": "https://rdv.anct.gouv.fr/prendre_rdv?departement=93&motif_name_with_location_type=titre",
    "generic": "https://www.example.gouv.fr/rendez-vous",
}


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.val-doise.gouv.fr/booking/create/11343/2", "ezbooking"),
        ("https://www.hauts-de-seine.gouv.fr/booking/create/13525", "ezbooking"),
        ("https://pprdv.interieur.gouv.fr/booking/create/989/0", "ezbooking"),
        ("http://127.0.0.1:5555/booking/create/1234", "ezbooking"),
        (RDVPREF + "cgu/", "rdvpref"),
        ("https://rdv-prefecture.interieur.gouv.fr/", "rdvpref"),
        ("http://127.0.0.1:5555/rdvpref/reservation/demarche/77/", "rdvpref"),
        ("https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/element/jsp/specific/pref94.jsp",
         "eappointment94"),
        ("http://localhost:8080/eAppointmentpref94/element/jsp/specific/pref94.jsp", "eappointment94"),
        ("https://rdv.anct.gouv.fr/prendre_rdv?departement=93", "anct"),
        ("http://127.0.0.1:5555/prendre_rdv?departement=93", "anct"),
        ("https://www.val-doise.gouv.fr/Actualites", "generic"),
        ("http://127.0.0.1:5555/", "generic"),
        ("", "generic"),
    ],
)
def test_detect_platform_by_host_or_by_path(url: str, name: str) -> None:
    assert detect_platform(url).name == name


def test_get_platform_by_name_and_unknown_name() -> None:
    assert get_platform("rdvpref") is PLATFORMS["rdvpref"]
    assert get_platform("generic") is GENERIC
    with pytest.raises(PlatformError, match="Plateforme inconnue : 'doctolib'"):
        get_platform("doctolib")


@pytest.mark.parametrize("name", list(PLATFORMS))
@pytest.mark.parametrize("local", [False, True])
def test_every_preset_loads_valid_steps(name: str, local: bool) -> None:
    platform = PLATFORMS[name]
    url = SAMPLE_URLS[name]
    if local:
        url = urlunsplit(urlsplit(url)._replace(scheme="http", netloc="127.0.0.1:5555"))
    steps = platform.steps(url)
    assert platform.display_name
    assert steps and all(isinstance(step, Step) for step in steps)
    assert steps[0].action is Action.GOTO
    assert urlsplit(steps[0].target).netloc == urlsplit(url).netloc
    assert not any(platform.is_blocked(step.target) for step in steps if step.action is Action.GOTO)
    assert all(step.description for step in steps)


def test_classic_module_steps_without_counter_stop_after_the_conditions() -> None:
    steps = PLATFORMS["ezbooking"].steps("http://127.0.0.1:5555/booking/create/1234/2")
    assert [(s.action, s.target, s.when) for s in steps] == [
        (Action.GOTO, "http://127.0.0.1:5555/booking/create/1234", None),
        (Action.CHECK, "#condition", None),
        (Action.CLICK_BUTTON, 'input[name="nextButton"][value="Effectuer une demande de rendez-vous"]', None),
    ]


def test_classic_module_steps_with_counter_choose_it_only_when_the_choice_is_shown() -> None:
    steps = PLATFORMS["ezbooking"].steps("https://pprdv.interieur.gouv.fr/booking/create/989/0", "14014")
    assert steps[0].target == "https://pprdv.interieur.gouv.fr/booking/create/989"
    assert [(s.action, s.target, s.when) for s in steps[3:]] == [
        (Action.CHOOSE_RADIO, 'input[name="planning"][value="14014"]', 'input[name="planning"]'),
        (Action.CLICK_BUTTON, 'input[name="nextButton"][value="Etape suivante"]', 'input[name="planning"]'),
    ]


@pytest.mark.parametrize("path", ["", "cgu/", "cgu/?error=invalidCaptcha", "creneauX/"])
def test_rdvpref_steps_open_the_captcha_page_and_stop(path: str) -> None:
    steps = PLATFORMS["rdvpref"].steps(f"http://127.0.0.1:5555/rdvpref/reservation/demarche/77/{path}")
    assert [(s.action, s.target) for s in steps] == [
        (Action.GOTO, "http://127.0.0.1:5555/rdvpref/reservation/demarche/77/cgu/")
    ]


@pytest.mark.parametrize("path", ["creneau/", "creneau", "creneau/?date=16/03/2026"])
def test_rdvpref_address_of_the_slot_page_is_opened_as_it_is(path: str) -> None:
    steps = PLATFORMS["rdvpref"].steps(f"http://127.0.0.1:5555/rdvpref/reservation/demarche/77/{path}")
    assert [(s.action, s.target) for s in steps] == [
        (Action.GOTO, "http://127.0.0.1:5555/rdvpref/reservation/demarche/77/creneau/")
    ]


def test_eappointment_steps_with_a_motive_wait_for_the_sites_answer() -> None:
    steps = PLATFORMS["eappointment94"].steps(SAMPLE_URLS["eappointment94"], "2")
    assert [(s.action, s.target, s.when, s.choice) for s in steps[1:]] == [
        (Action.CHECK, 'input[name="selectedMotiveKeyList"][value="2"]', 'input[name="selectedMotiveKeyList"]', True),
        (Action.CLICK_BUTTON, 'input#nextButtonId[value="Continuer"]', 'input[name="selectedMotiveKeyList"]', False),
        (Action.WAIT_IDLE, "", None, False),
    ]


def test_the_counter_choice_is_the_step_whose_label_and_page_are_recorded() -> None:
    steps = PLATFORMS["ezbooking"].steps(SAMPLE_URLS["ezbooking"], "14014")
    assert [s.action for s in steps if s.choice] == [Action.CHOOSE_RADIO]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda: Step(Action.WAIT_IDLE, "#x"), "n'a pas de cible"),
        (lambda: Step(Action.CLICK_BUTTON, 'input[name="nextButton"]', choice=True), "choix du guichet"),
        (lambda: Step(Action.GOTO, "https://example.org/", choice=True), "choix du guichet"),
    ],
)
def test_wait_idle_and_choice_steps_are_checked(step, message: str) -> None:
    with pytest.raises(StepError, match=message):
        step()


@pytest.mark.parametrize("name", ["rdvpref", "anct", "generic"])
def test_a_counter_is_refused_where_the_site_has_no_counter_choice(name: str) -> None:
    with pytest.raises(StepError, match="Le choix d'un guichet n'existe pas"):
        PLATFORMS[name].steps(SAMPLE_URLS[name], "14014")


@pytest.mark.parametrize("counter", ['1"] , textarea', "", "a b", "x" * 41])
def test_an_invalid_counter_is_refused(counter: str) -> None:
    with pytest.raises(StepError, match="Identifiant de guichet invalide"):
        PLATFORMS["ezbooking"].steps(SAMPLE_URLS["ezbooking"], counter)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("ezbooking", "https://www.val-doise.gouv.fr/rendez-vous"),
        ("rdvpref", "https://rdv-prefecture.interieur.gouv.fr/"),
    ],
)
def test_a_url_without_the_expected_path_is_refused(name: str, url: str) -> None:
    with pytest.raises(StepError, match="attendue"):
        PLATFORMS[name].steps(url)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/11343/5/1650000000"),
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/11343/6"),
        ("ezbooking", "https://www.essonne.gouv.fr/ezjscore/call/bookingserver::captcha::11343"),
        ("rdvpref", RDVPREF + "_validerCaptcha"),
        ("rdvpref", RDVPREF + "informations/"),
        ("rdvpref", RDVPREF + "confirmation/"),
        ("eappointment94", "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/captcha?123"),
        ("eappointment94", "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/dwr/call/plaincall/"
                           "AjaxAppointment.confirmAppointment.dwr"),
        ("anct", "https://rdv.anct.gouv.fr/users/rdvs"),
        ("generic", "http://127.0.0.1:5555/booking/create/1234/5/1650000000"),
        ("generic", "http://127.0.0.1:5555/rdvpref/reservation/demarche/77/_validerCaptcha"),
    ],
)
def test_booking_completion_requests_are_blocked(name: str, url: str) -> None:
    assert PLATFORMS[name].is_blocked(url)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/11343"),
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/11343/0"),
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/11343/4"),
        ("ezbooking", "https://www.val-doise.gouv.fr/booking/create/56/2"),
        ("rdvpref", RDVPREF + "cgu/"),
        ("rdvpref", RDVPREF + "creneau/"),
        ("eappointment94", SAMPLE_URLS["eappointment94"]),
        ("anct", SAMPLE_URLS["anct"]),
    ],
)
def test_the_harmless_steps_are_not_blocked(name: str, url: str) -> None:
    assert not PLATFORMS[name].is_blocked(url)


@pytest.mark.parametrize(
    ("action", "target"),
    [
        ("type", "#name"),
        ("click", "a.slot"),
        ("fill", "input[name=nom]"),
        (Action.GOTO, "javascript:alert(1)"),
        (Action.GOTO, "/booking/create/1"),
        (Action.GOTO, "https://www.val-doise.gouv.fr/booking/create/11343/5/1650000000"),
        (Action.GOTO, "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/informations/"),
        (Action.CHECK, "input[type=text]"),
        (Action.CHECK, "textarea#message"),
        (Action.CHECK, "input[type=radio]"),
        (Action.CHOOSE_RADIO, "input[name=trhId]"),
        (Action.CHOOSE_RADIO, "#trhId_1"),
        (Action.CLICK_BUTTON, "a[href='/booking/create/11343/5/1650000000']"),
        (Action.CLICK_BUTTON, "td a"),
        (Action.CLICK_BUTTON, "#nextButton"),
        (Action.CLICK_BUTTON, "input[type=submit][value=Confirmer]"),
        (Action.CLICK_BUTTON, "button[formaction=_validerCaptcha]"),
        (Action.CLICK_BUTTON, "input[name=finishButton][value=Terminer]"),
        (Action.CLICK_BUTTON, "a.ui-state-default"),
        (Action.CLICK_BUTTON, "input[name=a], input[name=b]"),
        (Action.CHECK, "text=Accepter"),
        (Action.CHECK, "xpath=//input[@id='condition']"),
        (Action.CHECK, "#condition >> nth=0"),
        (Action.CHECK, "input:has-text('Accepter')"),
        (Action.CHECK, "input[type*=tex]"),
        (Action.WAIT_SELECTOR, "input[type=email]"),
        (Action.WAIT_SELECTOR, "#captchaFormulaireExtInput"),
        (Action.WAIT_SELECTOR, ""),
        (Action.WAIT_TEXT, ""),
        (Action.WAIT_TEXT, "x" * 201),
    ],
)
def test_unsafe_or_malformed_steps_are_refused(action: str, target: str) -> None:
    with pytest.raises(StepError):
        Step(action, target)  # type: ignore[arg-type]


def test_unsafe_condition_is_refused_and_unknown_action_names_the_allowed_ones() -> None:
    with pytest.raises(StepError, match="champ de saisie"):
        Step(Action.CHECK, "#condition", when="textarea")
    with pytest.raises(StepError, match="Action inconnue 'type' \\(autorisées : goto, check, choose_radio"):
        Step("type", "#nom")  # type: ignore[arg-type]


def test_steps_accept_action_names_as_data() -> None:
    selector = "fieldset#fchoix_Booking > p.Bligne input[name=planning][value=3]"
    step = Step("choose_radio", selector)  # type: ignore[arg-type]
    assert step.action is Action.CHOOSE_RADIO
    assert Step(Action.WAIT_SELECTOR, "rdv-captchetat-root, #inner_Booking").action is Action.WAIT_SELECTOR
    assert Step(Action.WAIT_TEXT, "Vérification de disponibilité").target == "Vérification de disponibilité"
