"""The annotated copy stacked on the screenshot's own compressed rows shows exactly what decoding would show."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from datetime import datetime, timezone

import pytest
from PIL import Image

from capture import annotate
from capture.annotate import annotate_screenshot
from capture.png_stack import stackable


def filtered_png(width: int, height: int, mode: str, filter_type: int, seed: int = 3) -> tuple[bytes, bytes]:
    """A noisy PNG whose every row uses `filter_type` (0 none, 1 sub, 2 up, 3 average, 4 paeth), and its pixels.
    Written by hand: Pillow chooses its own filters, and Chromium's screenshots start with paeth."""
    channels = len(mode)
    row = width * channels
    pixels = random.Random(seed).randbytes(row * height)
    scanlines = bytearray()
    above = bytes(row)
    for y in range(height):
        line = pixels[y * row : (y + 1) * row]
        scanlines.append(filter_type)
        for x, value in enumerate(line):
            left = line[x - channels] if x >= channels else 0
            up = above[x]
            up_left = above[x - channels] if x >= channels else 0
            scanlines.append((value - _predict(filter_type, left, up, up_left)) & 0xFF)
        above = line
    header = struct.pack(">IIBBBBB", width, height, 8, {"RGB": 2, "RGBA": 6}[mode], 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(scanlines), 6))
    return png + _chunk(b"IEND", b""), pixels


def _predict(filter_type: int, left: int, up: int, up_left: int) -> int:
    if filter_type == 4:
        estimate = left + up - up_left
        distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
        return (left, up, up_left)[distances.index(min(distances))]
    return (0, left, up, (left + up) // 2)[filter_type]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def idat_stream(png: bytes) -> bytes:
    position, data = 8, b""
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    return data


def annotated(png: bytes) -> bytes:
    return annotate_screenshot(
        png,
        taken_at=datetime(2026, 12, 6, 18, 30, tzinfo=timezone.utc),
        url="https://pprdv.interieur.gouv.fr/booking/create/989/2",
        state_label="aucun créneau disponible",
        attempt_label="tentative n° 4",
        sha256_hex=hashlib.sha256(png).hexdigest(),
    )


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_stacked_copy_shows_the_decoded_copys_pixels(
    mode: str, filter_type: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    png, pixels = filtered_png(300, 40, mode, filter_type)
    assert decoded(png).tobytes() == pixels  # the hand-written PNG is right

    stacked = annotated(png)
    monkeypatch.setattr(annotate, "stackable", lambda _: None)  # the decode, draw and re-encode path
    redrawn = annotated(png)

    assert decoded(stacked).mode == mode
    assert decoded(stacked).tobytes() == decoded(redrawn).tobytes()
    assert decoded(stacked).tobytes().endswith(pixels)
    zlib.decompress(idat_stream(stacked))  # zlib checks the combined Adler-32 itself


def test_the_screenshots_compressed_rows_are_kept_byte_for_byte() -> None:
    png, _ = filtered_png(200, 30, "RGB", 4)
    rows = idat_stream(png)[2:-4]  # without the zlib header and checksum
    assert rows in idat_stream(annotated(png))


@pytest.mark.parametrize(
    "damage",
    [
        lambda png: png[:-30],  # cut short
        lambda png: png[:60] + bytes([png[60] ^ 1]) + png[61:],  # a flipped bit: the chunk's CRC fails
        lambda png: png[:8] + b"junk" + png[12:],  # the header's length is garbage
    ],
)
def test_a_damaged_png_is_not_stacked(damage) -> None:  # type: ignore[no-untyped-def]
    png, _ = filtered_png(64, 16, "RGB", 2)
    assert stackable(png) is not None
    assert stackable(damage(png)) is None


def test_a_png_whose_scanlines_do_not_add_up_is_not_stacked() -> None:
    png, _ = filtered_png(64, 16, "RGB", 0)
    header = struct.pack(">IIBBBBB", 64, 17, 8, 2, 0, 0, 0)  # one row more than the data holds
    lying = png[:8] + _chunk(b"IHDR", header) + png[33:]
    assert stackable(lying) is None


def test_other_pngs_are_decoded_the_usual_way() -> None:
    buffer = io.BytesIO()
    Image.new("P", (50, 20), 3).save(buffer, format="PNG")  # a palette: not stackable
    palette = buffer.getvalue()
    assert stackable(palette) is None
    assert decoded(annotated(palette)).size[1] > 20
