"""Put an image above a PNG without decoding and re-encoding the PNG's pixels.

The annotated copy of a screenshot is a banner followed by the screenshot, pixel for pixel. Decoding and
re-encoding a full-page screenshot costs about 30 ms of CPU on every attempt; stacking costs the banner's own
encoding and one inflate of the screenshot (6 ms for 1366×768) to check that its data is whole.

Why the result shows the same pixels: a PNG's image data is one zlib stream of scanlines, each led by a filter
byte; the "up", "average" and "paeth" filters read the row above, which for the first row is taken as all zeros.
Put after a banner whose last row is all zero bytes (black, without alpha), the screenshot's first row reads the
same zeros. A deflate stream may go on with new blocks after a sync flush, and the screenshot's compressed data
refers only to its own bytes, so the banner's blocks and the screenshot's concatenate; the Adler-32 checksum of
the whole is computed from the two parts'.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from PIL import Image

from evidence import png_chunks

_MODES = {2: ("RGB", 3), 6: ("RGBA", 4)}  # PNG colour type → Pillow mode, bytes per pixel (8-bit samples)
_FILTERS_READING_ABOVE = (2, 3, 4)  # up, average, paeth
_ADLER_MODULUS = 65521
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window (the largest), no preset dictionary


class _Unstackable(Exception):
    """The PNG is not one whose data can be reused as it is."""


@dataclass(frozen=True)
class StackablePng:
    """A PNG of 8-bit RGB or RGBA, not interlaced, whose compressed scanlines were checked whole."""

    width: int
    height: int
    mode: str
    zlib_stream: bytes
    first_filter: int

    @property
    def scanlines_length(self) -> int:
        return self.height * (1 + self.width * len(self.mode))

    def accepts(self, top: Image.Image) -> bool:
        """Whether `top` can go above without changing what the first row decodes to."""
        if top.mode != self.mode or top.width != self.width:
            return False
        row = top.width * len(top.mode)
        return self.first_filter not in _FILTERS_READING_ABOVE or not any(top.tobytes()[-row:])

    def below(self, top: Image.Image, compress_level: int) -> bytes:
        """A PNG of `top` (which this accepts) followed by this PNG's rows, these left as they were compressed."""
        pixels = top.tobytes()
        row = top.width * len(top.mode)
        scanlines = b"".join(b"\x00" + pixels[start : start + row] for start in range(0, len(pixels), row))
        deflater = zlib.compressobj(compress_level, zlib.DEFLATED, -15)  # raw deflate: the header is ours
        blocks = deflater.compress(scanlines) + deflater.flush(zlib.Z_SYNC_FLUSH)
        checksum = _adler32_of_concatenation(
            zlib.adler32(scanlines), int.from_bytes(self.zlib_stream[-4:], "big"), self.scanlines_length
        )
        stream = _ZLIB_HEADER + blocks + self.zlib_stream[2:-4] + checksum.to_bytes(4, "big")
        colour_type = next(code for code, (mode, _) in _MODES.items() if mode == self.mode)
        header = struct.pack(">IIBBBBB", self.width, top.height + self.height, 8, colour_type, 0, 0, 0)
        return png_chunks.SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def stackable(png: bytes) -> StackablePng | None:
    """The PNG, checked whole (chunk CRCs, its zlib stream and its checksum, the scanlines' count and filters),
    if its data can be reused as it is; None for any other PNG or bytes (to be decoded the usual way)."""
    try:
        return _read(png)
    except (_Unstackable, png_chunks.Unreadable, zlib.error):
        return None


def _read(png: bytes) -> StackablePng:
    ihdr, data = None, []
    for kind, body in png_chunks.chunks(png):
        if kind == b"IHDR":
            ihdr = png_chunks.header(body)
        elif kind == b"IDAT":
            data.append(body)
        elif kind == b"tRNS" or kind[0] & 0x20 == 0:  # a transparent colour, or a critical chunk (a palette)
            raise _Unstackable
    if ihdr is None or not data:
        raise _Unstackable
    width, height, colour_type = ihdr.width, ihdr.height, ihdr.colour_type
    if ihdr.depth != 8 or colour_type not in _MODES or ihdr.compression or ihdr.filtering or ihdr.interlace:
        raise _Unstackable
    mode, channels = _MODES[colour_type]
    stream = b"".join(data)
    inflater = zlib.decompressobj()
    scanlines = inflater.decompress(stream)
    stride = 1 + width * channels
    whole = inflater.eof and not inflater.unused_data and len(scanlines) == height * stride
    if not whole or height == 0 or max(scanlines[::stride]) > 4:
        raise _Unstackable
    return StackablePng(width, height, mode, stream, scanlines[0])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _adler32_of_concatenation(first: int, second: int, second_length: int) -> int:
    """Adler-32 of A then B from those of A and B: the sums of B each grow by (sum of A's bytes) = first's low
    half − 1, once per byte of B for the high half."""
    low = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % _ADLER_MODULUS
    high = ((first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)) % _ADLER_MODULUS
    return (high << 16) | low
