"""What each kind of recorded file is, said to a user (`verify`, the dashboard); the codes stay in the
database and the journal, where they are the record's own words."""

from __future__ import annotations

ARTEFACT_LABELS = {
    "screenshot": "capture d'écran brute",
    "screenshot_annotated": "capture d'écran datée",
    "html": "page HTML",
    "mhtml": "instantané MHTML",
    "har": "journal réseau (HAR)",
    "screenshot_step": "capture d'une étape",
    "html_step": "page HTML d'une étape",
    "dialog": "message affiché par le site",
    "assisted_page_screenshot": "capture d'une page (tentative accompagnée)",
    "assisted_page_html": "page HTML (tentative accompagnée)",
    "environment": "relevé de l'environnement",
    "letter": "courrier",
    "letter_attachment": "pièce jointe d'un courriel",
    "letter_proof": "preuve d'envoi",
    "letter_receipt": "avis de réception",
    "event_proof": "preuve d'une démarche",
    "applicant_piece": "pièce du demandeur",
    "timestamp_token": "jeton d'horodatage",
    "tsa_certificates": "certificats de l'autorité d'horodatage",
}


def artefact_label(kind: str) -> str:
    """« capture d'écran datée » for screenshot_annotated; an unknown kind as it is."""
    return ARTEFACT_LABELS.get(kind, kind)
