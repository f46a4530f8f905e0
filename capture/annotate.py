"""Print the capture's date, time, address, state and hash into a copy of its screenshot.

Judges reject screenshots whose date and time of connection are not printed in the image itself
(REFERENCE §1). This module builds the exhibit copy: a high-contrast banner on top, the page pixels untouched
below. The raw PNG stays the evidence of record; the banner names its SHA-256 so the copy can be tied back to it.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from capture.png_stack import stackable
from templates import SANS, font_path

PARIS = ZoneInfo("Europe/Paris")

# French names are spelled out here so the banner never depends on the system locale.
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

_BLACK = (0, 0, 0)
_WHITE = (255, 255, 255)
_WATERMARK_BANNER_COLOUR = (160, 0, 0)  # dark red: still above 7:1 contrast on white
_WATERMARK_COLOUR = (200, 0, 0)
_WATERMARK_OPACITY = 64  # out of 255: the page stays readable under the diagonal text
_WATERMARK_ANGLE = 30  # degrees, counter-clockwise
_URL_MAX_LINES = 3
_ELLIPSIS = "…"
# Fast encoding: level 1-3 is several times faster than Pillow's default 6 for a few % more bytes.
_PNG_COMPRESS_LEVEL = 2
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

_Font = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class _BannerLine:
    text: str
    bold: bool = False
    colour: tuple[int, int, int] = _BLACK
    # URLs are cut anywhere and limited to a few rows; other lines wrap between words and are never cut.
    max_rows: int | None = None


def banner_lines(
    *,
    taken_at: datetime,
    url: str,
    state_label: str,
    attempt_label: str,
    sha256_hex: str,
    watermark: str | None = None,
) -> list[str]:
    """Return the banner's logical lines (before wrapping to the image width), in French."""
    return [line.text for line in _banner(taken_at, url, state_label, attempt_label, sha256_hex, watermark)]


