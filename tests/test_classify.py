"""Offline page classification: real page samples, then synthetic pages carrying each site's exact strings."""

from pathlib import Path

import pytest

from capture.classify import RULES, Classification, classify
from capture.platforms import PLATFORMS
from capture.states import State

REAL_PAGES = Path(__file__).parent / "fixtures" / "real_pages"
EZBOOKING_URL = "https://www.val-doise.gouv.fr/booking/create/11343/2"
RDVPREF_URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4443/creneau/"
EAPPOINTMENT_URL = "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/element/jsp/specific/pref94.jsp"
ANCT_URL = "https://rdv.anct.gouv.fr/prendre_rdv?departement=93"


def real_page(name: str) -> str:
    """A sample page; text excerpts lose their '#' provenance header, HTML keeps it (it is a comment)."""
    text = (REAL_PAGES / name).read_text(encoding="utf-8")
    if name.endswith(".txt"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return text


def page(body: str, title: str = "Prise de rendez-vous") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


# ------------------------------------------------------------------------------------------- real samples


@pytest.mark.parametrize("url", [EZBOOKING_URL, None])
def test_real_noslot_page_is_noslot_with_the_sentence_as_evidence(url: str | None) -> None:
    result = classify(real_page("ezbooking_noslot_valdoise_medsadok07-prefecture-bot.html"), url)
    assert result.state is State.NOSLOT
    assert result.evidence_text == (
        "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement."
    )


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_real_overload_page_is_an_error_although_it_mentions_no_slots(platform: str) -> None:
    html = real_page("ezbooking_error_service_surcharge_valdoise_medsadok07-prefecture-bot.html")
    assert "il n'y plus de créneaux de rendez-vous disponibles" in html
    result = classify(html, EZBOOKING_URL, platform=platform)
    assert result == Classification(State.ERROR, platform, "Service surchargé")


def test_real_counter_choice_excerpt_is_unknown() -> None:
    text = real_page("ezbooking_step1_guichets_textexcerpt_valdemarne_ajoseph12-rdv-pref-92.txt")
    result = classify(text, "https://www.val-de-marne.gouv.fr/booking/create/4963/1")
    assert result.state is State.UNKNOWN
    assert result.platform == "ezbooking"
    assert "choix du guichet" in result.evidence_text


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
        (page("<h2>Description de la nature du rendez-vous</h2><p>Pièces à fournir…</p>"), State.SLOTS,
         "Description de la nature du rendez-vous"),
        (planning_table(2), State.SLOTS, "Choix d'une plage horaire : cases « libre » affichées."),
        (page('<a href="/booking/create/11343/5/1650000000">9h15</a>'), State.SLOTS,
         "Lien vers une plage horaire : /booking/create/11343/5/1650000000"),
        (page("<div id='inner_Booking'><h2>Vérification de disponibilité</h2><form>Autre texte.</form></div>"),
         State.NOSLOT, "Vérification de disponibilité"),
        (page('<form><div class="g-recaptcha" data-sitekey="x"></div></form>'), State.CAPTCHA,
         "Captcha affiché sur la page (élément div.g-recaptcha)."),
        (page('<img src="/ezjscore/call/bookingserver::captcha::11343">'), State.CAPTCHA,
         "Captcha affiché sur la page (élément img)."),
    ],
)
def test_classic_module_results(html: str, state: State, evidence: str) -> None:
    assert classify(html, EZBOOKING_URL) == Classification(state, "ezbooking", evidence)


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
    assert result.state is State.UNKNOWN
    assert result.platform == "ezbooking"
    assert explanation in result.evidence_text


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
        (page("<h1>Service surchargé</h1><div>Il n'existe plus de plage horaire libre pour votre demande de "
              "rendez-vous.</div>"), "Service surchargé"),
    ],
)
def test_error_pages_come_before_any_other_reading(html: str, evidence: str) -> None:
    assert classify(html, EZBOOKING_URL) == Classification(State.ERROR, "ezbooking", evidence)


