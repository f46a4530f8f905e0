"""Screenshot copies sized for print.

WeasyPrint re-encodes an embedded PNG (slow, large); a JPEG it embeds as is (REFERENCE §7). The
exhibit shows a JPEG copy; the original PNG stays in the store and its hash is printed beside the copy.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image

MAX_WIDTH = 1400
JPEG_QUALITY = 80
# The review copy's images: at least this wide, halved (or more) by the JPEG decoder itself, which is fast.
READING_WIDTH = 640
READING_QUALITY = 40  # with optimised Huffman tables: about 28 kB a screenshot, still legible


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and transparent pixels must not turn black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def jpeg_copy(
    source: Path, dest: Path, *, max_width: int = MAX_WIDTH, quality: int = JPEG_QUALITY
) -> tuple[int, int]:
    """Write a JPEG copy of the image `source` to `dest`; returns its (width, height) in pixels."""
    with Image.open(source) as image:
        image.draft("RGB", (max_width, max_width * 20))  # JPEG sources decode smaller, others ignore it
        picture = _flatten(image)
    if picture.width > max_width:
        height = round(picture.height * max_width / picture.width)
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    picture.save(dest, "JPEG", quality=quality, optimize=False, progressive=False)
    return picture.size


def reading_jpeg(data: bytes) -> bytes | None:
    """A lighter copy of the JPEG `data`, for reading on a screen: decoded at a half, a quarter or an eighth of
    its width (no narrower than READING_WIDTH) and encoded again; None when the image is too narrow to gain
    from it or is not plain RGB or grey."""
    with Image.open(BytesIO(data)) as image:
        if image.format != "JPEG" or image.mode not in ("RGB", "L") or image.width < 2 * READING_WIDTH:
            return None
        image.draft(image.mode, (READING_WIDTH, 1))
        image.load()
        lighter = BytesIO()
        image.save(lighter, "JPEG", quality=READING_QUALITY, optimize=True)
        return lighter.getvalue()


def crop_copy(
    source: Path, dest: Path, box: tuple[int, int, int, int], *, padding: int = 8
) -> tuple[tuple[int, int, int, int], tuple[int, int]] | None:
    """Cut `box` (x, y, width, height in the pixels of `source`), widened by `padding` and kept inside the
    image, into a PNG at `dest` (lossless: the inset must read as sharply as the original).

    Returns the rectangle actually cut (x, y, width, height) and the size of `source`, or None when the box
    lies outside the image.
    """
    x, y, width, height = box
    with Image.open(source) as image:
        size = image.size
        left, top = max(0, x - padding), max(0, y - padding)
        right, bottom = min(size[0], x + width + padding), min(size[1], y + height + padding)
        if right <= left or bottom <= top:
            return None
        _flatten(image.crop((left, top, right, bottom))).save(dest, "PNG")
    return (left, top, right - left, bottom - top), size
