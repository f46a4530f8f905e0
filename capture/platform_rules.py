"""What each booking platform's pages say, as classification rules: a region of the page, its exact texts.

Sources: REFERENCE.md §4, the real page samples (tests/fixtures/real_pages/, with their provenance) and, for
RDV Préfecture, the Vue template of its slot page (``rdv-choix-tranche``) as published by the site: every
message of that page sits in a ``div.text-center.q-pa-md``, every slot is a ``li.radio-card`` holding an
``input[name=trhId]`` (desktop grid and mobile list alike).

Order matters: within a platform the first rule that applies decides. Every platform starts with the same
checks, in this order: an anti-bot service (Cloudflare) in front of the site, server errors (the overload page
of the prefecture module says *both* that the service is overloaded and that there is no slot — it is an error
page), captcha gates; then the platform's results; then its known intermediate steps, which are « indéterminé »
like any page without a known marker. Nothing is « aucun créneau » or « créneaux disponibles » by default.
"""

from __future__ import annotations

from capture.rules import Rule
from capture.states import State

# ------------------------------------------------------------------------------------------------ texts
# The classic prefecture module (eZ Publish « booking »).
EZBOOKING_NOSLOT = "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous"
EZBOOKING_NOSLOT_HEADING = "Vérification de disponibilité"
EZBOOKING_DESCRIPTION_HEADING = "Description de la nature du rendez-vous"
EZBOOKING_PLANNING_HEADING = "Choix d'une plage horaire"
EZBOOKING_CONDITIONS = "Veuillez cocher la case pour accepter les conditions d'utilisation"
EZBOOKING_CONDITIONS_BUTTON = "Effectuer une demande de rendez-vous"
EZBOOKING_COUNTER_HEADING = "Choix de la nature du rendez-vous"
EZBOOKING_COUNTER_QUESTION = "Que souhaitez-vous effectuer ?"
EZBOOKING_UNAVAILABLE = "Attention : Cette page n'est pas disponible pour le moment"
# RDV Préfecture.
RDVPREF_CAPTCHA = "code de sécurité"
RDVPREF_LAST_WEEK = "Aucun créneau disponible à partir de cette date."
RDVPREF_EMPTY_WEEK = "Aucun créneau disponible sur cette semaine"
RDVPREF_NEXT_AVAILABILITY = "Prochaine disponibilité le"
RDVPREF_RETRY = "Veuillez réessayer ultérieurement."
RDVPREF_NEXT_RELEASE = "Prochaine mise en ligne de nouveaux rendez-vous : le"
# RDV Service Public (rdv.anct.gouv.fr).
ANCT_NOSLOT = "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé."
ANCT_NOSLOT_INVITATION = "Malheureusement, aucun créneau correspondant à votre invitation n'a été trouvé."
ANCT_ALL_TAKEN = "Malheureusement, tous les créneaux sont pris."
ANCT_NEXT_AVAILABILITY = "Prochaine disponibilité le"
ANCT_ERRORS = ("Page introuvable", "Erreur inattendue")
# eAppointment (Val-de-Marne, until its move to RDV Préfecture): the no-slot message is an alert(), spelling
# of the site kept.
EAPPOINTMENT_NOSLOT_DIALOG = "Aucun rendez-vous n'est possible pour les motifs selectionnnés"
EAPPOINTMENT_CAPTCHA = "Code de vérification"
# Cloudflare, in front of any platform.
CLOUDFLARE_BLOCKED = "Sorry, you have been blocked"
CLOUDFLARE_RATE_LIMITED = "You are being rate limited"
CLOUDFLARE_CHALLENGES = (
    "Verify you are human",
    "Checking your browser before accessing",
    "Checking if the site connection is secure",
    "needs to review the security of your connection",
)
CLOUDFLARE_RAY = "Ray ID"
# Servers and proxies (nginx, Apache, HAProxy) and the prefecture module's overload page.
ERROR_TEXTS = (
    "Service surchargé",
    "Request forbidden by administrative rules",
    "The server returned an invalid or incomplete response",
    "No server is available to handle this request",
    "403 Forbidden",
    "404 Not Found",
    "429 Too Many Requests",
    "500 Internal Server Error",
    "502 Bad Gateway",
    "503 Service Unavailable",
    "503 Service Temporarily Unavailable",
    "504 Gateway Time-out",
    "504 Gateway Timeout",
)
# Words that also occur in ordinary pages (a news item about a maintenance): they count only in a heading or
# on a page short enough to be a bare error page.
WEAK_ERROR_TEXTS = ("site indisponible", "service indisponible", "maintenance")
SHORT_PAGE_CHARS = 600

