"""Screenshot copies sized for print.

WeasyPrint re-encodes an embedded PNG (slow, large); a JPEG it embeds as is (REFERENCE §7). The
exhibit shows a JPEG copy; the original PNG stays in the store and its hash is printed beside the copy.
"""

from __future__ import annotations

from hashlib import sha256
from io import BytesIO
from pathlib import Path

from PIL import Image

from evidence import png_chunks
from evidence.strict_images import whole_images_only

MAX_WIDTH = 1400
JPEG_QUALITY = 80
# The review copy's images: at least this wide, halved (or more) by the JPEG decoder itself, which is fast, or
# from the pixels decoded for the print copy.
READING_WIDTH = 640
READING_QUALITY = 30  # with optimised Huffman tables: about 20 kB a 1,366-pixel screenshot, still legible


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and transparent pixels must not turn black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "RGB":  # a screenshot usually: no copy of its pixels
        image.load()
        return image
    return image.convert("RGB")


def reading_name(data: bytes) -> str:
    """The file name of the lighter copy of the JPEG image `data`: the review copy finds it by that image's
    SHA-256."""
    return f"{sha256(data).hexdigest()}.jpg"


def reading_scale(width: int) -> int:
    """By how much the review copy narrows an image `width` pixels wide: by 2, 4 or 8 (the factors the JPEG
    decoder scales by), as much as keeps it READING_WIDTH wide; 1 when it is too narrow to gain from it."""
    scale = 1
    while scale < 8 and width // (scale * 2) >= READING_WIDTH:
        scale *= 2
    return scale


def _reading_bytes(image: Image.Image) -> bytes:
    lighter = BytesIO()
    image.save(lighter, "JPEG", quality=READING_QUALITY, optimize=True)
    return lighter.getvalue()


def jpeg_copy(
    source: Path,
    dest: Path,
    *,
    max_width: int = MAX_WIDTH,
    quality: int = JPEG_QUALITY,
    reading_dir: Path | None = None,
) -> tuple[int, int]:
    """Write a JPEG copy of the image `source` to `dest`; returns its (width, height) in pixels.

    With `reading_dir`, also write there the lighter copy of that JPEG the review copy shows (see reading_jpeg),
    named by reading_name, from the pixels already decoded: no second decoding.
    """
    with whole_images_only(), Image.open(source) as image:
        image.draft("RGB", (max_width, max_width * 20))  # JPEG sources decode smaller, others ignore it
        picture = _flatten(image)
    if picture.width > max_width:
        height = round(picture.height * max_width / picture.width)
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    encoded = BytesIO()
    picture.save(encoded, "JPEG", quality=quality, optimize=False, progressive=False)
    dest.write_bytes(encoded.getvalue())
    scale = reading_scale(picture.width)
    if reading_dir is not None and scale > 1:
        (reading_dir / reading_name(encoded.getvalue())).write_bytes(_reading_bytes(picture.reduce(scale)))
    return picture.size


def reading_jpeg(data: bytes) -> bytes | None:
    """A lighter copy of the JPEG `data`, for reading on a screen: decoded at a half, a quarter or an eighth of
    its width (no narrower than READING_WIDTH, see reading_scale) and encoded again; None when the image is too
    narrow to gain from it or is not plain RGB or grey."""
    with Image.open(BytesIO(data)) as image:
        if image.format != "JPEG" or image.mode not in ("RGB", "L") or reading_scale(image.width) == 1:
            return None
        image.draft(image.mode, (READING_WIDTH, 1))
        image.load()
        return _reading_bytes(image)


PLAIN_PNG_MODES = {2: "RGB", 6: "RGBA"}  # PNG colour type → Pillow mode, at 8 bits a sample


def _png_top(source: Path, rows: int) -> tuple[Image.Image, tuple[int, int]] | None:
    """The first `rows` rows of the PNG `source`, the rows below left undecoded, and the image's full size; None
    when it is not a plain PNG (8-bit RGB or RGBA, not interlaced, no transparent colour), decoded whole instead.

    A PNG's pixels are one zlib stream, row after row: the decisive text, usually in the upper part of a page,
    is cut for a fraction of a full decoding. The rows are Pillow's own decoding of the same stream."""
    ihdr, pixels = None, []
    try:
        for kind, body in png_chunks.chunks(source.read_bytes()):
            # Every chunk's CRC is checked, those below the rows decoded too: a damaged file is never cut from.
            if kind == b"IHDR":
                ihdr = png_chunks.header(body)
            elif kind == b"IDAT":
                pixels.append(body)
            elif kind == b"tRNS":
                return None
    except (png_chunks.NotPng, png_chunks.CutShort):  # Pillow's whole decoding says what it is
        return None
    if ihdr is None or not pixels:
        return None
    width, height = ihdr.width, ihdr.height
    mode = PLAIN_PNG_MODES.get(ihdr.colour_type)
    if (
        mode is None
        or ihdr.depth != 8
        or ihdr.interlace
        or width * height > (Image.MAX_IMAGE_PIXELS or width * height)
    ):
        return None
    top = Image.frombytes(mode, (width, max(1, min(rows, height))), b"".join(pixels), "zip", mode)
    return top, (width, height)


def _decoded_down_to(source: Path, rows: int) -> tuple[Image.Image, tuple[int, int]]:
    """The image `source` decoded at least down to its row `rows`, and its full size."""
    top = _png_top(source, rows)
    if top is not None:
        return top
    with whole_images_only(), Image.open(source) as image:
        image.load()
        return image, image.size


def crop_copy(
    source: Path, dest: Path, box: tuple[int, int, int, int], *, padding: int = 8
) -> tuple[tuple[int, int, int, int], tuple[int, int]] | None:
    """Cut `box` (x, y, width, height in the pixels of `source`), widened by `padding` and kept inside the
    image, into a PNG at `dest` (lossless: the inset must read as sharply as the original).

    Returns the rectangle actually cut (x, y, width, height) and the size of `source`, or None when the box
    lies outside the image.
    """
    x, y, width, height = box
    image, size = _decoded_down_to(source, y + height + padding)
    left, top = max(0, x - padding), max(0, y - padding)
    right, bottom = min(size[0], x + width + padding), min(size[1], y + height + padding)
    if right <= left or bottom <= top:
        return None
    _flatten(image.crop((left, top, right, bottom))).save(dest, "PNG")
    return (left, top, right - left, bottom - top), size
