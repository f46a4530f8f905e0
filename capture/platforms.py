"""Platform presets: how to recognise each booking site, which harmless steps to walk, which requests to block.

Each preset is plain data plus one function building its steps from the case's URL. Detection looks at the
host and, so that the local simulated site is recognised like the real one, at the path alone.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from capture import platform_rules
from capture.page import check_selector
from capture.rules import Rule
from capture.steps import Action, Step, StepError
from evidence.errors import BadInput
from evidence.records import TargetSpec
from evidence.target_urls import validate_target_url

StepBuilder = Callable[[str, str | None], tuple[Step, ...]]

_COUNTER = re.compile(r"[A-Za-z0-9_-]{1,40}")


class PlatformError(BadInput):
    """No platform preset bears the requested name."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(PLATFORMS)
        super().__init__(f"Plateforme inconnue : {name!r} (connues : {known})")


@dataclass(frozen=True)
class Platform:
    """A booking site family and what the tool may do on it."""

    name: str
    display_name: str
    host_patterns: tuple[re.Pattern[str], ...]
    path_patterns: tuple[re.Pattern[str], ...]
    blocked_paths: tuple[re.Pattern[str], ...]
    """Requests that complete a booking or touch a captcha; the browser layer aborts them (matched on the URL)."""
    booking_paths: tuple[re.Pattern[str], ...] | None
    """Paths of the pages that show a booking result; None: any page (a site the user named, without preset)."""
    rules: tuple[Rule, ...] = field(repr=False)
    """How to read its pages (see `capture/platform_rules.py`)."""
    procedure_selector: str | None
    """Where its pages name the procedure (démarche), as the site displays it."""
    build_steps: StepBuilder = field(repr=False)
    captcha_on_every_visit: bool = False
    """A captcha guards every visit: an unattended attempt only records it, so a person must accompany each one."""

    @property
    def attempt_mode(self) -> str:
        """The attempts this platform allows: "unattended", or "accompanied" (a person solves the captcha)."""
        return "accompanied" if self.captcha_on_every_visit else "unattended"

    def matches(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return any(p.fullmatch(host) for p in self.host_patterns) or any(
            p.search(parts.path) for p in self.path_patterns
        )

    def is_blocked(self, url: str) -> bool:
        return any(p.search(url) for p in self.blocked_paths)

    def is_booking_page(self, url: str | None) -> bool:
        """Whether a page at this address can show a booking result (an unknown address is given the benefit)."""
        if url is None or self.booking_paths is None:
            return True
        return any(p.search(urlsplit(url).path) for p in self.booking_paths)

    def steps(self, url: str, counter: str | None = None) -> tuple[Step, ...]:
        """The steps to walk for a case; a step that would open a blocked URL is refused."""
        if counter is not None and not _COUNTER.fullmatch(counter):
            raise StepError(f"Identifiant de guichet invalide : {counter!r}")
        steps = self.build_steps(url, counter)
        for step in steps:
            if step.action is Action.GOTO and self.is_blocked(step.target):
                raise StepError(f"Adresse bloquée sur {self.display_name} : {step.target!r}")
        return steps


def _patterns(*regexes: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r, re.IGNORECASE) for r in regexes)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _no_counter(platform_name: str, counter: str | None) -> None:
    if counter is not None:
        raise StepError(f"Le choix d'un guichet n'existe pas sur {platform_name} (guichet {counter!r} configuré)")


_EZBOOKING_START = re.compile(r"^(.*?/booking/create/\d+)(?:/|$)")
_PLANNING_RADIOS = 'input[name="planning"]'


