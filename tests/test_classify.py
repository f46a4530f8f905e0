"""Offline page classification on synthetic pages carrying each site's exact strings, the rule data itself,
and inputs that are not HTML at all (real and rebuilt pages: test_classify_real_pages.py)."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capture import platform_rules
from capture.classify import Classification, classify
from capture.page import MAX_NESTING, Page, SelectorError, bounded_nesting
from capture.platforms import PLATFORMS
from capture.rules import Rule, RuleError
from capture.states import State

EZBOOKING_URL = "https://www.val-doise.gouv.fr/booking/create/11343/2"
RDVPREF_URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4443/creneau/"
EAPPOINTMENT_URL = "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/element/jsp/specific/pref94.jsp"
ANCT_URL = "https://rdv.anct.gouv.fr/prendre_rdv?departement=93"
URLS = [EZBOOKING_URL, RDVPREF_URL, EAPPOINTMENT_URL, ANCT_URL, None]


def page(body: str, title: str = "Prise de rendez-vous") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


def found(html: str, url: str | None, **kwargs: object) -> tuple[State, str, str]:
    result = classify(html, url, **kwargs)  # type: ignore[arg-type]
    return result.state, result.platform, result.evidence_text


# ------------------------------------------------------------------------------- classic prefecture module

CONDITIONS_PAGE = page(
    """<div id="inner_Booking"><form id="FormBookingCreate" method="post">
    <p>Conditions d'utilisation du service de prise de rendez-vous…</p>
    <input type="checkbox" id="condition" name="condition" title="Cliquez la case pour accepter les conditions
      d'utilisation avant de continuer le processus de prise de rendez-vous.">
    <label for="condition">Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer
      le processus de prise de rendez-vous.</label>
    <input type="submit" name="nextButton" value="Effectuer une demande de rendez-vous" class="Bbutton">
    </form></div>"""
)
COUNTER_PAGE = page(
    """<div id="inner_Booking"><h2>Choix de la nature du rendez-vous</h2>
    <form id="FormBookingCreate" method="post"><fieldset id="fchoix_Booking">
    <legend>Que souhaitez-vous effectuer ?</legend>
    <p class="Bligne"><input type="radio" name="planning" id="planning14014" value="14014">
      <label for="planning14014">Calendrier - guichets 1, 2, 3 et 4</label></p>
    <p class="Bligne"><input type="radio" name="planning" id="planning14015" value="14015">
      <label for="planning14015">Calendrier guichets 5, 6, 7 et 8</label></p>
    </fieldset><input type="submit" name="nextButton" value="Etape suivante" class="Bbutton"></form></div>"""
)


def planning_table(free_cells: int) -> str:
    cells = "".join("<td>libre</td>" for _ in range(free_cells)) + "<td>complet</td>" * 3
    return page(
        f"""<div id="inner_Booking"><h2>Choix d'une plage horaire</h2>
        <p class="legende"><span>Légende :</span></p><table><tr><td>libre</td><td>complet</td></tr></table>
        <table class="planning"><tr><th>Lundi</th><th>Mardi</th></tr><tr>{cells}</tr></table></div>"""
    )


@pytest.mark.parametrize(
    ("html", "state", "evidence"),
    [
        (page("<div id='inner_Booking'><h2>Description de la nature du rendez-vous</h2><p>Pièces…</p></div>"),
         State.SLOTS, "Description de la nature du rendez-vous"),
        (planning_table(2), State.SLOTS,
         "Tableau des plages horaires : 3 cases « libre » affichées (légende comprise)."),
        (page('<a href="/booking/create/11343/5/1650000000">9h15</a>'), State.SLOTS,
         "1 lien(s) vers une plage horaire (premier : « 9h15 »)."),
        (page("<div id='inner_Booking'><h2>Vérification de disponibilité</h2><form>Autre texte.</form></div>"),
         State.NOSLOT, "Vérification de disponibilité"),
        (page('<form><div class="g-recaptcha" data-sitekey="x"></div></form>'), State.CAPTCHA,
         "Captcha affiché sur la page (élément div.g-recaptcha)."),
        (page('<img src="/ezjscore/call/bookingserver::captcha::11343">'), State.CAPTCHA,
         "Captcha affiché sur la page (élément img)."),
    ],
)
def test_classic_module_results(html: str, state: State, evidence: str) -> None:
    assert found(html, EZBOOKING_URL) == (state, "ezbooking", evidence)


@pytest.mark.parametrize(
    ("html", "explanation"),
    [
        (CONDITIONS_PAGE, "acceptation des conditions d'utilisation"),
        (COUNTER_PAGE, "choix du guichet"),
        (planning_table(0), "sans case « libre »"),
    ],
)
def test_classic_module_intermediate_pages_are_unknown(html: str, explanation: str) -> None:
    result = classify(html, "http://127.0.0.1:5555/booking/create/1234/1")
    assert (result.state, result.platform) == (State.UNKNOWN, "ezbooking")
    assert explanation in result.evidence_text
    assert result.decisive is None


def test_noslot_sentence_outside_the_booking_form_is_not_a_result() -> None:
    html = page("<article><p>Il n'existe plus de plage horaire libre pour votre demande de rendez-vous.</p></article>")
    result = classify(html, EZBOOKING_URL)
    assert result.state is State.UNKNOWN
    assert "hors de la zone de résultat" in result.evidence_text


def test_noslot_sentence_on_the_module_host_but_not_a_booking_address_is_not_a_result() -> None:
    html = page("<div id='inner_Booking'><form id='FormBookingCreate'>Il n'existe plus de plage horaire libre pour "
                "votre demande de rendez-vous.</form></div>")
    assert classify(html, "https://pprdv.interieur.gouv.fr/booking/create/989/2").state is State.NOSLOT
    assert classify(html, "https://pprdv.interieur.gouv.fr/aide/questions").state is State.UNKNOWN


@pytest.mark.parametrize(
    ("html", "evidence"),
    [
        (page("<h1>502 Bad Gateway</h1><hr><center>nginx</center>", title="502"), "502 Bad Gateway"),
        (page("<h1>403 Forbidden</h1>"), "403 Forbidden"),
        (page("<p>Request forbidden by administrative rules.</p>"), "Request forbidden by administrative rules."),
        (page("<p>The server returned an invalid or incomplete response.</p>"),
         "The server returned an invalid or incomplete response."),
        (page("<h2>Site indisponible</h2><p>Merci de revenir plus tard.</p>"), "Site indisponible"),
        (page("<p>Le site est en maintenance.</p>"), "Le site est en maintenance."),
        (page("<div class='Bloc'>Attention&nbsp;: Cette page n’est pas disponible pour le moment !</div>"),
         "Attention : Cette page n’est pas disponible pour le moment !"),
        (page("<h1>Service surchargé</h1><div id='inner_Booking'>Il n'existe plus de plage horaire libre pour "
              "votre demande de rendez-vous.</div>"), "Service surchargé"),
    ],
)
def test_error_pages_come_before_any_other_reading(html: str, evidence: str) -> None:
    assert found(html, EZBOOKING_URL) == (State.ERROR, "ezbooking", evidence)


def test_maintenance_in_a_long_page_paragraph_is_not_an_error() -> None:
    news = "<p>" + "Actualités de la préfecture. " * 40 + "Opération de maintenance du réseau routier.</p>"
    html = page(news + "<div id='inner_Booking'><h2>Vérification de disponibilité</h2></div>")
    assert classify(html, EZBOOKING_URL).state is State.NOSLOT


@pytest.mark.parametrize(("status", "phrase"), [(503, "Service Unavailable"), (403, "Forbidden"),
                                                 (429, "Too Many Requests"), (500, "Internal Server Error")])
def test_http_error_status_is_an_error_even_on_a_blank_page(status: int, phrase: str) -> None:
    assert classify("", EZBOOKING_URL, http_status=status) == Classification(
        State.ERROR, "ezbooking", f"Le serveur a répondu avec le code HTTP {status} ({phrase})."
    )


def test_http_error_status_keeps_the_error_text_of_the_page_as_evidence() -> None:
    assert classify(page("<h1>502 Bad Gateway</h1>"), EZBOOKING_URL, http_status=502).evidence_text == "502 Bad Gateway"


def test_http_error_status_wins_over_a_noslot_text() -> None:
    html = page("<div id='inner_Booking'>Il n'existe plus de plage horaire libre pour votre demande de "
                "rendez-vous.</div>")
    assert classify(html, EZBOOKING_URL, http_status=403).state is State.ERROR
    assert classify(html, EZBOOKING_URL, http_status=200).state is State.NOSLOT
    assert classify(html, EZBOOKING_URL, http_status=404).state is State.NOSLOT


# ----------------------------------------------------------------------------------------- RDV Préfecture


def rdvpref_creneau(body: str) -> str:
    return page(f"<main><h1>Choisissez votre créneau</h1><div id='q-app'>{body}</div></main>")


def message(text: str) -> str:
    return f'<div class="row col-12 justify-center"><div class="text-center q-pa-md">{text}</div></div>'


@pytest.mark.parametrize(
    ("html", "state", "evidence"),
    [
        (page('<rdv-captchetat token="abc"></rdv-captchetat>'), State.CAPTCHA,
         "Captcha affiché sur la page (élément rdv-captchetat)."),
        (page("<label for='captchaFormulaireExtInput'>Saisissez le code de sécurité</label>"), State.CAPTCHA,
         "Saisissez le code de sécurité"),
        # The last week on offer can show slots next to « Aucun créneau disponible à partir de cette date. »
        (rdvpref_creneau('<ul><li class="row cellule justify-center radio-card"><input type="radio" name="trhId" '
                         'id="trhId_1"><label class="fr-label" for="trhId_1">09h30</label></li></ul>'
                         + message("Aucun créneau disponible à partir de cette date.<br/>Veuillez réessayer "
                                   "ultérieurement.")),
         State.SLOTS, "1 créneau(x) proposé(s) au choix sur la page."),
    ],
)
def test_rdvpref_pages(html: str, state: State, evidence: str) -> None:
    assert found(html, RDVPREF_URL) == (state, "rdvpref", evidence)


def test_rdvpref_first_availability_in_the_page_data_alone_is_not_a_result() -> None:
    html = rdvpref_creneau('<script>window.data = {"critere": {"datePremiereDispo": "2025-06-02"}};</script>')
    assert classify(html, RDVPREF_URL).state is State.UNKNOWN


def test_unrendered_vue_template_and_hidden_text_are_ignored() -> None:
    template = """<template id="rdv-choix-tranche"><div class="text-center q-pa-md">Aucun créneau disponible à
    partir de cette date.</div><div class="text-center q-pa-md">Aucun créneau disponible sur cette semaine</div>
    </template><div class="text-center q-pa-md" style="display: none">Aucun créneau disponible sur cette
    semaine</div><div class="text-center q-pa-md" hidden>Veuillez réessayer ultérieurement.</div>"""
    assert classify(rdvpref_creneau(template), RDVPREF_URL).state is State.UNKNOWN


def test_rdvpref_decisive_places_for_the_live_page() -> None:
    html = rdvpref_creneau(message("Aucun créneau disponible sur cette semaine"))
    decisive = classify(html, RDVPREF_URL).decisive
    assert decisive is not None and (decisive.region, decisive.text) == (
        ".q-pa-md", "Aucun créneau disponible sur cette semaine"
    )


# ------------------------------------------------------------------------------- Val-de-Marne eAppointment

HOURS_PAGE = page(
    """<h3>3/4 : Lieu, date et heure</h3><p>Veuillez sélectionner la date puis l'heure souhaitée.</p>
    <fieldset><legend>Choisissez la date (cliquez sur le calendrier).</legend>
    <label>Choix de la date</label><input type="text" value="23/01/2020">
    <label>A partir de</label><select id="hourValueSelect"><option>Choisissez...</option><option>09:00</option>
    </select></fieldset>
    <fieldset><legend>Choix d'une heure</legend><div class="availabilityColumnX">
    <input type="radio" name="hour" value="1"> A 09:45<br><input type="radio" name="hour" value="2"> A 09:48<br>
    </div></fieldset><input type="button" id="nextButtonId" value="Continuer">"""
)
DATEPICKER = """<h3>3/4 : Lieu, date et heure</h3><div class="ui-datepicker"><table class="ui-datepicker-calendar">
<tr><td class="ui-datepicker-unselectable ui-state-disabled"><span class="ui-state-default">21</span></td>
<td class="ui-datepicker-unselectable ui-state-disabled"><span class="ui-state-default">22</span></td>{}</tr>
</table></div>"""


@pytest.mark.parametrize(
    ("html", "state", "evidence"),
    [
        (HOURS_PAGE, State.SLOTS, "2 heure(s) proposée(s) au choix (« Choix d'une heure »)."),
        (page(DATEPICKER.format('<td><a class="ui-state-default" href="#">23</a></td>'
                                '<td><a class="ui-state-default" href="#">24</a></td>')),
         State.SLOTS, "Jours sélectionnables dans le calendrier : 23, 24"),
        (page("""<h3>4/4 : informations personnelles</h3><p>Le 23 janv. 2020 à 09:45</p>
              <label>Code de vérification (*)</label>
              <div class="img_captcha"><img src="/eAppointmentpref94/captcha?1">
              </div><p>Veuillez saisir le code ci-dessus.</p>"""),
         State.CAPTCHA, "Code de vérification (*)"),
    ],
)
def test_eappointment_pages(html: str, state: State, evidence: str) -> None:
    assert found(html, EAPPOINTMENT_URL) == (state, "eappointment94", evidence)


@pytest.mark.parametrize(
    "html",
    [
        page(DATEPICKER.format("")),
        page("""<h3>3/4 : Lieu, date et heure</h3>
             <label>Choix de la date</label><input type="text" value="23/01/2020">
             <label>A partir de</label><select><option>Choisissez...</option><option>09:00</option></select>"""),
    ],
)
def test_eappointment_without_selectable_day_or_hour_is_unknown(html: str) -> None:
    assert classify(html, EAPPOINTMENT_URL).state is State.UNKNOWN


# ------------------------------------------------------------------------------- RDV Service Public, generic

ANCT_SENTENCE = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
ANCT_NOSLOT = page(f"<main><div class='card'><div class='card-body'><div class='rdv-font-weight-700'>{ANCT_SENTENCE}"
                   "</div></div></div></main>")


def test_anct_noslot() -> None:
    assert found(ANCT_NOSLOT, ANCT_URL) == (State.NOSLOT, "anct", ANCT_SENTENCE)


@pytest.mark.parametrize(
    "html",
    [
        ANCT_NOSLOT,
        rdvpref_creneau(message("Aucun créneau disponible à partir de cette date.")),
        page("<div id='inner_Booking'><form id='FormBookingCreate'>Il n'existe plus de plage horaire libre pour "
             "votre demande de rendez-vous.</form></div>"),
    ],
)
def test_generic_knows_the_unambiguous_noslot_sentences_in_their_place(html: str) -> None:
    assert classify(html, "https://rdv.example.org/agenda").state is State.NOSLOT


def test_generic_never_reads_slots_from_the_rdvpref_trap() -> None:
    html = rdvpref_creneau(message("Aucun créneau disponible sur cette semaine")
                           + message("<button>Prochaine disponibilité le 02/06/2025</button>"))
    assert classify(html, "https://rdv.example.org/agenda").state is State.UNKNOWN


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("html", ["", "<html><body>  \n </body></html>", "<script>var a = 1;</script>"])
def test_blank_pages_are_unknown(url: str | None, html: str) -> None:
    result = classify(html, url)
    assert (result.state, result.evidence_text) == (State.UNKNOWN, "Page vide : aucun texte affiché.")


@pytest.mark.parametrize("url", URLS)
def test_a_page_without_any_known_marker_is_unknown(url: str | None) -> None:
    result = classify(page("<h1>Bienvenue</h1><p>Prenez rendez-vous en ligne avec nos services.</p>"), url)
    assert result.state is State.UNKNOWN
    assert result.evidence_text.startswith("Aucun marqueur connu de « ")


# ------------------------------------------------------------------------------------------ the rule data


def test_every_platform_has_rules_that_start_with_the_common_checks() -> None:
    for platform in PLATFORMS.values():
        assert platform.rules[: len(platform_rules.COMMON)] == platform_rules.COMMON, platform.name
        assert any(rule.is_result for rule in platform.rules), platform.name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region": "div[", "texts": ("x",)}, "sélecteur CSS illisible"),
        ({"region": "body", "elements": "a"}, "donne une explication"),
        ({"region": "body", "elements": "a", "explanation": "{nombre}"}, "champ inconnu"),
        ({"region": "body"}, "cherche des textes ou des éléments"),
        ({"region": None, "elements": "a", "explanation": "x"}, "boîtes de dialogue"),
        ({"region": "body", "texts": (" ",)}, "texte vide"),
        ({"region": "body", "texts": ("x",), "min_count": 0}, "min_count"),
    ],
)
def test_a_wrong_rule_fails_when_it_is_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((RuleError, SelectorError), match=message):
        Rule(State.NOSLOT, **kwargs)  # type: ignore[arg-type]


def test_french_labels() -> None:
    assert [s.label for s in State] == ["aucun créneau", "créneaux disponibles", "captcha", "erreur", "indéterminé"]
    assert State("noslot") is State.NOSLOT


# ------------------------------------------------------------------------------ input that is not HTML


@pytest.mark.parametrize(
    "garbage",
    [
        "<![\x01\x02 garbage",  # html.parser used to die on this: AssertionError: expected name token
        "\x00\x00<a\x00 href='\x00'>",
        "<" * 10_000,
        "<!--" + "x" * 1000,
        "<div " * 2000,
        "<svg><foreignObject><math><mi><table><template><tr>",
        "\ud800 lone surrogate <p>\udfff</p>",
        os.urandom(20_000).decode("latin-1"),
    ],
)
@pytest.mark.parametrize("url", URLS)
def test_garbage_never_crashes_the_parser(garbage: str, url: str | None) -> None:
    assert classify(garbage, url).state in (State.UNKNOWN, State.ERROR)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(text=st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
       url=st.sampled_from(URLS), status=st.none() | st.integers(100, 599))
def test_any_text_gives_a_classification(text: str, url: str | None, status: int | None) -> None:
    result = classify(text, url, http_status=status)
    assert isinstance(result.state, State) and result.evidence_text


def test_deep_nesting_is_cut_where_browsers_stop_nesting() -> None:
    deep = "<div>" * (MAX_NESTING + 5000) + "Il n'existe plus de plage horaire libre"
    assert bounded_nesting(deep) == "<div>" * MAX_NESTING
    assert Page.parse(deep).blocks == ()
    shallow = "<div>" * 50 + "texte" + "</div>" * 50
    assert bounded_nesting(shallow) == shallow


def test_a_classify_command_on_garbage_gives_one_french_line(cli, tmp_path) -> None:
    garbage = tmp_path / "page.html"
    garbage.write_bytes(b"<![\x01\x02 garbage" + os.urandom(3000))
    result = cli("classify", str(garbage), "--url", RDVPREF_URL)
    assert result.code == 0 and "Traceback" not in result.out + result.err
    assert result.out.strip().startswith("indéterminé (rdvpref) : « ") and len(result.out.strip().splitlines()) == 1
    missing = cli("classify", str(tmp_path / "absente.html"))
    assert missing.code == 2 and missing.err.strip().startswith("Erreur : ") and "lecture impossible" in missing.err


def _markup(children: list[str]) -> str:
    return "".join(children)


_html_trees = st.recursive(
    st.sampled_from(["texte", "Aucun créneau", " ", "<br>", "<input type=submit value=OK>", "a&nbsp;b"]),
    lambda inner: st.builds(
        lambda tag, hidden, children: f"<{tag}{' hidden' if hidden else ''}>{_markup(children)}</{tag}>",
        st.sampled_from(["div", "p", "span", "b", "li", "td", "script", "section"]),
        st.booleans(),
        st.lists(inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(body=st.lists(_html_trees, max_size=5))
def test_the_one_pass_text_of_a_region_is_its_text_read_alone(body: list[str]) -> None:
    html = page(_markup(body))
    regions = "div, p, li, td, section"
    noted = Page.parse(html, regions=[regions])  # region texts noted during the page's pass
    alone = Page.parse(html)  # region texts read on demand
    for node, twin in zip(noted.select(regions), alone.select(regions), strict=True):
        assert noted.visible(node) == alone.visible(twin)
        if noted.visible(node):
            assert noted.text_of(node) == alone.text_of(twin)
    assert noted.blocks == alone.blocks


REBUILT = Path(__file__).parent / "fixtures" / "rebuilt_pages"


def test_the_classify_command_gives_a_block_reference_and_an_announced_publication(cli) -> None:
    blocked = cli("classify", str(REBUILT / "cloudflare_blocked.html"), "--url", RDVPREF_URL, "--json")
    assert blocked.code == 0
    assert json.loads(blocked.out) | {"evidence_text": None} == {
        "state": "error", "platform": "rdvpref", "evidence_text": None,
        "block_reference": "8d3f0a1b2c4e5f67", "next_release": None,
    }
    announced = cli("classify", str(REBUILT / "rdvpref_creneau_sans_calendrier.html"), "--url", RDVPREF_URL)
    assert announced.code == 0
    assert announced.out.splitlines() == [
        "aucun créneau (rdvpref) : « Veuillez réessayer ultérieurement. »",
        "Prochaine mise en ligne annoncée : 16/03/2026 14:00:00 (UTC+01:00)",
    ]
