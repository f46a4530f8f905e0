"""Decoding an image whole or not at all, wherever it happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PIL import ImageFile


@contextmanager
def whole_images_only() -> Iterator[None]:
    """Refuse a truncated image even where WeasyPrint, once imported, told Pillow to accept them (it sets
    ImageFile.LOAD_TRUNCATED_IMAGES): a damaged image fails instead of being shown cut short, its missing rows
    grey."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
