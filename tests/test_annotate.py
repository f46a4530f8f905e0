"""The exhibit copy of a screenshot: date and time printed in the image, page pixels untouched."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageChops

from capture import annotate
from templates import FONTS_DIR
from capture.annotate import annotate_screenshot, banner_lines

UTC = timezone.utc
NOSLOT_URL = "https://pprdv.interieur.gouv.fr/booking/create/989/2"


def make_png(width: int, height: int, mode: str = "RGB", seed: int = 1) -> bytes:
    """A noisy image, so that any moved or altered pixel shows in a byte comparison."""
    channels = len(mode)
    noise = random.Random(seed).randbytes(width * height * channels)
    buffer = io.BytesIO()
    Image.frombytes(mode, (width, height), noise).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def annotate_png(png: bytes, **overrides) -> Image.Image:
    arguments = {
        "taken_at": datetime(2026, 11, 27, 8, 35, 12, tzinfo=UTC),
        "url": NOSLOT_URL,
        "state_label": "aucun créneau disponible",
        "attempt_label": "tentative n° 12",
        "sha256_hex": hashlib.sha256(png).hexdigest(),
    } | overrides
    out = annotate_screenshot(png, **arguments)
    image = Image.open(io.BytesIO(out))
    image.load()
    return image


def date_line(taken_at: datetime) -> str:
    return banner_lines(
        taken_at=taken_at, url=NOSLOT_URL, state_label="x", attempt_label="y", sha256_hex="0" * 64
    )[0]


@pytest.mark.parametrize(
    ("utc_moment", "expected"),
    [
        # Spring forward, 29 March 2026: 02:00 Paris does not exist.
        (
            datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
            "Capture du dimanche 29 mars 2026 à 01:59:59 (heure de Paris, UTC+01:00) — 00:59:59 UTC",
        ),
        (
            datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
            "Capture du dimanche 29 mars 2026 à 03:00:00 (heure de Paris, UTC+02:00) — 01:00:00 UTC",
        ),
        # Fall back, 25 October 2026: 02:30 Paris happens twice, the offset tells which.
        (
            datetime(2026, 10, 25, 0, 30, 0, tzinfo=UTC),
            "Capture du dimanche 25 octobre 2026 à 02:30:00 (heure de Paris, UTC+02:00) — 00:30:00 UTC",
        ),
        (
            datetime(2026, 10, 25, 1, 30, 0, tzinfo=UTC),
            "Capture du dimanche 25 octobre 2026 à 02:30:00 (heure de Paris, UTC+01:00) — 01:30:00 UTC",
        ),
    ],
)
def test_date_line_across_daylight_saving_changes(utc_moment: datetime, expected: str) -> None:
    assert date_line(utc_moment) == expected


def test_date_line_converts_any_offset_and_names_the_utc_day_when_it_differs() -> None:
    reunion = timezone(timedelta(hours=4))
    taken_at = datetime(2026, 12, 1, 3, 30, 5, 999_999, tzinfo=reunion)  # 30 Nov 23:30:05 UTC
    assert date_line(taken_at) == (
        "Capture du mardi 1er décembre 2026 à 00:30:05 (heure de Paris, UTC+01:00)"
        " — lundi 30 novembre 2026 à 23:30:05 UTC"
    )


def test_banner_lines_in_order_with_watermark_first() -> None:
    digest = "AB" * 32
    lines = banner_lines(
        taken_at=datetime(2026, 11, 27, 8, 35, 12, tzinfo=UTC),
        url=NOSLOT_URL,
        state_label="aucun créneau disponible",
        attempt_label="tentative n° 12",
        sha256_hex=digest,
        watermark="DÉMONSTRATION — données simulées",
    )
    assert lines == [
        "DÉMONSTRATION — données simulées",
        "Capture du vendredi 27 novembre 2026 à 09:35:12 (heure de Paris, UTC+01:00) — 08:35:12 UTC",
        f"Adresse : {NOSLOT_URL}",
        "État constaté : aucun créneau disponible — tentative n° 12",
        f"SHA-256 de la capture brute : {digest.lower()}",
    ]


def test_naive_datetime_is_refused() -> None:
    png = make_png(40, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        annotate_png(png, taken_at=datetime(2026, 11, 27, 9, 35, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        date_line(datetime(2026, 11, 27, 9, 35, 12))


def test_hash_must_be_the_screenshot_hash() -> None:
    png = make_png(40, 30)
    with pytest.raises(ValueError, match="not the SHA-256"):
        annotate_png(png, sha256_hex=hashlib.sha256(b"another file").hexdigest())
    with pytest.raises(ValueError, match="64 hexadecimal"):
        annotate_png(png, sha256_hex="sha256:" + hashlib.sha256(png).hexdigest())


def test_unreadable_bytes_are_refused() -> None:
    junk = b"not a png"
    with pytest.raises(ValueError, match="unreadable screenshot"):
        annotate_png(junk)


@pytest.mark.parametrize(("width", "mode"), [(1366, "RGB"), (1280, "RGBA"), (320, "RGB")])
def test_banner_on_top_and_original_pixels_preserved(width: int, mode: str) -> None:
    png = make_png(width, 500, mode)
    original = Image.open(io.BytesIO(png))
    annotated = annotate_png(png)

    banner_height = annotated.height - original.height
    assert annotated.width == original.width
    assert annotated.mode == original.mode
    assert banner_height > 0
    below = annotated.crop((0, banner_height, annotated.width, annotated.height))
    assert below.tobytes() == original.tobytes()

    banner = annotated.crop((0, 0, annotated.width, banner_height)).convert("L")
    darkest, lightest = banner.getextrema()
    assert (darkest, lightest) == (0, 255)


def banner_height(image: Image.Image) -> int:
    return image.height - 200  # the height of the screenshots in the URL test


def test_long_url_is_wrapped_then_cut_with_an_ellipsis() -> None:
    png = make_png(800, 200)
    base = "https://www.val-doise.gouv.fr/booking/create/11343/2?"
    short = annotate_png(png, url=base)
    medium = annotate_png(png, url=base + "a" * 60)
    long = annotate_png(png, url=base + "a" * 400)
    huge = annotate_png(png, url=base + "a" * 5000)

    assert banner_height(short) < banner_height(medium) < banner_height(long)
    assert banner_height(long) == banner_height(huge)  # capped at three rows
    for image in (short, medium, long, huge):
        right_margin = image.crop((image.width - 8, 0, image.width, banner_height(image) - 10))
        assert right_margin.convert("L").getextrema() == (255, 255), "text runs off the image"
    assert banner_lines(
        taken_at=datetime(2026, 11, 27, tzinfo=UTC), url=base + "a" * 5000,
        state_label="x", attempt_label="y", sha256_hex="0" * 64,
    )[1] == f"Adresse : {base}{'a' * 5000}"


def test_control_characters_in_url_do_not_break_the_banner() -> None:
    lines = banner_lines(
        taken_at=datetime(2026, 11, 27, tzinfo=UTC), url="https://example.test/a\nb\tc",
        state_label="x", attempt_label="y", sha256_hex="0" * 64,
    )
    assert lines[1] == "Adresse : https://example.test/a b c"


def test_watermark_is_drawn_over_the_screenshot_and_in_the_banner() -> None:
    png = make_png(1000, 1500, seed=7)
    plain = annotate_png(png)
    marked = annotate_png(png, watermark="DÉMONSTRATION — données simulées")

    # The watermark adds a banner row, then covers the page with diagonal text.
    assert marked.height > plain.height
    original = Image.open(io.BytesIO(png))
    below = marked.crop((0, marked.height - original.height, marked.width, marked.height))
    changed = original.width * original.height - ImageChops.difference(below, original).convert("L").histogram()[0]
    assert changed > original.width * original.height // 50
    for top in range(0, original.height, 500):  # repeated down the whole page
        band = (0, top, original.width, top + 500)
        assert below.crop(band).tobytes() != original.crop(band).tobytes()


def test_banner_uses_the_shipped_font_whatever_the_system_has() -> None:
    """No system font is looked up: the banner's accented words come from the font shipped in templates/."""
    assert Path(annotate._font(20, bold=False).path).parent == FONTS_DIR
    assert Path(annotate._font(20, bold=True).path).parent == FONTS_DIR
