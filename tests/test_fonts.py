"""The documents are drawn with the fonts shipped in templates/fonts, which hold every glyph of French."""

from datetime import UTC, date, datetime

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from capture.annotate import banner_lines
from preuves import demo
from templates import FONT_FACES, SANS, font_face_css, font_path

FRENCH = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "ÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸàâæçéèêëîïôœùûüÿ"
    "«»‹›“”‘’—–…€°§\u00a0\u202f"
)


@pytest.mark.parametrize("face", FONT_FACES, ids=lambda face: face.file)
def test_every_shipped_font_draws_every_french_character(face):
    cmap = TTFont(face.path, lazy=True).getBestCmap()
    missing = [char for char in FRENCH if ord(char) not in cmap]
    assert missing == []


def test_the_css_declares_every_shipped_file():
    css = font_face_css()
    assert all(face.path.as_uri() in css for face in FONT_FACES)
    assert css.count("@font-face") == len(FONT_FACES)


def _rendered(char: str, font: ImageFont.FreeTypeFont) -> bytes:
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((8, 8), char, fill=255, font=font)
    return image.tobytes()


def test_every_character_drawn_into_an_image_has_its_glyph():
    """What the tool writes into images — the banner of a dated screenshot, the demo's documents — renders
    through Pillow with the shipped font, never as the empty box a font shows for a glyph it lacks."""
    texts = banner_lines(
        taken_at=datetime(2026, 11, 2, 7, 21, tzinfo=UTC),
        url="https://www.val-doise.gouv.fr/booking/create/11343/2?étape=vérification",
        state_label="aucun créneau",
        attempt_label="tentative n° 1",
        sha256_hex="0" * 64,
        watermark="DÉMONSTRATION — données simulées",
    )
    texts += demo.receipt_lines(date(2026, 11, 11)) + [
        line for *_, lines in demo.APPLICANT_DOCUMENTS for line in lines(date(2027, 2, 14))
    ]
    assert "AVIS DE RÉCEPTION — DÉMONSTRATION (document simulé)" in texts
    for bold in (False, True):
        font = ImageFont.truetype(str(font_path(SANS, bold=bold)), 32)
        missing = _rendered("\ue000", font)  # a private-use character: no font has it, the box is drawn
        lacking = {char for char in "".join(texts) if not char.isspace() and _rendered(char, font) == missing}
        assert lacking == set(), (bold, lacking)
