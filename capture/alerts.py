"""Tell the user, through every channel they configured (Apprise URLs: email, ntfy, Telegram, Signal,
webhooks …) and, where one is available, a desktop notification:

- at once when slots appear (the tool books nothing: the message says where to book by hand, and
  attaches the dated screenshot where the channel allows);
- when an accompanied attempt is due (a person must solve the captcha: the message says how to start it);
- once, when an unattended attempt met a captcha (the page needs accompanied attempts).

Messages carry no personal data beyond the case labels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import apprise

from evidence.localtime import PARIS, paris_time
from evidence.models import Capture

DESKTOP_TIMEOUT_S = 5


@dataclass(frozen=True)
class AlertResult:
    channels: int
    delivered: int
    desktop: bool = False


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def slots_message(capture: Capture, case_labels: list[str]) -> Message:
    url = capture.final_url or capture.url_requested
    return Message(
        "Créneaux disponibles — réservez maintenant",
        f"Des créneaux sont affichés depuis le {paris_time(capture.started_at)} "
        f"(tentative n° {capture.attempt_no}).\n"
        f"Dossiers concernés : {', '.join(case_labels)}.\n"
        f"Réservez vous-même, sans attendre : {url}\n"
        "Preuves RDV ne réserve rien à votre place.",
    )


def _hm(moment: datetime) -> str:
    return f"{moment.astimezone(PARIS):%H h %M}"


def reminder_message(case_labels: list[str], planned_at: datetime, closes: datetime, how_to_start: str) -> Message:
    return Message(
        "Tentative accompagnée à faire maintenant",
        f"Une tentative accompagnée est prévue le {planned_at.astimezone(PARIS):%d/%m/%Y} à {_hm(planned_at)} "
        f"(à commencer avant {_hm(closes)}).\n"
        f"Dossiers concernés : {', '.join(case_labels)}.\n"
        "Un captcha protège cette page : il faut une personne pour le résoudre.\n"
        f"Pour commencer : {how_to_start}\n"
        "Vous résolvez le captcha dans la fenêtre ; l'outil enregistre chaque page, ne réserve rien "
        "et ne saisit aucune donnée personnelle.",
    )


def captcha_message(case_labels: list[str], url: str) -> Message:
    return Message(
        "Captcha : cette page demande des tentatives accompagnées",
        f"La tentative automatique sur {url} s'est arrêtée sur un captcha : la capture ne prouve rien "
        "devant un juge.\n"
        f"Dossiers concernés : {', '.join(case_labels)}.\n"
        "Établissez un plan de tentatives accompagnées (« preuves plan DOSSIER --replace --accompanied » "
        "ou la page du dossier dans le tableau de bord) : à chaque heure prévue, un rappel vous invite à "
        "résoudre le captcha vous-même. Ce message n'est envoyé qu'une fois pour ce plan.",
    )


def notify(
    urls: list[str], message: Message, *, attachment: Path | None = None, desktop: bool = False
) -> AlertResult:
    """Notify every configured channel; each channel fails or succeeds on its own."""
    delivered = 0
    if urls:
        # Blobs have no file extension: name the attachment and give its type explicitly.
        attach = (
            apprise.AppriseAttachment(f"file://{attachment}?mime=image/png&name=capture-datee.png")
            if attachment
            else None
        )
        for url in urls:
            channel = apprise.Apprise()
            if not channel.add(url):
                continue  # malformed URL: counted as not delivered, never logged (it may hold a password)
            if bool(channel.notify(title=message.title, body=message.body, attach=attach)):
                delivered += 1
    return AlertResult(len(urls), delivered, desktop and desktop_notification(message))


def desktop_notification(message: Message) -> bool:
    """A notification on this computer's desktop, where `notify-send` and a session exist (never required)."""
    program = shutil.which("notify-send")
    has_session = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform == "darwin"
    if program is None or not has_session:
        return False
    try:
        done = subprocess.run(
            [program, "--app-name=Preuves RDV", message.title, message.body],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=DESKTOP_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0

