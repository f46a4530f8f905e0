"""What a person is told about the kind of attempts a booking platform allows (CLI and dashboard)."""

from __future__ import annotations

from capture.platforms import PLATFORMS, get_platform

MODE_SENTENCES = {
    "unattended": "tentatives automatiques : l'outil les fait seul, aux heures du plan.",
    "accompanied": (
        "tentatives accompagnées : un captcha protège cette page à chaque visite. À chaque heure du plan, "
        "un rappel vous invite à commencer la tentative et à résoudre le captcha vous-même dans la fenêtre "
        "ouverte ; l'outil enregistre chaque page, et ne résout jamais de captcha."
    ),
}


def mode_sentence(platform: str) -> str:
    preset = get_platform(platform)
    return f"{preset.display_name} — {MODE_SENTENCES[preset.attempt_mode]}"


def every_platform() -> dict[str, str]:
    """Each platform's name and what it allows, for the new-case form."""
    return {name: mode_sentence(name) for name in PLATFORMS}