HEADINGS = "h1, h2, h3"
_NOT_A_RESULT = "la page n'indique pas s'il reste des créneaux."

# ------------------------------------------------------------------------------------------- common rules
CLOUDFLARE: tuple[Rule, ...] = (
    Rule(State.ERROR, HEADINGS, (CLOUDFLARE_BLOCKED,), requires=(CLOUDFLARE_RAY,), block="blocked"),
    Rule(State.ERROR, HEADINGS, (CLOUDFLARE_RATE_LIMITED,), requires=(CLOUDFLARE_RAY,), block="rate-limited"),
    Rule(State.CAPTCHA, "body", CLOUDFLARE_CHALLENGES, requires=(CLOUDFLARE_RAY,)),
)
ERRORS: tuple[Rule, ...] = (
    Rule(State.ERROR, HEADINGS, ERROR_TEXTS),
    Rule(State.ERROR, "body", ERROR_TEXTS, max_page_chars=SHORT_PAGE_CHARS),
    Rule(State.ERROR, HEADINGS, WEAK_ERROR_TEXTS),
    Rule(State.ERROR, "body", WEAK_ERROR_TEXTS, max_page_chars=SHORT_PAGE_CHARS),
    Rule(State.ERROR, "title", (*ERROR_TEXTS, *WEAK_ERROR_TEXTS)),
)
CAPTCHA_WIDGETS = (
    ".g-recaptcha, .h-captcha, .cf-turnstile, .img_captcha, .choice_captcha, rdv-captchetat, "
    "[id^=BDC_Captcha], img[src*=captcha i], img[id*=captcha i]"
)
CAPTCHA_MARKUP = Rule(
    State.CAPTCHA, "html", elements=CAPTCHA_WIDGETS, explanation="Captcha affiché sur la page (élément {element})."
)
COMMON: tuple[Rule, ...] = (*CLOUDFLARE, *ERRORS)

# --------------------------------------------------------------------------------------------- platforms
EZBOOKING_REGION = "#inner_Booking, #FormBookingCreate"
EZBOOKING: tuple[Rule, ...] = (
    *COMMON,
    Rule(State.ERROR, "body", (EZBOOKING_UNAVAILABLE,)),
    CAPTCHA_MARKUP,
    Rule(State.NOSLOT, EZBOOKING_REGION, (EZBOOKING_NOSLOT,)),
    Rule(State.NOSLOT, "#inner_Booking h2", (EZBOOKING_NOSLOT_HEADING,)),
    Rule(State.SLOTS, "#inner_Booking h2", (EZBOOKING_DESCRIPTION_HEADING,)),
    # The week table: cells « libre » (one of them is the legend) or links to a slot.
    Rule(State.SLOTS, "#inner_Booking", elements="td, span", element_text="libre", min_count=2,
         explanation="Tableau des plages horaires : {count} cases « libre » affichées (légende comprise)."),
    Rule(State.SLOTS, "body", elements='a[href*="/booking/create/"][href*="/5/"]',
         explanation="{count} lien(s) vers une plage horaire (premier : « {first} »)."),
    Rule(State.UNKNOWN, "#inner_Booking h2", (EZBOOKING_PLANNING_HEADING,),
         explanation="Tableau des plages horaires sans case « libre » : les autres semaines ne sont pas visibles."),
    Rule(State.UNKNOWN, "body", elements='input[name="planning"]',
         explanation=f"Étape intermédiaire (choix du guichet) : {_NOT_A_RESULT}"),
    Rule(State.UNKNOWN, "body", (EZBOOKING_COUNTER_HEADING, EZBOOKING_COUNTER_QUESTION),
         explanation=f"Étape intermédiaire (choix du guichet) : {_NOT_A_RESULT}"),
    Rule(State.UNKNOWN, "body", elements="input#condition, input[name=condition]",
         explanation=f"Étape intermédiaire (acceptation des conditions d'utilisation) : {_NOT_A_RESULT}"),
    Rule(State.UNKNOWN, "body", (EZBOOKING_CONDITIONS, EZBOOKING_CONDITIONS_BUTTON),
         explanation=f"Étape intermédiaire (acceptation des conditions d'utilisation) : {_NOT_A_RESULT}"),
)

