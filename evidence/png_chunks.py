"""The chunks of a PNG file, read without decoding its pixels.

Two readers need them: the capture stacks a banner above a screenshot's compressed rows
(capture/png_stack.py), and the dossier decodes a screenshot only down to the rows its inset needs
(dossier_builder/images.py). Each decides what a damaged file means for it; this module only says which kind of
damage it found.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Unreadable(ValueError):
    """The bytes cannot be read as a PNG's chunks (one of the three below)."""


class NotPng(Unreadable):
    """The bytes do not start as a PNG file does."""


class CutShort(Unreadable):
    """A chunk runs past the end of the file, or the file ends before its IEND chunk."""


class BadChecksum(Unreadable):
    """A chunk whose CRC does not match its bytes."""

    def __init__(self, kind: bytes) -> None:
        super().__init__(f"PNG endommagé (bloc {kind!r})")
        self.kind = kind


@dataclass(frozen=True)
class Header:
    """The IHDR chunk's fields."""

    width: int
    height: int
    depth: int
    colour_type: int
    compression: int
    filtering: int
    interlace: int


def chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(kind, body) of each chunk up to IEND, excluded, each one's CRC checked before it is given."""
    if not png.startswith(SIGNATURE):
        raise NotPng
    position = len(SIGNATURE)
    while True:
        if position + 12 > len(png):
            raise CutShort
        length, kind = struct.unpack_from(">I4s", png, position)
        if position + 12 + length > len(png):
            raise CutShort
        body = png[position + 8 : position + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", png, position + 8 + length)[0]:
            raise BadChecksum(kind)
        if kind == b"IEND":
            return
        yield kind, body
        position += 12 + length


def header(body: bytes) -> Header | None:
    """The IHDR chunk's fields, or None when its body is not 13 bytes long."""
    return Header(*struct.unpack(">IIBBBBB", body)) if len(body) == 13 else None
