"""Tell the user at once when slots appear, through every channel they configured (Apprise URLs:
email, ntfy, Telegram, Signal, webhooks …). The tool books nothing: the message says where to book
by hand, and attaches the dated screenshot where the channel allows. The same channels say when a
site starts refusing the tool (capture/block_alert.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import apprise

from evidence.localtime import paris_time
from evidence.models import Capture


@dataclass(frozen=True)
class AlertResult:
    channels: int
    delivered: int


def slots_message(capture: Capture, case_labels: list[str]) -> tuple[str, str]:
    """Title and body of the alert (French, no personal data beyond the case labels)."""
    url = capture.final_url or capture.url_requested
    title = "Créneaux disponibles — réservez maintenant"
    body = (
        f"Des créneaux sont affichés depuis le {paris_time(capture.started_at)} "
        f"(tentative n° {capture.attempt_no}).\n"
        f"Dossiers concernés : {', '.join(case_labels)}.\n"
        f"Réservez vous-même, sans attendre : {url}\n"
        "Preuves RDV ne réserve rien à votre place."
    )
    return title, body


def send_slots_alert(
    urls: list[str], capture: Capture, case_labels: list[str], screenshot: Path | None
) -> AlertResult:
    """Notify every configured channel of the slots shown, with the dated screenshot."""
    title, body = slots_message(capture, case_labels)
    return notify(urls, title, body, screenshot)


def notify(urls: list[str], title: str, body: str, screenshot: Path | None = None) -> AlertResult:
    """Send to every configured channel; each channel fails or succeeds on its own."""
    if not urls:
        return AlertResult(0, 0)
    # Blobs have no file extension: name the attachment and give its type explicitly.
    attachment = (
        apprise.AppriseAttachment(f"file://{screenshot}?mime=image/png&name=capture-datee.png")
        if screenshot
        else None
    )
    delivered = 0
    for url in urls:
        channel = apprise.Apprise()
        if not channel.add(url):
            continue  # malformed URL: counted as not delivered, never logged (it may hold a password)
        if bool(channel.notify(title=title, body=body, attach=attachment)):
            delivered += 1
    return AlertResult(len(urls), delivered)