RDVPREF_MESSAGE = ".q-pa-md"
RDVPREF_SLOTS = Rule(State.SLOTS, "body", elements='li.radio-card:has(input[name="trhId"])',
                     explanation="{count} créneau(x) proposé(s) au choix sur la page.")
RDVPREF: tuple[Rule, ...] = (
    *COMMON,
    Rule(State.CAPTCHA, "body", (RDVPREF_CAPTCHA,)),
    CAPTCHA_MARKUP,
    # Slots first: the last week on offer may show slots *and* « Aucun créneau disponible à partir de cette date ».
    RDVPREF_SLOTS,
    # An empty week with the button to a later one: slots exist, in a later week. NOT a no-slot page.
    Rule(State.SLOTS, RDVPREF_MESSAGE, (RDVPREF_NEXT_AVAILABILITY,), requires=(RDVPREF_EMPTY_WEEK,)),
    Rule(State.NOSLOT, RDVPREF_MESSAGE, (RDVPREF_EMPTY_WEEK,), unless=(RDVPREF_NEXT_AVAILABILITY,)),
    Rule(State.NOSLOT, RDVPREF_MESSAGE, (RDVPREF_LAST_WEEK,)),
    # No calendar at all: nothing published; the next publication is usually announced beside it.
    Rule(State.NOSLOT, RDVPREF_MESSAGE, (RDVPREF_RETRY,)),
)

EAPPOINTMENT: tuple[Rule, ...] = (
    *COMMON,
    Rule(State.NOSLOT, None, (EAPPOINTMENT_NOSLOT_DIALOG,)),
    Rule(State.CAPTCHA, "body", (EAPPOINTMENT_CAPTCHA,)),
    CAPTCHA_MARKUP,
    Rule(State.SLOTS, "body", elements="[class*=availabilityColumn] input[type=radio]",
         explanation="{count} heure(s) proposée(s) au choix (« Choix d'une heure »)."),
    Rule(State.SLOTS, ".ui-datepicker-calendar", elements="a.ui-state-default",
         explanation="Jours sélectionnables dans le calendrier : {all}"),
)

ANCT: tuple[Rule, ...] = (
    *COMMON,
    Rule(State.ERROR, "main h1", ANCT_ERRORS),
    CAPTCHA_MARKUP,
    Rule(State.SLOTS, "main", elements='a[href*="rdv_wizard_step"]',
         explanation="{count} créneau(x) proposé(s) au choix (premier : « {first} »)."),
    Rule(State.SLOTS, "main a", (ANCT_NEXT_AVAILABILITY,)),
    Rule(State.NOSLOT, "main .card-body", (ANCT_NOSLOT, ANCT_NOSLOT_INVITATION)),
    Rule(State.NOSLOT, "main", (ANCT_ALL_TAKEN,)),
)

# A site the tool has no preset for: only the unambiguous no-slot sentences, each in its own platform's region,
# and no reading of slots.
GENERIC: tuple[Rule, ...] = (
    *COMMON,
    CAPTCHA_MARKUP,
    Rule(State.NOSLOT, EZBOOKING_REGION, (EZBOOKING_NOSLOT,)),
    Rule(State.NOSLOT, RDVPREF_MESSAGE, (RDVPREF_LAST_WEEK,)),
    Rule(State.NOSLOT, ".card-body .rdv-font-weight-700", (ANCT_NOSLOT,)),
)
