"""Classification of real page samples (tests/fixtures/real_pages/) and of pages rebuilt by hand from public
descriptions of the real ones (tests/fixtures/rebuilt_pages/, see its README): one test per variant, asserting
the state, the decisive text and the facts recorded beside it."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from capture.classify import Classification, classify
from capture.platforms import PLATFORMS
from capture.rules import Decisive
from capture.states import State

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real_pages"
REBUILT = FIXTURES / "rebuilt_pages"
ANCT = REAL / "rdv-service-public"
EZBOOKING_URL = "https://www.val-doise.gouv.fr/booking/create/11343/2"
DEMARCHE = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4443/"
CRENEAU = DEMARCHE + "creneau/"
EAPPOINTMENT_URL = "https://rdv-etrangers-94.interieur.gouv.fr/eAppointmentpref94/element/jsp/specific/pref94.jsp"
EAPPOINTMENT_NOSLOT = (
    "Aucun rendez-vous n'est possible pour les motifs selectionnnés ou le créneau horaire séléctionné."
)
PARIS = ZoneInfo("Europe/Paris")


def html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------- classic prefecture module


@pytest.mark.parametrize("url", [EZBOOKING_URL, None])
def test_real_noslot_page_is_noslot_with_the_sentence_as_evidence(url: str | None) -> None:
    result = classify(html(REAL / "ezbooking_noslot_valdoise_medsadok07-prefecture-bot.html"), url)
    assert result.state is State.NOSLOT
    sentence = (
        "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement."
    )
    assert result.evidence_text == sentence
    assert result.decisive == Decisive("#inner_Booking, #FormBookingCreate", text=sentence)


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_real_overload_page_is_an_error_although_it_mentions_no_slots(platform: str) -> None:
    page = html(REAL / "ezbooking_error_service_surcharge_valdoise_medsadok07-prefecture-bot.html")
    assert "il n'y plus de créneaux de rendez-vous disponibles" in page
    result = classify(page, EZBOOKING_URL, platform=platform)
    assert (result.state, result.platform, result.evidence_text) == (State.ERROR, platform, "Service surchargé")


def test_real_counter_choice_excerpt_is_unknown() -> None:
    text = "\n".join(
        line for line in html(REAL / "ezbooking_step1_guichets_textexcerpt_valdemarne_ajoseph12-rdv-pref-92.txt")
        .splitlines() if not line.startswith("#")
    )
    result = classify(text, "https://www.val-de-marne.gouv.fr/booking/create/4963/1")
    assert (result.state, result.platform) == (State.UNKNOWN, "ezbooking")
    assert "choix du guichet" in result.evidence_text


# ------------------------------------------------------------------------------------- RDV Service Public

LABELS = json.loads((ANCT / "labels.json").read_text(encoding="utf-8"))
DECISIVE_ANCT = {
    "anct_recherche_aucun_creneau.html":
        "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé.",
    "anct_invitation_aucun_creneau.html":
        "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé.",
    "anct_rdv_existant_tous_pris.html":
        "Malheureusement, tous les créneaux sont pris. Vous recevrez d'autres propositions si un créneau se "
        "libère. La date de votre RDV reste le mardi 19 mai 2026 à 10h00.",
    "anct_creneaux_semaine.html": "4 créneau(x) proposé(s) au choix (premier : « 09:00 »).",
    "anct_creneaux_prochaine_dispo.html": "Prochaine disponibilité le lundi 06 juillet 2026 à 09h00",
    "anct_choix_lieu.html": "Prochaine disponibilité le mardi 16 juin 2026 à 09h00",
    "anct_maintenance.html": "Service indisponible",
    "anct_erreur_404.html": "Page introuvable",
    "anct_erreur_500.html": "Erreur inattendue",
    "anct_accueil_comment_ca_marche.html": "Aucun marqueur connu de « RDV Service Public » sur la page.",
}


def test_every_rdv_service_public_sample_is_tested() -> None:
    assert sorted(label["file"] for label in LABELS) == sorted(DECISIVE_ANCT)
    assert sorted(p.name for p in ANCT.glob("*.html")) == sorted(DECISIVE_ANCT)


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_rdv_service_public_samples_get_their_labelled_state(label: dict[str, str]) -> None:
    result = classify(html(ANCT / label["file"]), label["url"])
    assert (result.state.value, result.platform) == (label["state"], "anct"), label["why"]
    assert result.evidence_text == DECISIVE_ANCT[label["file"]]


def test_rdv_service_public_noslot_sentence_off_its_booking_pages_is_no_result() -> None:
    page = html(ANCT / "anct_recherche_aucun_creneau.html")
    result = classify(page, "https://rdv.anct.gouv.fr/presentation_agent")
    assert result.state is State.UNKNOWN
    assert "l'adresse n'est pas une page de réservation" in result.evidence_text


# ------------------------------------------------------------------------------------------ RDV Préfecture


@pytest.mark.parametrize(
    ("name", "state", "evidence", "next_release"),
    [
        ("rdvpref_creneau_creneaux_bureau.html", State.SLOTS, "3 créneau(x) proposé(s) au choix sur la page.", None),
        ("rdvpref_creneau_creneaux_mobile.html", State.SLOTS, "2 créneau(x) proposé(s) au choix sur la page.", None),
        # The trap: an empty week with a button to a later one is NOT a no-slot page.
        ("rdvpref_creneau_semaine_vide_prochaine_dispo.html", State.SLOTS, "Prochaine disponibilité le 06/04/2026",
         None),
        ("rdvpref_creneau_semaine_vide_sans_dispo.html", State.NOSLOT, "Aucun créneau disponible sur cette semaine",
         None),
        ("rdvpref_creneau_derniere_semaine.html", State.NOSLOT,
         "Aucun créneau disponible à partir de cette date. Veuillez réessayer ultérieurement.",
         datetime(2026, 3, 16, 14, 0, tzinfo=PARIS)),
        ("rdvpref_creneau_sans_calendrier.html", State.NOSLOT, "Veuillez réessayer ultérieurement.",
         datetime(2026, 3, 16, 14, 0, tzinfo=PARIS)),
    ],
)
def test_rdvpref_slot_page_variants(name: str, state: State, evidence: str, next_release: datetime | None) -> None:
    result = classify(html(REBUILT / name), CRENEAU)
    assert (result.state, result.platform, result.evidence_text) == (state, "rdvpref", evidence)
    assert result.next_release == next_release
    assert result.block is None


def test_rdvpref_announced_publication_is_an_aware_paris_time() -> None:
    result = classify(html(REBUILT / "rdvpref_creneau_sans_calendrier.html"), CRENEAU)
    assert result.next_release is not None
    assert result.next_release.utcoffset().total_seconds() == 3600  # 16 March: winter time, UTC+1


def test_rdvpref_slots_of_the_mobile_list_hidden_in_closed_days_are_not_counted() -> None:
    page = html(REBUILT / "rdvpref_creneau_creneaux_mobile.html")
    assert page.count('name="trhId"') == 3
    assert classify(page, CRENEAU).evidence_text.startswith("2 ")


@pytest.mark.parametrize("name", ["rdvpref_cgu_captcha.html", "rdvpref_cgu_captcha_invalide.html"])
@pytest.mark.parametrize("query", ["", "?error=invalidCaptcha"])
def test_rdvpref_conditions_page_is_a_captcha(name: str, query: str) -> None:
    result = classify(html(REBUILT / name), DEMARCHE + "cgu/" + query)
    assert (result.state, result.platform) == (State.CAPTCHA, "rdvpref")
    assert "code de sécurité" in result.evidence_text


@pytest.mark.parametrize("name", [
    "rdvpref_creneau_semaine_vide_sans_dispo.html", "rdvpref_creneau_derniere_semaine.html",
    "rdvpref_creneau_creneaux_bureau.html", "rdvpref_creneau_semaine_vide_prochaine_dispo.html",
])
def test_rdvpref_result_pages_at_another_address_are_no_result(name: str) -> None:
    result = classify(html(REBUILT / name), DEMARCHE + "informations-pratiques/")
    assert result.state is State.UNKNOWN
    assert result.next_release is None


@pytest.mark.parametrize("platform", [None, "rdvpref", "generic"])
def test_rdvpref_help_page_quoting_the_messages_is_unknown(platform: str | None) -> None:
    help_page = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/aide/"
    result = classify(html(REBUILT / "rdvpref_aide.html"), help_page, platform)
    assert result.state is State.UNKNOWN
    assert "l'adresse n'est pas une page de réservation" in result.evidence_text


# ------------------------------------------------------------------------------ a FAQ quoting the sentence


@pytest.mark.parametrize("platform", [None, "generic", "ezbooking", "anct", "rdvpref"])
def test_prefecture_faq_quoting_the_noslot_sentences_is_unknown(platform: str | None) -> None:
    """« A no slot must never come from a page that is not a booking result » (issue 12)."""
    page = html(REBUILT / "faq_prefecture_quotes_noslot.html")
    url = "https://www.seine-saint-denis.gouv.fr/Demarches/Foire-aux-questions"
    result = classify(page, url, platform)
    assert result.state is State.UNKNOWN
    assert result.evidence_text.startswith("La phrase « ") and "ce n'est pas un résultat de réservation" in (
        result.evidence_text
    )


def test_the_same_faq_without_its_address_is_still_unknown() -> None:
    assert classify(html(REBUILT / "faq_prefecture_quotes_noslot.html")).state is State.UNKNOWN


# -------------------------------------------------------------------------------------------- eAppointment


def test_eappointment_noslot_is_the_dialog_text() -> None:
    page = html(REBUILT / "eappointment94_motifs.html")
    assert classify(page, EAPPOINTMENT_URL).state is State.UNKNOWN
    result = classify(page, EAPPOINTMENT_URL, dialogs=(EAPPOINTMENT_NOSLOT,))
    assert result == Classification(State.NOSLOT, "eappointment94", EAPPOINTMENT_NOSLOT)


def test_an_unrelated_dialog_decides_nothing() -> None:
    result = classify(html(REBUILT / "eappointment94_motifs.html"), EAPPOINTMENT_URL, dialogs=("Alerte !",))
    assert result.state is State.UNKNOWN


def test_the_eappointment_dialog_off_its_booking_pages_is_no_result() -> None:
    page = html(REBUILT / "eappointment94_motifs.html")
    result = classify(page, "https://rdv-etrangers-94.interieur.gouv.fr/aide.html", dialogs=(EAPPOINTMENT_NOSLOT,))
    assert result.state is State.UNKNOWN


# ------------------------------------------------------------------------------- Cloudflare, HAProxy


@pytest.mark.parametrize("platform", list(PLATFORMS))
@pytest.mark.parametrize(
    ("name", "status", "block", "ray", "evidence"),
    [
        ("cloudflare_blocked.html", 403, "blocked", "8d3f0a1b2c4e5f67", "Sorry, you have been blocked"),
        ("cloudflare_rate_limited_1015.html", 429, "rate-limited", "8d3f0a1b2c4e5f68", "You are being rate limited"),
    ],
)
def test_cloudflare_block_and_rate_limit_are_errors_with_the_ray_id(
    platform: str, name: str, status: int, block: str, ray: str, evidence: str
) -> None:
    for http_status in (status, None):
        result = classify(html(REBUILT / name), CRENEAU, platform, http_status)
        assert (result.state, result.evidence_text) == (State.ERROR, evidence)
        assert (result.block, result.block_reference) == (block, ray)


@pytest.mark.parametrize("platform", list(PLATFORMS))
@pytest.mark.parametrize(
    ("name", "evidence"),
    [
        ("cloudflare_challenge_turnstile.html", "Verify you are human by completing the action below."),
        ("cloudflare_challenge_checking_browser.html",
         "Checking your browser before accessing www.rdv-prefecture.interieur.gouv.fr."),
    ],
)
def test_cloudflare_challenges_are_captchas_even_with_a_403(platform: str, name: str, evidence: str) -> None:
    for http_status in (403, 503, None):
        result = classify(html(REBUILT / name), CRENEAU, platform, http_status)
        assert (result.state, result.evidence_text, result.block) == (State.CAPTCHA, evidence, None)


@pytest.mark.parametrize(
    ("name", "status", "evidence"),
    [("haproxy_503.html", 503, "503 Service Unavailable"), ("haproxy_504.html", 504, "504 Gateway Time-out")],
)
@pytest.mark.parametrize("url", [CRENEAU, EZBOOKING_URL, "https://rdv.anct.gouv.fr/prendre_rdv"])
def test_haproxy_pages_stay_errors(name: str, status: int, evidence: str, url: str) -> None:
    for http_status in (status, None):
        result = classify(html(REBUILT / name), url, http_status=http_status)
        assert (result.state, result.evidence_text, result.block) == (State.ERROR, evidence, None)
