"""HTML fragments shared by the simulated platforms."""

from __future__ import annotations

from html import escape

BANNER_ID = "simsite-banner"
BANNER_TEXT = "SITE SIMULÉ — page d'essai locale de Preuves RDV, sans aucune valeur de preuve"

BANNER = (
    f'<div id="{BANNER_ID}" style="background:#ffe14d;color:#000;font:bold 13px Arial,sans-serif;'
    f'text-align:center;padding:4px;border-bottom:2px solid #000;">{BANNER_TEXT}</div>'
)
"""Shown at the top of every page so that a capture of the simulated site cannot pass for a real one."""

# The sitekey only has the shape of a real one; no script is ever loaded for it.
RECAPTCHA_SITEKEY = "6LcSIMULATEDsiteKEYnotREALxxxxxxxxxxxxxx"


def recaptcha_widget() -> str:
    """Static stand-in for a reCAPTCHA v2 widget: the ``div.g-recaptcha`` and its response textarea.

    The visible box is plain markup (no checkbox input), so nothing in it can be clicked into a valid answer.
    """
    return (
        f'<div class="g-recaptcha" data-sitekey="{RECAPTCHA_SITEKEY}">'
        '<div style="width:300px;height:74px;border:1px solid #d3d3d3;background:#f9f9f9;border-radius:3px;'
        'display:flex;align-items:center;gap:12px;padding:0 12px;box-sizing:border-box;font:14px Arial;">'
        '<span style="width:24px;height:24px;border:2px solid #c1c1c1;border-radius:2px;background:#fff;"></span>'
        '<span>Je ne suis pas un robot</span>'
        '<span style="margin-left:auto;font-size:10px;color:#555;">reCAPTCHA</span></div>'
        '<textarea id="g-recaptcha-response" name="g-recaptcha-response" class="g-recaptcha-response" '
        'style="display: none;"></textarea></div>'
    )


def esc(text: object) -> str:
    """Escape for an attribute value, with ``&#39;`` for the apostrophe as on the real module's pages."""
    return escape(str(text), quote=False).replace('"', "&quot;").replace("'", "&#39;")


def esc_text(text: object) -> str:
    """Escape for element content: apostrophes and quotes stay as they are, as in the real pages."""
    return escape(str(text), quote=False)