def _ezbooking_steps(url: str, counter: str | None) -> tuple[Step, ...]:
    """Conditions page, then the counter choice when the site shows one, then stop on the result page.

    Without a configured counter the walk stops after the conditions: a site with a single counter goes
    straight to its result page; a site with several leaves the capture on the counter choice, classified
    « indéterminé » — the tool never picks a counter on its own.
    """
    start = _EZBOOKING_START.match(urlsplit(url).path)
    if start is None:
        raise StepError(f"Adresse du module de rendez-vous attendue (…/booking/create/<numéro>) : {url!r}")
    steps = [
        Step(Action.GOTO, _origin(url) + start.group(1), "Ouvrir la page d'accueil de la démarche"),
        Step(Action.CHECK, "#condition", "Cocher la case d'acceptation des conditions d'utilisation"),
        Step(
            Action.CLICK_BUTTON,
            'input[name="nextButton"][value="Effectuer une demande de rendez-vous"]',
            "Cliquer sur « Effectuer une demande de rendez-vous »",
        ),
    ]
    if counter is not None:
        steps += [
            Step(
                Action.CHOOSE_RADIO,
                f'input[name="planning"][value="{counter}"]',
                f"Choisir le guichet {counter}",
                when=_PLANNING_RADIOS,
                choice=True,
            ),
            Step(
                Action.CLICK_BUTTON,
                'input[name="nextButton"][value="Etape suivante"]',
                "Cliquer sur « Etape suivante »",
                when=_PLANNING_RADIOS,
            ),
        ]
    return tuple(steps)


_RDVPREF_BASE = re.compile(r"^(.*?/rdvpref/reservation/demarche/\d+)(?:/(creneau)/?)?(?:/|$)")


def _rdvpref_steps(url: str, counter: str | None) -> tuple[Step, ...]:
    """Open the conditions page, which holds the captcha: an unattended capture ends there.

    An address of the slot page itself is opened as it is (the site sends a visitor without a session back to
    the captcha).
    """
    _no_counter("RDV Préfecture", counter)
    base = _RDVPREF_BASE.match(urlsplit(url).path)
    if base is None:
        expected = "…/rdvpref/reservation/demarche/<numéro>/"
        raise StepError(f"Adresse RDV Préfecture attendue ({expected}) : {url!r}")
    if base.group(2):
        return (Step(Action.GOTO, f"{_origin(url)}{base.group(1)}/creneau/", "Ouvrir la page des créneaux"),)
    return (Step(Action.GOTO, f"{_origin(url)}{base.group(1)}/cgu/", "Ouvrir la page de la démarche"),)


_EAPPOINTMENT_MOTIVES = 'input[name="selectedMotiveKeyList"]'


def _eappointment_steps(url: str, counter: str | None) -> tuple[Step, ...]:
    """The motive page; with a configured motive, tick it, press « Continuer » and wait for the answer: the
    site says « no slot » in a dialog (recorded by the runner), or shows its calendar."""
    steps = [Step(Action.GOTO, url, "Ouvrir la page de prise de rendez-vous")]
    if counter is not None:
        steps += [
            Step(
                Action.CHECK,
                f'{_EAPPOINTMENT_MOTIVES}[value="{counter}"]',
                f"Choisir le motif {counter}",
                when=_EAPPOINTMENT_MOTIVES,
                choice=True,
            ),
            Step(
                Action.CLICK_BUTTON,
                'input#nextButtonId[value="Continuer"]',
                "Cliquer sur « Continuer »",
                when=_EAPPOINTMENT_MOTIVES,
            ),
            Step(Action.WAIT_IDLE, "", "Attendre la réponse du site"),
        ]
    return tuple(steps)


def _goto_only(display_name: str) -> StepBuilder:
    def build(url: str, counter: str | None) -> tuple[Step, ...]:
        _no_counter(display_name, counter)
        return (Step(Action.GOTO, url, "Ouvrir la page de prise de rendez-vous"),)

    return build


_EZBOOKING_BLOCKED = (r"/booking/create/\d+/[5-9](?:[/?#]|$)", r"bookingserver::captcha")
_RDVPREF_BLOCKED = (r"_validerCaptcha", r"/rdvpref/.*/(?:informations|confirmation)/")
_EAPPOINTMENT_BLOCKED = (
    r"/eAppointmentpref\d+/captcha",
    r"/eAppointmentpref\d+/dwr/call/plaincall/[^?]*(?:confirm|valid|save|book|reserv)",
)
_ANCT_BLOCKED = (r"/users/rdvs", r"rdv_wizard_step")


