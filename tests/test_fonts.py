"""The documents are drawn with the fonts shipped in templates/fonts, which hold every glyph of French."""

import pytest
from fontTools.ttLib import TTFont

from templates import FONT_FACES, font_face_css

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
