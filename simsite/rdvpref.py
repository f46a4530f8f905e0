"""RDV Préfecture (``/rdvpref/reservation/demarche/<id>/...``), the Ministry's newer booking platform.

No real page capture exists; the strings, ids and classes come from bot code and the site's own Vue templates as
listed in the shared samples index — the slot page follows its component « rdv-choix-tranche » (every message in
a ``div.text-center.q-pa-md``, every slot a ``li.radio-card`` holding an ``input[name=trhId]``). Texts marked
« simulated » have no known real wording.

``cgu/`` always shows the CaptchEtat gate (an unattended capture normally ends there). ``creneau/`` is also
reachable directly, so that its states can be observed without solving anything — except in "captcha" mode,
where it sends back to the gate. By mode: "slots" the desktop week with three slots, "slots_mobile" the phone
list, "slots_later_week" an empty week with the « Prochaine disponibilité le … » button, "noslot_week" an empty
week without it, "noslot_unpublished" no calendar at all (« Veuillez réessayer ultérieurement » and the next
publication), any other mode the last week on offer (« Aucun créneau disponible à partir de cette date »).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simsite import errorpages, images
from simsite.frenchdates import day_name, long_date, next_weekdays
from simsite.markup import BANNER, esc_text
from simsite.requestlog import LoggedRequest
from simsite.response import Response, html, png, redirect
from simsite.routing import Route, route

NOSLOT_TEXT = "Aucun créneau disponible à partir de cette date."
RETRY_TEXT = "Veuillez réessayer ultérieurement."
LATER_WEEK_TEXT = "Aucun créneau disponible sur cette semaine"
NEXT_AVAILABILITY_PREFIX = "Prochaine disponibilité le "
NEXT_RELEASE_PREFIX = "Prochaine mise en ligne de nouveaux rendez-vous"
INVALID_CAPTCHA_TEXT = "Le code de sécurité saisi est incorrect."  # simulated
DEMARCHE_TITLE = "Demande de titre de séjour"  # simulated
PARIS = ZoneInfo("Europe/Paris")

# Codes are derived from the captcha id, so the server keeps no state; the key only lives for this process.
_CAPTCHA_KEY = secrets.token_bytes(32)

_STEPS = ("Constituez votre dossier", "Choisissez votre créneau", "Vos informations", "Confirmer le rendez-vous")

_STYLE = """
body{margin:0;font:16px Marianne,Arial,sans-serif;color:#161616;background:#fff}
.fr-container{max-width:900px;margin:0 auto;padding:0 24px}
.fr-header{border-bottom:1px solid #ddd;box-shadow:0 2px 4px #eee;padding:16px 0}
.fr-header .fr-container{display:flex;gap:32px;align-items:center}
.fr-logo{font:bold 14px Arial;text-transform:uppercase;line-height:1.1;margin:0;padding-top:18px;
 background:linear-gradient(90deg,#000091 33%,#fff 33% 66%,#e1000f 66%) no-repeat 0 0/40px 14px}
.fr-header__service-title{font-weight:bold;font-size:20px;margin:0}
.fr-header__service-tagline{margin:0;font-size:14px}
.fr-stepper{margin:32px 0 24px}
.fr-stepper__state{display:block;font-size:14px;color:#666;font-weight:normal}
.fr-stepper__title{margin:0 0 8px;font-size:22px}
.fr-stepper__details{font-size:13px;color:#666}
.fr-btn{background:#000091;color:#fff;border:0;padding:8px 16px;font-size:16px;cursor:pointer;text-decoration:none;
 display:inline-block;margin:8px 8px 8px 0}
.fr-btn--secondary{background:#fff;color:#000091;border:1px solid #000091}
.fr-alert{border-left:4px solid #0063cb;background:#e8edff;padding:8px 16px;margin:16px 0}
.fr-alert--error{border-color:#ce0500;background:#ffe9e9}
.fr-input{display:block;padding:8px;font-size:16px;border:0;border-bottom:2px solid #3a3a3a;background:#eee;margin:4px 0 16px}
.fr-label{display:block;margin-top:8px}
#captchaFR_CaptchaDiv{display:flex;align-items:center;gap:16px;margin:12px 0}
ul.creneaux{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px}
li.radio-card{border:1px solid #ddd;padding:8px 16px}
.fr-footer{margin-top:48px;border-top:2px solid #000091;padding:24px 0;font-size:13px}
"""


def captcha_code(captcha_id: str) -> str:
    """The code shown in the image of ``captcha_id``; public so that tests can play the person who reads it."""
    digest = hmac.new(_CAPTCHA_KEY, captcha_id.encode("ascii"), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10000:04d}"


def _base(demarche_id: str) -> str:
    return f"/rdvpref/reservation/demarche/{demarche_id}"


def _page(step: int, content: str) -> str:
    """The DSFR page frame with the four-step stepper (``step`` counts from 1)."""
    following = (
        f'<p class="fr-stepper__details"><span class="fr-text--bold">Étape suivante :</span> {_STEPS[step]}</p>'
        if step < len(_STEPS)
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="fr" data-fr-scheme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RDV Préfecture - {esc_text(_STEPS[step - 1])}</title>
<style>{_STYLE}</style>
</head>
<body>
{BANNER}
<header role="banner" class="fr-header">
  <div class="fr-container">
    <p class="fr-logo">République<br>Française</p>
    <div class="fr-header__service">
      <p class="fr-header__service-title">RDV Préfecture</p>
      <p class="fr-header__service-tagline">Prise de rendez-vous en préfecture</p>
    </div>
  </div>
</header>
<main role="main" id="main" class="fr-container">
<div id="app">
  <h1 class="fr-h3" id="demarche-titre">{DEMARCHE_TITLE}</h1>
  <div class="fr-stepper">
    <h2 class="fr-stepper__title"><span class="fr-stepper__state">Étape {step} sur {len(_STEPS)}</span>{esc_text(_STEPS[step - 1])}</h2>
    <div class="fr-stepper__steps" data-fr-current-step="{step}" data-fr-steps="{len(_STEPS)}"></div>
    {following}
  </div>
{content}
</div>
</main>
<footer class="fr-footer" role="contentinfo">
  <div class="fr-container">Ministère de l'Intérieur et des Outre-mer — <a href="/rdvpref/mentions-legales">Mentions légales</a></div>
</footer>
</body>
</html>
"""


def _page_data(demarche_id: str, first_available: str) -> str:
    """The JSON the Vue app reads; an empty ``datePremiereDispo`` means no availability at all."""
    data = {
        "critere": {
            "idDemarche": int(demarche_id),
            "dateDebut": datetime.now(UTC).date().isoformat(),
            "datePremiereDispo": first_available,
        }
    }
    return f'<script type="application/json" id="rdv-data">{json.dumps(data)}</script>'


def _landing(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    if mode == "overload":
        return errorpages.overload()
    content = f"""  <p>Cette démarche se fait uniquement sur rendez-vous.</p>
  <a class="fr-btn" href="{_base(params["id"])}/cgu/">Prendre rendez-vous</a>"""
    return html(_page(1, content))


def _captcha_gate(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    if mode == "overload":
        return errorpages.overload()
    captcha_id = secrets.token_hex(16)
    validate = f"{_base(params['id'])}/cgu/_validerCaptcha"
    error = ""
    if request.query.get("error") == "invalidCaptcha":
        error = f'  <div class="fr-alert fr-alert--error"><p>{INVALID_CAPTCHA_TEXT}</p></div>\n'
    content = f"""{error}  <form method="post" action="{validate}" id="formCaptcha">
    <p>Pour continuer, recopiez le code de sécurité affiché dans l'image ci-dessous.</p>
    <rdv-captchetat token="{secrets.token_hex(8)}" captcha-style-name="captchaFR">
      <div id="BDC_CaptchaComponent">
        <div id="captchaFR_CaptchaDiv" class="BDC_CaptchaDiv">
          <div id="captchaFR_CaptchaImageDiv" class="BDC_CaptchaImageDiv">
            <img id="captchaFR_CaptchaImage" class="captchetat-image" src="/rdvpref/captcha/{captcha_id}.png" alt="Code de sécurité à recopier" width="150" height="50">
          </div>
          <div id="captchaFR_CaptchaIconsDiv" class="BDC_CaptchaIconsDiv">
            <a id="captchaFR_SoundLink" class="BDC_SoundLink" href="#" title="Énoncer le code du captcha">Énoncer le code</a>
            <audio id="BDC_CaptchaSoundAudio_captchaFR" preload="none"></audio>
          </div>
        </div>
        <label class="fr-label" for="captchaFormulaireExtInput">Saisissez le code de sécurité</label>
        <input class="fr-input" type="text" id="captchaFormulaireExtInput" name="captchaFormulaireExtInput" autocomplete="off">
        <input type="hidden" name="captchaId" value="{captcha_id}">
      </div>
    </rdv-captchetat>
    <button type="submit" class="fr-btn" formaction="{validate}">Suivant</button>
  </form>"""
    return html(_page(1, content))


def _validate_captcha(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    base = _base(params["id"])
    captcha_id = request.form.get("captchaId", "")
    answer = request.form.get("captchaFormulaireExtInput", "").strip()
    if captcha_id and answer and hmac.compare_digest(answer, captcha_code(captcha_id)):
        return redirect(f"{base}/creneau/")
    return redirect(f"{base}/cgu/?error=invalidCaptcha")


def _captcha_image(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    return png(images.captcha_image(captcha_code(params["captcha_id"])))


# --- the slot page, as the site's Vue component « rdv-choix-tranche » renders it -------------------------

_SLOT_TIMES = ((4521301, "09h30"), (4521302, "10h00"), (4521307, "14h15"))


def next_release(today: date) -> datetime:
    """The next publication of slots the simulated site announces: the coming Monday, 14:00 in Paris."""
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(14, 0), tzinfo=PARIS)


def _publications(today: date) -> str:
    """« Prochaine mise en ligne … » and « Dernière mise en ligne … », as the component shows them."""
    upcoming = next_release(today)
    previous = upcoming - timedelta(days=7)
    blocks = "".join(
        f'<div class="text-center q-pa-md"><span class="fr-text--italic fr-text--bold">{label} : le '
        f'{moment:%d/%m/%Y à %H:%M}</span><br><span class="fr-text--italic">pour des créneaux de la semaine du '
        f"{moment.date() + timedelta(days=7):%d/%m/%Y}</span></div>"
        for label, moment in ((NEXT_RELEASE_PREFIX, upcoming), ("Dernière mise en ligne de rendez-vous", previous))
    )
    return f'    <div class="row col-12 justify-center">{blocks}</div>\n'


def _message(text: str) -> str:
    return f'    <div class="row col-12 justify-center"><div class="text-center q-pa-md">{text}</div></div>\n'


def _slot_card(trh_id: int, label: str, desktop: bool) -> str:
    classes = "row cellule justify-center radio-card" if desktop else "radio-card"
    return (f'<li class="{classes}"><input type="radio" name="trhId" id="trhId_{trh_id}" value="{trh_id}" '
            f'data-value="{trh_id}"><label class="fr-label" for="trhId_{trh_id}">{label}</label></li>')


def _week(today: date) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(days=n) for n in range(5)]


def _grid(today: date, with_slots: bool) -> str:
    """The desktop week: one column per day, the slots of the first working day after today."""
    slot_day = next_weekdays(today, 1)[0]
    columns = "".join(
        f'<div class="column col items-center blocCreneauSelection"><h3 class="celulleHeader text-bold text-center">'
        f"{day_name(day)}<br>{day:%d/%m}</h3><ul>"
        + ("".join(_slot_card(i, label, True) for i, label in _SLOT_TIMES) if with_slots and day == slot_day else "")
        + "</ul></div>"
        for day in _week(slot_day if with_slots else today)
    )
    return f'    <div class="row q-gutter-xs">{columns}</div>\n'


def _mobile_list(today: date) -> str:
    """The phone layout: a day per expansion item, only the first day with slots opened."""
    slot_day = next_weekdays(today, 1)[0]
    items = []
    for day in _week(slot_day):
        opened = day == slot_day
        cards = "".join(_slot_card(i, label, False) for i, label in _SLOT_TIMES) if opened else ""
        empty = "" if opened else '<div class="full-width text-center q-mt-md"><div>Aucun créneau disponible</div></div>'
        hidden = "" if opened else ' style="display: none;"'
        items.append(
            f'<div class="q-expansion-item q-item-type q-expansion-item--standard"><div class="q-item q-item-type '
            f'row no-wrap q-item--clickable" role="button" aria-expanded="{str(opened).lower()}"><div '
            f'class="q-item__label">{day_name(day)} {day:%d/%m}</div></div><div class="q-expansion-item__content"'
            f'{hidden}><ul class="row q-gutter-x-md">{cards}</ul>{empty}</div></div>'
        )
    return f'    <div class="q-list col-12">{"".join(items)}</div>\n'


def _later_week_button(day: date) -> str:
    return (f'<div class="text-center q-pa-md"><button class="q-btn q-btn-item q-btn--standard bg-primary text-white" '
            f'type="button" id="btnProchaineDispo"><span class="q-btn__content"><span class="block">'
            f"{NEXT_AVAILABILITY_PREFIX}{day:%d/%m/%Y}</span></span></button></div>")


def _slot_state(mode: str, demarche_id: str, today: date) -> str:
    """The component for ``mode``; every mode without slots of its own shows the last week on offer."""
    later = today + timedelta(days=14 - today.weekday())  # Monday of the week after next
    more = '    <div class="row items-center q-mt-md"><div class="full-width text-center"><button class="fr-btn ' \
           'fr-btn--tertiary-no-outline">Voir plus de créneaux</button></div></div>\n'
    first_slot = next_weekdays(today, 1)[0].isoformat()
    if mode == "slots":
        return _grid(today, with_slots=True) + more + _page_data(demarche_id, first_slot)
    if mode == "slots_mobile":
        return _mobile_list(today) + _page_data(demarche_id, first_slot)
    empty_week = f'<div class="text-center q-pa-md">{LATER_WEEK_TEXT}</div>'
    if mode == "slots_later_week":
        messages = f'    <div class="column col-12 justify-center">{empty_week}{_later_week_button(later)}</div>\n'
        return _grid(today, with_slots=False) + messages + _page_data(demarche_id, later.isoformat())
    if mode == "noslot_week":
        messages = f'    <div class="column col-12 justify-center">{empty_week}</div>\n'
        return _grid(today, with_slots=False) + messages + _page_data(demarche_id, "")
    if mode == "noslot_unpublished":
        return _message(RETRY_TEXT) + _publications(today) + _page_data(demarche_id, "")
    last_week = _message(f"{NOSLOT_TEXT}<br/>{RETRY_TEXT}")
    return _grid(today, with_slots=False) + last_week + _publications(today) + _page_data(demarche_id, "")


def _slot_page(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    demarche_id = params["id"]
    if mode == "overload":
        return errorpages.overload()
    if mode == "captcha":
        return redirect(f"{_base(demarche_id)}/cgu/")
    today = datetime.now(UTC).date()
    content = f"""  <p>À partir du <strong>{long_date(today)}</strong></p>
  <div id="q-app">
{_slot_state(mode, demarche_id, today)}  </div>"""
    return html(_page(2, content))


def _personal_details(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    fields = "\n".join(
        f'    <label class="fr-label" for="{name}">{label}</label>'
        f'<input class="fr-input" type="text" id="{name}" name="{name}" value="">'
        for name, label in (("nom", "Nom"), ("prenom", "Prénom"), ("email", "Courriel"), ("telephone", "Téléphone"))
    )
    content = f"""  <form method="post" action="{_base(params["id"])}/confirmation/">
{fields}
    <button type="submit" class="fr-btn">Suivant</button>
  </form>"""
    return html(_page(3, content))


def _confirmation(request: LoggedRequest, mode: str, params: Mapping[str, str]) -> Response:
    content = """  <p>Vérifiez les informations de votre rendez-vous avant de le confirmer.</p>
  <button type="button" class="fr-btn">Confirmer le rendez-vous</button>"""
    return html(_page(4, content))


_DEMARCHE = r"/rdvpref/reservation/demarche/(?P<id>\d+)"
ROUTES: tuple[Route, ...] = (
    route("GET", _DEMARCHE + r"/?", _landing),
    route("GET", _DEMARCHE + r"/cgu/?", _captcha_gate),
    route("POST", _DEMARCHE + r"/cgu/_validerCaptcha/?", _validate_captcha),
    route("GET", r"/rdvpref/captcha/(?P<captcha_id>[0-9a-f]{32})\.png", _captcha_image),
    route("GET", _DEMARCHE + r"/creneau/?", _slot_page),
    route("GET", _DEMARCHE + r"/informations/?", _personal_details),
    route("POST", _DEMARCHE + r"/informations/?", _personal_details),
    route("GET", _DEMARCHE + r"/confirmation/?", _confirmation),
    route("POST", _DEMARCHE + r"/confirmation/?", _confirmation),
)
