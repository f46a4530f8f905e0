"""The classic prefecture booking module (eZ Publish ``/booking/create/<id>/<step>``).

Markup and strings come from the real no-slot page saved from ``www.val-doise.gouv.fr/booking/create/11343/2``
(tests/fixtures/ezbooking_noslot_valdoise_medsadok07-prefecture-bot.html), trimmed to a self-contained page,
and, for the steps with no saved page, from the screenshots and bot code listed in the shared samples index.
Texts marked « simulated » below have no known real wording.

Behaviour by mode: step 0 is served normally in every mode except "captcha" (a reCAPTCHA gate is added to it);
"overload" turns every later step into the « Service surchargé » page (the real one was saved at step 1); the
POST of step 1 leads to ``/3`` then ``/4`` (slot table) in the "slots…" modes, to ``/2`` (no slot) in every
other mode.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, time
from http.cookies import SimpleCookie

from simsite import errorpages, images
from simsite.frenchdates import next_weekdays, short_day
from simsite.markup import BANNER, esc, esc_text, recaptcha_widget
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html, png, redirect
from simsite.routing import Route, route

SESSION_COOKIE = "eZSESSID"
IMAGES_PATH = "/extension/ide/design/ide_design/images/booking"

CONDITION_LABEL = (
    "Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer le processus de prise "
    "de rendez-vous."
)
CONDITION_TITLE = (
    "Cliquez la case pour accepter les conditions d'utilisation avant de continuer le processus de prise de "
    "rendez-vous."
)
START_BUTTON = "Effectuer une demande de rendez-vous"
NEXT_BUTTON = "Etape suivante"
NOSLOT_TEXT = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer "
    "ultérieurement."
)
PLANNINGS: tuple[tuple[str, str], ...] = (
    ("16161", "Calendrier - guichets 1, 2, 3 et 4"),
    ("16162", "Calendrier guichets 5, 6, 7 et 8"),
    ("16163", "Calendrier guichets 9, 10, 11 et 12"),
)
# Simulated: the real module checks these client-side; its server-side wording is unknown.
CONDITION_ERROR = "Vous devez accepter les conditions d'utilisation pour continuer."
PLANNING_ERROR = "Veuillez choisir la nature du rendez-vous."
CAPTCHA_ERROR = "Veuillez confirmer que vous n'êtes pas un robot."

# (step number in the image name, label) of the progress bar, labels as in the real page (typo included).
_PROGRESS_STEPS = (
    (1, "Prise de rendez-vous"),
    (3, "Descriptif"),
    (4, "Choix d'une plage"),
    (6, "Contrôle de sécurité"),
    (8, "Cordonnées personnelles"),
    (9, "Valider et terminer"),
)

_STYLE = """
body{margin:0;background:#eee;font:13px Arial,Helvetica,sans-serif;color:#222}
#container{width:960px;margin:0 auto;background:#fff;box-shadow:0 0 6px #bbb;padding-bottom:20px}
header{position:relative;height:150px;padding:20px 40px}
header .logo{color:#000;text-decoration:none;position:absolute;left:40px;top:20px;width:120px;height:110px;border:1px solid #000;text-align:center;
 font:bold 10px Arial}
header .logo span{display:block;height:30px;margin:12px 20px 6px;
 background:linear-gradient(90deg,#002395 33%,#fff 33% 66%,#ed2939 66%)}
header h1{position:absolute;left:230px;top:40px;margin:0;font:normal 30px Arial;line-height:1.2}
.visuallyhidden{position:absolute;clip:rect(0 0 0 0);height:1px;width:1px;overflow:hidden}
.clearfix{clear:both}
.breadcrumb{padding:0 40px 10px}
.breadcrumb .last{font-weight:bold}
#global_Booking{padding:10px 40px}
#Progress_Booking{list-style:none;margin:10px 0 20px;padding:0;display:flex;gap:20px}
#inner_Booking h2{color:#5270a7;font-size:24px;margin:10px 0 16px}
#FormBookingCreate fieldset{border:1px solid #ccc;padding:6px 12px}
#FormBookingCreate legend{font-weight:bold}
#FormBookingCreate .Bligne{margin:6px 0}
#submit_Booking{margin:14px 0}
.Bbutton{background:#eee;border:1px solid #8b0000;font-size:11px;padding:3px 4px;cursor:pointer}
.Berreur{color:#c00;font-weight:bold}
#dialog_Booking{text-align:right;margin-top:10px}
#dialog_Booking a{color:#1d4e89;margin-left:12px;text-decoration:none}
table.plages{border-collapse:collapse;margin:10px 0}
table.plages th,table.plages td{border:1px solid #bbb;padding:4px 10px;text-align:center}
td.libre,.legende .libre{background:#d8f5d0}td.complet,.legende .complet{background:#f3d0d0;color:#777}
.legende span{padding:2px 8px}
footer{margin-top:30px;border-top:1px solid #ddd;padding:20px 40px;color:#444}
footer ul{list-style:none;display:inline-block;vertical-align:top;margin:0 30px 0 0;padding:0}
footer a{color:#444}
#cookies-banner{position:fixed;left:0;right:0;bottom:0;background:#1e2a36;color:#fff;padding:8px;text-align:center}
#cookies-banner a{background:#fff;color:#000;padding:2px 6px;margin-left:6px;text-decoration:none;border-radius:3px}
"""

_COOKIE_SCRIPT = """<script type="text/javascript">
function accepter() {
    document.cookie = "cookie_consent=1; path=/";
    document.getElementById("cookies-banner").style.display = "none";
}
if (document.cookie.indexOf("cookie_consent=1") !== -1) {
    document.getElementById("cookies-banner").style.display = "none";
}
</script>"""


def _progress(suffixes: Mapping[int, str]) -> str:
    items = "\n".join(
        f'                <li><img src="{IMAGES_PATH}/etape_{number}{suffixes.get(number, "")}.png" width="129" '
        f'height="45" alt="{esc(label)}" title="{esc(label)}"></li>'
        for number, label in _PROGRESS_STEPS
    )
    return f'<ul id="Progress_Booking">\n{items}\n    </ul>'


def _page(booking_id: str, step_path: str, title: str, progress: Mapping[int, str], form_body: str) -> str:
    """The page frame of the real module around one ``<form id="FormBookingCreate">``."""
    action = f"/booking/create/{booking_id}/{step_path}"
    return f"""<!DOCTYPE html>
<html xml:lang="fr-FR" lang="fr-FR"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>en Préfecture de Cergy - Les services de l'État dans le Val-d'Oise</title>
<meta name="Content-language" content="fr-FR">
<meta name="author" content="Ministère de l&#39;Intérieur">
<style type="text/css">{_STYLE}</style>
</head>
<body>
{BANNER}
    <div id="container" class="home grid">
    <header>
        <ul class="liensAccessibilite">
           <li><a href="#main" class="visuallyhidden focusable">Aller au contenu</a></li>
        </ul>
        <a href="/" title="Les services de l&#39;État dans le Val-d&#39;Oise" class="logo"><span></span>RÉPUBLIQUE<br>FRANÇAISE</a>
        <h1>Les services de l'État <br><span><strong>dans le Val-d'Oise</strong></span></h1>
        <br class="clearfix">
        </header>
        <br class="clearfix">
        <div id="main" role="main">
            <!-- Path area: START -->
<div class="section-top">
            <div class="breadcrumb">
        <a href="/">Accueil</a>
      <span>&gt;</span>        <span class="last">en Préfecture de Cergy</span>
    </div>
</div>
<div class="clearfix"></div>                        <!-- Path area: END -->
        <!-- MainContent area: START -->

<div id="maincol-position">
    <div id="global_Booking">
        {_progress(progress)}
                    <div id="inner_Booking">

                                    <h2>{esc_text(title)}</h2>
                                                                <form name="create" class="jqTransform FormValidate jqtransformdone" id="FormBookingCreate" action="{action}" method="post">
{form_body}
                                                        </form>
                <div id="dialog_Booking">
        <a href="#" id="help_link" class="help openTB_Booking" title="Aide en ligne">Aide en ligne</a>
        <a href="#" id="contact_link" class="contact openTB_Booking" title="Contacts">Contacts</a>
    </div>
            </div>
            </div>
</div>
<!-- MainContent area: END -->

    </div>
    <footer>
    <div id="fondfooter" class="clearfix">
             <ul class="footer footer_centre">
                <li><a href="/Publications/Mentions-legales">Mentions légales</a></li>
                <li><a href="/Outils/Horaires-et-coordonnees">Horaires et coordonnées</a></li>
                <li><a href="/Contactez-nous">Contactez-nous</a></li>
             </ul>
<ul class="footer footer_logos">
<li id="footer_marianne" class="ir roll">République française</li>
<li>
Tous droits réservés SIG/DILA<br>République Française © 2011-2012</li>
</ul>
    </div>
</footer>
</div>
<div id="cookies-banner">En poursuivant votre navigation sur ce site, vous acceptez l'utilisation de cookies pour réaliser des statistiques de visites. <a href="/Outils/Information-sur-les-cookies">En savoir plus</a><a href="javascript:accepter()">Accepter</a></div>
{_COOKIE_SCRIPT}
</body></html>
"""


def _error(message: str) -> str:
    return f'                    <p class="Berreur">{esc_text(message)}</p>\n' if message else ""


def _conditions_page(booking_id: str, mode: str, error: str = "") -> str:
    gate = f"                    <div id=\"captcha_Booking\">{recaptcha_widget()}</div>\n" if mode == "captcha" else ""
    body = f"""{_error(error)}                    <p><strong>Toutes les prises de rendez-vous proposées sur ce site internet sont gratuites.</strong><br>
                    <strong>Soyez très vigilants, n'acceptez aucune prise de rendez-vous en ligne payante.</strong></p>
                    <p class="Bligne">
                        <input type="checkbox" name="condition" id="condition" title="{esc(CONDITION_TITLE)}">
                        <label for="condition">{esc_text(CONDITION_LABEL)}</label>
                    </p>
{gate}                    <div id="submit_Booking">
                        <input type="submit" name="nextButton" value="{START_BUTTON}" class="Bbutton">
                        <input type="submit" name="manageButton" value="Annuler, consulter et gérer mes demandes de rendez-vous" class="Bbutton">
                    </div>"""
    return _page(booking_id, "0", "Prise de rendez-vous", {1: "r"}, body)


def _planning_page(booking_id: str, error: str = "") -> str:
    radios = "\n".join(
        f'                        <p class="Bligne"><input type="radio" name="planning" id="planning{value}" '
        f'value="{value}"><label for="planning{value}">{esc_text(label)}</label></p>'
        for value, label in PLANNINGS
    )
    body = f"""{_error(error)}                    <fieldset id="fchoix_Booking">
                        <legend>Que souhaitez-vous effectuer ?</legend>
{radios}
                    </fieldset>
                    <div id="submit_Booking">
                        <input type="submit" name="nextButton" value="{NEXT_BUTTON}" class="Bbutton">
                    </div>"""
    return _page(booking_id, "1", "Choix de la nature du rendez-vous", {1: "r"}, body)


def _noslot_page(booking_id: str) -> str:
    body = f"""                                        {NOSLOT_TEXT}
                    <div id="submit_Booking">
                        <input type="submit" name="finishButton" value="Terminer" title="Cliquez ici pour terminer le processus" class="Bbutton">
                    </div>"""
    return _page(booking_id, "2", "Vérification de disponibilité", {1: "G"}, body)


def _description_page(booking_id: str) -> str:
    # Simulated wording: only the heading of this step is known.
    body = f"""                    <p>Vous allez choisir une plage horaire pour un rendez-vous au guichet de la préfecture.</p>
                    <p>Présentez-vous muni de l'original de chacun des documents demandés et de la convocation.</p>
                    <div id="submit_Booking">
                        <input type="submit" name="nextButton" value="{NEXT_BUTTON}" class="Bbutton">
                    </div>"""
    return _page(booking_id, "3", "Description de la nature du rendez-vous", {1: "G", 3: "r"}, body)


def _slot_table_page(booking_id: str, now: datetime) -> str:
    """A week table of « libre » / « complet » cells; free cells link to ``/5/<unix-ts>`` like the real module.

    The real module fills this table through an AJAX call (``bookingserver::planning::assign``); it is inline here.
    Times are treated as UTC: the simulation has no time zone of its own.
    """
    days = next_weekdays(now.date(), 5)
    hours = [time(9, 0), time(9, 30), time(10, 0), time(10, 30), time(11, 0)]
    header = "".join(f"<th>{short_day(day)}</th>" for day in days)
    rows = []
    for row, hour in enumerate(hours):
        cells = []
        for column, day in enumerate(days):
            timestamp = int(datetime.combine(day, hour, tzinfo=UTC).timestamp())
            if (row + 2 * column) % 4 == 1:
                cells.append(
                    f'<td class="libre"><a href="/booking/create/{booking_id}/5/{timestamp}" '
                    f'title="{hour:%H:%M}">libre</a></td>'
                )
            else:
                cells.append('<td class="complet">complet</td>')
        rows.append(f"<tr><th>{hour:%Hh%M}</th>{''.join(cells)}</tr>")
    body = f"""                    <p class="legende">Légende : <span class="libre">libre</span> <span class="complet">complet</span></p>
                    <table class="plages"><tr><th></th>{header}</tr>
{chr(10).join(rows)}
                    </table>"""
    return _page(booking_id, "4", "Choix d'une plage horaire", {1: "G", 3: "G", 4: "r"}, body)


def _completion_page(booking_id: str, step: str) -> str:
    """Pages past the slot choice (the tool must never reach them): captcha, personal details, validation.

    Simulated wording, except the headings (the labels of the real progress bar); ``/7`` shows the validation page.
    """
    if step == "6":
        body = f"""                    <p>Veuillez cocher la case ci-dessous puis cliquer sur « Etape suivante ».</p>
                    {recaptcha_widget()}
                    <div id="submit_Booking"><input type="submit" name="nextButton" value="{NEXT_BUTTON}" class="Bbutton"></div>"""
        return _page(booking_id, "6", "Contrôle de sécurité", {1: "G", 3: "G", 4: "G", 6: "r"}, body)
    if step == "8":
        fields = "\n".join(
            f'                    <p class="Bligne"><label for="{name}">{label}</label> '
            f'<input type="text" name="{name}" id="{name}" value=""></p>'
            for name, label in (("lastname", "Nom"), ("firstname", "Prénom"), ("email", "Courriel"))
        )
        body = f"""{fields}
                    <div id="submit_Booking"><input type="submit" name="nextButton" value="{NEXT_BUTTON}" class="Bbutton"></div>"""
        return _page(booking_id, "8", "Coordonnées personnelles", {1: "G", 3: "G", 4: "G", 6: "G", 8: "r"}, body)
    body = """                    <p>Vérifiez votre demande de rendez-vous puis validez-la.</p>
                    <div id="submit_Booking"><input type="submit" name="nextButton" value="Valider" class="Bbutton"></div>"""
    return _page(booking_id, "9", "Valider et terminer", {1: "G", 3: "G", 4: "G", 6: "G", 8: "G", 9: "r"}, body)


def _has_session(request: LoggedRequest) -> bool:
    return SESSION_COOKIE in SimpleCookie(request.headers.get("cookie", ""))


def _get_conditions(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    headers: tuple[tuple[str, str], ...] = ()
    if not _has_session(request):
        headers = (("Set-Cookie", f"{SESSION_COOKIE}={secrets.token_hex(16)}; path=/; HttpOnly"),)
    return html(_conditions_page(params["id"], mode), headers=headers)


def _post_conditions(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    booking_id = params["id"]
    if "nextButton" not in request.form:
        return redirect(f"/booking/create/{booking_id}")
    if request.form.get("condition") != "on":
        return html(_conditions_page(booking_id, mode, CONDITION_ERROR))
    if mode == "captcha" and not request.form.get("g-recaptcha-response"):
        return html(_conditions_page(booking_id, mode, CAPTCHA_ERROR))
    return redirect(f"/booking/create/{booking_id}/1")


def _get_step(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    booking_id, step = params["id"], params["step"]
    if mode == "overload":
        return errorpages.overload()
    if step == "1":
        return html(_planning_page(booking_id))
    if step == "2":
        return html(_noslot_page(booking_id))
    if step == "3":
        return html(_description_page(booking_id))
    return html(_slot_table_page(booking_id, datetime.now(UTC)))


def _post_step(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    booking_id, step = params["id"], params["step"]
    if mode == "overload":
        return errorpages.overload()
    if step == "1":
        if request.form.get("planning") not in {value for value, _ in PLANNINGS}:
            return html(_planning_page(booking_id, PLANNING_ERROR))
        next_step = "3" if mode.startswith("slots") else "2"
        return redirect(f"/booking/create/{booking_id}/{next_step}")
    if step == "2":  # « Terminer »: back to the start, as the real button ends the process
        return redirect(f"/booking/create/{booking_id}")
    if step == "3":
        return redirect(f"/booking/create/{booking_id}/4")
    return html(_slot_table_page(booking_id, datetime.now(UTC)))


def _completion(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    booking_id, step = params["id"], params["step"]
    if mode == "overload":
        return errorpages.overload()
    if step == "5":  # a slot link: the real module goes on to the security check
        return redirect(f"/booking/create/{booking_id}/6")
    if request.method == "POST":
        following = {"6": "8", "7": "8", "8": "9", "9": "9"}[step]
        return redirect(f"/booking/create/{booking_id}/{following}")
    return html(_completion_page(booking_id, step))


def _captcha_image(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return png(images.captcha_image("2895"))


def _step_image(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return png(images.step_arrow(params["suffix"]))


_BOOKING = r"/booking/create/(?P<id>\d+)"
ROUTES: tuple[Route, ...] = (
    route("GET", _BOOKING + r"(/0)?/?", _get_conditions),
    route("POST", _BOOKING + r"(/0)?/?", _post_conditions),
    route("GET", _BOOKING + r"/(?P<step>[1-4])/?", _get_step),
    route("POST", _BOOKING + r"/(?P<step>[1-4])/?", _post_step),
    route("GET", _BOOKING + r"/(?P<step>5)/\d+/?", _completion),
    route("POST", _BOOKING + r"/(?P<step>5)/\d+/?", _completion),
    route("GET", _BOOKING + r"/(?P<step>[6-9])(/.*)?", _completion),
    route("POST", _BOOKING + r"/(?P<step>[6-9])(/.*)?", _completion),
    route("GET", r"/ezjscore/call/bookingserver::captcha.*", _captcha_image),
    route("GET", IMAGES_PATH + r"/etape_[1-9](?P<suffix>r|G|)\.png", _step_image),
)