def test_maintenance_in_a_long_page_paragraph_is_not_an_error() -> None:
    news = "<p>" + "Actualités de la préfecture. " * 40 + "Opération de maintenance du réseau routier.</p>"
    html = page(news + "<h2>Vérification de disponibilité</h2>")
    assert classify(html, EZBOOKING_URL).state is State.NOSLOT


@pytest.mark.parametrize(("status", "phrase"), [(503, "Service Unavailable"), (403, "Forbidden"),
                                                 (429, "Too Many Requests"), (500, "Internal Server Error")])
def test_http_error_status_is_an_error_even_on_a_blank_page(status: int, phrase: str) -> None:
    result = classify("", EZBOOKING_URL, http_status=status)
    assert result == Classification(
        State.ERROR, "ezbooking", f"Le serveur a répondu avec le code HTTP {status} ({phrase})."
    )


def test_http_error_status_keeps_the_error_text_of_the_page_as_evidence() -> None:
    html = page("<h1>502 Bad Gateway</h1>")
    assert classify(html, EZBOOKING_URL, http_status=502).evidence_text == "502 Bad Gateway"


def test_http_error_status_wins_over_a_noslot_text() -> None:
    html = page("<p>Il n'existe plus de plage horaire libre pour votre demande de rendez-vous.</p>")
    assert classify(html, EZBOOKING_URL, http_status=403).state is State.ERROR
    assert classify(html, EZBOOKING_URL, http_status=200).state is State.NOSLOT
    assert classify(html, EZBOOKING_URL, http_status=404).state is State.NOSLOT


# ----------------------------------------------------------------------------------------- RDV Préfecture

RDVPREF_CGU = page(
    """<main><h1>Prendre rendez-vous</h1><form method="post">
    <rdv-captchetat token="abc" captcha-style-name="captchaFR"></rdv-captchetat>
    <div id="BDC_CaptchaComponent"><img id="captchaFR_CaptchaImage" src="data:image/png;base64,AAAA">
    <a id="captchaFR_SoundLink" title="Énoncer le code du captcha" href="#">Écouter</a></div>
    <label for="captchaFormulaireExtInput">Saisissez le code de sécurité</label>
    <input id="captchaFormulaireExtInput" type="text">
    <button formaction="/rdvpref/_validerCaptcha">Suivant</button>
    </form></main>"""
)


def rdvpref_creneau(body: str) -> str:
    return page(f"<main><h1>Choisissez votre créneau</h1>{body}</main>")


@pytest.mark.parametrize(
    ("html", "state", "evidence"),
    [
        (RDVPREF_CGU, State.CAPTCHA, "Saisissez le code de sécurité"),
        (page('<rdv-captchetat token="abc"></rdv-captchetat>'), State.CAPTCHA,
         "Captcha affiché sur la page (élément rdv-captchetat)."),
        (rdvpref_creneau("<p>Aucun créneau disponible à partir de cette date.</p><p>Veuillez réessayer "
                         "ultérieurement.</p><p>Prochaine mise en ligne de nouveaux rendez-vous : le 12/05</p>"),
         State.NOSLOT, "Aucun créneau disponible à partir de cette date."),
        # The trap: an empty week with a later availability is NOT a no-slot page.
        (rdvpref_creneau("<p>Aucun créneau disponible sur cette semaine</p>"
                         "<button class='fr-btn'>Prochaine disponibilité le 02/06/2025</button>"),
         State.SLOTS, "Prochaine disponibilité le 02/06/2025"),
        (rdvpref_creneau("""<ul><li class="row cellule justify-center radio-card">
            <input type="radio" name="trhId" id="trhId_1" value="1">
            <label class="fr-label" for="trhId_1">09h30</label>
            </li><li class="row cellule justify-center radio-card">
            <input type="radio" name="trhId" id="trhId_2" value="2">
            <label class="fr-label" for="trhId_2">10h00</label>
            </li></ul><button>Voir plus de créneaux</button>"""),
         State.SLOTS, "2 créneau(x) proposé(s) au choix sur la page."),
        (rdvpref_creneau('<script>window.data = {"critere": {"datePremiereDispo": "2025-06-02"}};</script>'),
         State.SLOTS, '"datePremiereDispo": "2025-06-02"'),
    ],
)
def test_rdvpref_pages(html: str, state: State, evidence: str) -> None:
    assert classify(html, RDVPREF_URL) == Classification(state, "rdvpref", evidence)


