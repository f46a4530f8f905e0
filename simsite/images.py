"""The few images the simulated pages show, drawn with the standard library only (zlib + struct).

- the step arrows of the classic booking module (``etape_<n>.png``, ``etape_<n>r.png`` for the active step,
  ``etape_<n>G.png`` as in the real no-slot page), without their label: the page gives it as ``alt``/``title``;
- the CaptchEtat image of RDV Préfecture: a few digits drawn with a 5×7 bitmap font.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

Rgba = tuple[int, int, int, int]

_ARROW_WIDTH, _ARROW_HEIGHT = 129, 45
_ARROW_COLOURS: dict[str, tuple[Rgba, Rgba]] = {
    # suffix: (top colour, bottom colour) of a vertical gradient, as on the real blue / red-orange arrows
    "": ((0, 190, 255, 255), (0, 70, 230, 255)),
    "G": ((0, 190, 255, 255), (0, 70, 230, 255)),
    "r": ((255, 60, 0, 255), (255, 200, 0, 255)),
}
ARROW_SUFFIXES = tuple(_ARROW_COLOURS)

_DIGITS_5X7 = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
}


def encode_png(width: int, height: int, pixels: list[list[Rgba]]) -> bytes:
    """Encode rows of RGBA pixels as a PNG (colour type 6, 8 bits, no filtering)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"".join(bytes(pixel) for pixel in row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _blend(top: Rgba, bottom: Rgba, ratio: float) -> Rgba:
    return tuple(round(a + (b - a) * ratio) for a, b in zip(top, bottom, strict=True))  # type: ignore[return-value]


@cache
def step_arrow(suffix: str) -> bytes:
    """A right-pointing arrow with a black outline, like the progress bar of the classic module."""
    top, bottom = _ARROW_COLOURS[suffix]
    transparent: Rgba = (0, 0, 0, 0)
    black: Rgba = (0, 0, 0, 255)
    body_end, mid = 100, _ARROW_HEIGHT // 2
    rows: list[list[Rgba]] = []
    for y in range(_ARROW_HEIGHT):
        fill = _blend(top, bottom, y / (_ARROW_HEIGHT - 1))
        row: list[Rgba] = []
        for x in range(_ARROW_WIDTH):
            in_body = 2 <= x <= body_end and 10 <= y <= _ARROW_HEIGHT - 11
            head_half = (_ARROW_WIDTH - 2 - x) * mid / (_ARROW_WIDTH - 2 - body_end)
            in_head = body_end <= x <= _ARROW_WIDTH - 2 and abs(y - mid) <= head_half
            if not (in_body or in_head):
                row.append(transparent)
                continue
            on_edge = (
                (in_body and not in_head and (x in (2, 3) or y in (10, 11, _ARROW_HEIGHT - 12, _ARROW_HEIGHT - 11)))
                or (in_head and abs(y - mid) > head_half - 2.5)
            )
            row.append(black if on_edge else fill)
        rows.append(row)
    return encode_png(_ARROW_WIDTH, _ARROW_HEIGHT, rows)


def captcha_image(code: str, scale: int = 5) -> bytes:
    """``code`` (digits) in dark blue on a light background crossed by a few lines, 150×50 like CaptchEtat's."""
    width, height = 150, 50
    background: Rgba = (235, 238, 245, 255)
    ink: Rgba = (20, 40, 120, 255)
    noise: Rgba = (150, 160, 190, 255)
    pixels = [[background] * width for _ in range(height)]
    for slope, offset in ((0.2, 8), (-0.15, 40), (0.05, 25)):
        for x in range(width):
            y = int(offset + slope * x)
            if 0 <= y < height:
                pixels[y][x] = noise
    glyph_width, gap = 5 * scale, scale + 3
    left = (width - len(code) * glyph_width - (len(code) - 1) * gap) // 2
    top = (height - 7 * scale) // 2
    for index, digit in enumerate(code):
        x0 = left + index * (glyph_width + gap)
        y0 = top + (-3 if index % 2 else 3)
        for row, bits in enumerate(_DIGITS_5X7[digit]):
            for column, bit in enumerate(bits):
                if bit == "1":
                    for dy in range(scale):
                        for dx in range(scale):
                            pixels[y0 + row * scale + dy][x0 + column * scale + dx] = ink
    return encode_png(width, height, pixels)
