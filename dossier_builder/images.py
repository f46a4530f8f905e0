"""Screenshot copies sized for print.

WeasyPrint re-encodes an embedded PNG (slow, large); a JPEG it embeds as is (REFERENCE §7). The
exhibit shows a JPEG copy; the original PNG stays in the store and its hash is printed beside the copy.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

MAX_WIDTH = 1400
JPEG_QUALITY = 80


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