def test_rdvpref_empty_week_without_next_availability_is_unknown() -> None:
    result = classify(rdvpref_creneau("<p>Aucun créneau disponible sur cette semaine</p>"), RDVPREF_URL)
    assert result.state is State.UNKNOWN
    assert "sans date de prochaine disponibilité" in result.evidence_text


def test_rdvpref_empty_first_availability_data_is_not_a_result() -> None:
    html = rdvpref_creneau('<script>var d = {"critere": {"datePremiereDispo": ""}};</script>')
    assert classify(html, RDVPREF_URL).state is State.UNKNOWN


def test_unrendered_vue_template_text_is_ignored() -> None:
    template = """<template id="rdv-choix-tranche"><p>Aucun créneau disponible à partir de cette date.</p>
    <p>Aucun créneau disponible sur cette semaine</p><button>Prochaine disponibilité le {{ date }}</button>
    </template><div style="display: none">Aucun créneau disponible à partir de cette date.</div>"""
    assert classify(rdvpref_creneau(template), RDVPREF_URL).state is State.UNKNOWN


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
        (HOURS_PAGE, State.SLOTS, "Choix d'une heure : A 09:45"),
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
    assert classify(html, EAPPOINTMENT_URL) == Classification(state, "eappointment94", evidence)


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

ANCT_NOSLOT = page(
    "<div class='card'><p>Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé.</p>"
    "</div>"
)


def test_anct_noslot() -> None:
    assert classify(ANCT_NOSLOT, ANCT_URL) == Classification(
        State.NOSLOT, "anct", "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
    )


@pytest.mark.parametrize(
    "html", [ANCT_NOSLOT, rdvpref_creneau("<p>Aucun créneau disponible à partir de cette date.</p>")]
)
def test_generic_knows_the_unambiguous_noslot_sentences(html: str) -> None:
    assert classify(html, "https://rdv.example.org/agenda").state is State.NOSLOT


def test_generic_never_reads_slots_from_the_rdvpref_trap() -> None:
    html = rdvpref_creneau("<p>Aucun créneau disponible sur cette semaine</p><button>Prochaine disponibilité le "
                           "02/06/2025</button>")
    assert classify(html, "https://rdv.example.org/agenda").state is State.UNKNOWN


@pytest.mark.parametrize("url", [EZBOOKING_URL, RDVPREF_URL, EAPPOINTMENT_URL, ANCT_URL, None])
@pytest.mark.parametrize("html", ["", "<html><body>  \n </body></html>", "<script>var a = 1;</script>"])
def test_blank_pages_are_unknown(url: str | None, html: str) -> None:
    result = classify(html, url)
    assert result.state is State.UNKNOWN
    assert result.evidence_text == "Page vide : aucun texte affiché."


@pytest.mark.parametrize("url", [EZBOOKING_URL, RDVPREF_URL, EAPPOINTMENT_URL, ANCT_URL, None])
def test_a_page_without_any_known_marker_is_unknown(url: str | None) -> None:
    html = page("<h1>Bienvenue</h1><p>Prenez rendez-vous en ligne avec nos services.</p>")
    result = classify(html, url)
    assert result.state is State.UNKNOWN
    assert result.evidence_text.startswith("Aucun marqueur connu de « ")


def test_every_platform_has_classification_rules() -> None:
    assert RULES.keys() == PLATFORMS.keys()


def test_french_labels() -> None:
    labels = ["aucun créneau", "créneaux disponibles", "captcha", "erreur", "indéterminé"]
    assert [s.label for s in State] == labels
    assert State("noslot") is State.NOSLOT