def annotate_screenshot(
    png: bytes,
    *,
    taken_at: datetime,
    url: str,
    state_label: str,
    attempt_label: str,
    sha256_hex: str,
    watermark: str | None = None,
) -> bytes:
    """Return a new PNG: the banner, then the screenshot pixel for pixel (unless a watermark is drawn over it).

    `sha256_hex` must be the SHA-256 of `png` itself, so the banner can never name another file.
    Raises ValueError for a naive `taken_at`, a malformed or mismatching hash, or bytes Pillow cannot read.
    """
    lines = _banner(taken_at, url, state_label, attempt_label, sha256_hex, watermark)
    if hashlib.sha256(png).hexdigest() != sha256_hex.lower():
        raise ValueError("sha256_hex is not the SHA-256 of the screenshot being annotated")
    # Without a watermark over the page, the screenshot's compressed rows are reused as they are (png_stack).
    reusable = None if watermark and watermark.strip() else stackable(png)
    if reusable is not None:
        banner = _draw_banner(lines, reusable.width, reusable.mode)
        if reusable.accepts(banner):
            return reusable.below(banner, _PNG_COMPRESS_LEVEL)
    try:
        with Image.open(io.BytesIO(png)) as opened:
            screenshot = opened.convert(_canvas_mode(opened))
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"unreadable screenshot: {exc}") from exc

    banner = _draw_banner(lines, screenshot.width, screenshot.mode)
    canvas = Image.new(screenshot.mode, (screenshot.width, banner.height + screenshot.height))
    canvas.paste(banner, (0, 0))
    canvas.paste(screenshot, (0, banner.height))
    if watermark and watermark.strip():
        _draw_watermark(canvas, watermark.strip())

    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _draw_banner(lines: list[_BannerLine], width: int, mode: str) -> Image.Image:
    """The banner alone, `width` pixels wide: the lines in black (or dark red) on white, then a black rule (its
    last row all zero bytes in RGB, which png_stack relies on)."""
    size = _font_size(width)
    margin = size
    row_pitch = round(size * 1.35)
    rule = max(3, size // 6)
    rows: list[tuple[str, _Font, tuple[int, int, int]]] = []
    for line in lines:
        font = _font(size, bold=line.bold)
        rows += [(row, font, line.colour) for row in _wrap(line.text, font, width - 2 * margin, line.max_rows)]
    height = margin + len(rows) * row_pitch + margin // 2 + rule

    banner = Image.new(mode, (width, height), _fill(mode, _WHITE))
    draw = ImageDraw.Draw(banner)
    for index, (row, font, colour) in enumerate(rows):
        draw.text((margin, margin + index * row_pitch), row, font=font, fill=_fill(mode, colour))
    draw.rectangle((0, height - rule, width, height - 1), fill=_fill(mode, _BLACK))
    return banner


def _banner(
    taken_at: datetime, url: str, state_label: str, attempt_label: str, sha256_hex: str, watermark: str | None
) -> list[_BannerLine]:
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError("taken_at must be timezone-aware")
    digest = sha256_hex.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError("sha256_hex must be 64 hexadecimal digits")
    lines = []
    if watermark and watermark.strip():
        lines.append(_BannerLine(_one_line(watermark.strip()), bold=True, colour=_WATERMARK_BANNER_COLOUR))
    lines += [
        _BannerLine(_moment_line(taken_at), bold=True),
        _BannerLine(f"Adresse : {_one_line(url)}", max_rows=_URL_MAX_LINES),
        _BannerLine(f"État constaté : {_one_line(state_label)} — {_one_line(attempt_label)}"),
        _BannerLine(f"SHA-256 de la capture brute : {digest}"),
    ]
    return lines


def _moment_line(taken_at: datetime) -> str:
    paris = taken_at.astimezone(PARIS)
    utc = taken_at.astimezone(timezone.utc)
    utc_part = f"{utc:%H:%M:%S} UTC"
    if utc.date() != paris.date():
        utc_part = f"{_french_date(utc)} à {utc_part}"
    return (
        f"Capture du {_french_date(paris)} à {paris:%H:%M:%S} "
        f"(heure de Paris, {_utc_offset(paris)}) — {utc_part}"
    )


def _french_date(moment: datetime) -> str:
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{_WEEKDAYS[moment.weekday()]} {day} {_MONTHS[moment.month - 1]} {moment.year}"


def _utc_offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _one_line(text: str) -> str:
    """Replace control characters (a newline in a URL would break the layout) with spaces."""
    return _CONTROL_CHARACTERS.sub(" ", text)


def _canvas_mode(image: Image.Image) -> str:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return "RGBA" if has_alpha else "RGB"


def _fill(mode: str, colour: tuple[int, int, int]) -> tuple[int, ...]:
    return (*colour, 255) if mode == "RGBA" else colour


def _font_size(width: int) -> int:
    """One sixtieth of the width, kept between 14 and 30 px: the longest date line then fits on one row."""
    return max(14, min(30, round(width / 60)))


@lru_cache(maxsize=32)
def _font(size: int, *, bold: bool) -> _Font:
    """The shipped sans-serif font: every glyph of French, whatever fonts the machine has."""
    return ImageFont.truetype(str(font_path(SANS, bold=bold)), size)


def _wrap(text: str, font: _Font, max_width: int, max_rows: int | None) -> list[str]:
    rows: list[str] = []
    rest = text
    while rest:
        if max_rows is not None and len(rows) == max_rows - 1:
            rows.append(_truncate(rest, font, max_width))
            break
        cut = _fitting_prefix(rest, font, max_width)
        if max_rows is None and cut < len(rest):
            space = rest.rfind(" ", 0, cut + 1)
            if space > 0:
                cut = space
        rows.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return rows or [""]


def _fitting_prefix(text: str, font: _Font, max_width: float) -> int:
    """Length of the longest prefix of `text` no wider than `max_width` (at least one character)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle]) <= max_width:
            low = middle
        else:
            high = middle - 1
    return low


def _truncate(text: str, font: _Font, max_width: int) -> str:
    if font.getlength(text) <= max_width:
        return text
    return text[: _fitting_prefix(text, font, max_width - font.getlength(_ELLIPSIS))] + _ELLIPSIS


def _draw_watermark(canvas: Image.Image, text: str) -> None:
    """Repeat `text` diagonally down the whole image, semi-transparent, so no crop can remove it."""
    width, height = canvas.size
    angle = math.radians(_WATERMARK_ANGLE)
    probe = _font(100, bold=True).getlength(text) or 1
    size = max(12, int(100 * 0.8 * width / (probe * math.cos(angle))))
    font = _font(size, bold=True)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font, fill=_WATERMARK_OPACITY)
    mask = mask.rotate(_WATERMARK_ANGLE, resample=Image.Resampling.BICUBIC, expand=True)
    x = (width - mask.width) // 2
    colour = _fill(canvas.mode, _WATERMARK_COLOUR)
    for y in range(-mask.height // 3, height, mask.height + size):
        canvas.paste(colour, (x, y, x + mask.width, y + mask.height), mask)