def _platform(
    name: str,
    display_name: str,
    hosts: tuple[str, ...],
    paths: tuple[str, ...],
    blocked: tuple[str, ...],
    booking: tuple[str, ...] | None,
    rules: tuple[Rule, ...],
    procedure_selector: str | None,
    build_steps: StepBuilder,
    *,
    captcha_on_every_visit: bool = False,
) -> Platform:
    booking_paths = None if booking is None else _patterns(*booking)
    return Platform(
        name, display_name, _patterns(*hosts), _patterns(*paths), _patterns(*blocked), booking_paths, rules,
        procedure_selector and check_selector(procedure_selector), build_steps, captcha_on_every_visit,
    )


GENERIC = _platform(
    "generic",
    "Site de rendez-vous (générique)",
    (),
    (),
    # Whatever the host, never let a known completion request through.
    _EZBOOKING_BLOCKED + _RDVPREF_BLOCKED + _EAPPOINTMENT_BLOCKED + _ANCT_BLOCKED,
    None,
    platform_rules.GENERIC,
    None,
    _goto_only("ce site"),
)

# Detection order: the first preset that matches wins; GENERIC is the fallback.
PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        _platform(
            "ezbooking",
            "Module de rendez-vous de la préfecture",
            (r"pprdv\.interieur\.gouv\.fr",),
            (r"/booking/create/\d+",),
            _EZBOOKING_BLOCKED,
            (r"/booking/create/\d+",),
            platform_rules.EZBOOKING,
            ".breadcrumb .last",
            _ezbooking_steps,
        ),
        _platform(
            "rdvpref",
            "RDV Préfecture",
            (r"(?:www\.)?rdv-prefecture\.interieur\.gouv\.fr",),
            (r"/rdvpref/",),
            _RDVPREF_BLOCKED,
            (r"/rdvpref/reservation/demarche/\d+/creneau(?:/|$)",),
            platform_rules.RDVPREF,
            "main h1",
            _rdvpref_steps,
            captcha_on_every_visit=True,
        ),
        _platform(
            "eappointment94",
            "eAppointment de la préfecture du Val-de-Marne",
            (r"rdv-etrangers-94\.interieur\.gouv\.fr",),
            (r"/eAppointmentpref\d+/",),
            _EAPPOINTMENT_BLOCKED,
            (r"/eAppointmentpref\d+/",),
            platform_rules.EAPPOINTMENT,
            None,
            _eappointment_steps,
        ),
        _platform(
            "anct",
            "RDV Service Public",
            (r"rdv\.anct\.gouv\.fr",),
            (r"^/prendre_rdv",),
            _ANCT_BLOCKED,
            (r"^/prendre_rdv(?:/|$)", r"^/users/rdvs/\d+/creneaux"),
            platform_rules.ANCT,
            "main .card h2",
            _goto_only("RDV Service Public"),
        ),
        GENERIC,
    )
}


def detect_platform(url: str) -> Platform:
    """The preset for a booking URL, by host or by path; GENERIC when nothing matches."""
    return next((p for p in PLATFORMS.values() if p.matches(url)), GENERIC)


def get_platform(name: str) -> Platform:
    """The preset with this name (for a case that overrides detection)."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise PlatformError(name) from None


def checked_target(
    url: str,
    *,
    counter: str | None = None,
    platform: str | None = None,
    prefecture: str | None = None,
    procedure: str | None = None,
    allow_any_domain: bool = False,
) -> TargetSpec:
    """The page a new case waits on, checked now: an official URL (unless allowed otherwise), a
    known platform (detected unless named), and steps the capture can walk with this counter."""
    url = validate_target_url(url, allow_any_domain=allow_any_domain)
    preset = get_platform(platform) if platform else detect_platform(url)
    preset.steps(url, counter)  # refuses now what the capture could not walk later
    return TargetSpec(url, preset.name, counter, prefecture, procedure)
