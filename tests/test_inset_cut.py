"""The decisive text's inset is cut from the raw screenshot decoded only down to the rows it needs: the pixels
must be exactly those of the whole image, whatever kind of PNG the store holds; a damaged screenshot is refused,
here as in the build's workers, which have WeasyPrint imported (it tells Pillow to accept truncated images)."""

from __future__ import annotations

import random

import pytest
import weasyprint  # noqa: F401 (imported for what it does to Pillow, as in a worker)
from PIL import Image

from dossier_builder.images import crop_copy, jpeg_copy

BOX = (40, 120, 300, 30)  # x, y, width, height: in the upper part of a tall page


def page_image(mode: str, size: tuple[int, int] = (640, 1600)) -> Image.Image:
    """A noisy image (every PNG filter gets used, the zlib stream spans several IDAT chunks)."""
    rng = random.Random(7)
    channels = len(mode) if mode in ("RGB", "RGBA") else 1
    data = bytes(rng.randrange(256) if rng.random() < 0.3 else 200 for _ in range(size[0] * size[1] * channels))
    return Image.frombytes(mode, size, data)


def whole_crop(path, box) -> Image.Image:
    """The box, widened by 8 pixels, cut from the whole decoded image and laid on white."""
    x, y, width, height = box
    with Image.open(path) as image:
        cut = image.crop((x - 8, y - 8, x + width + 8, y + height + 8))
        if cut.mode != "RGB" or "transparency" in image.info:
            cut = cut.convert("RGBA")
            flat = Image.new("RGB", cut.size, (255, 255, 255))
            flat.paste(cut, mask=cut.getchannel("A"))
            return flat
        return cut


@pytest.mark.parametrize(
    ("mode", "options"),
    [("RGB", {}), ("RGBA", {}), ("P", {}), ("RGB", {"transparency": (200, 200, 200)})],
    ids=["rgb", "rgba", "palette", "rgb-with-transparent-colour"],
)
def test_the_inset_has_the_pixels_of_the_whole_screenshot(tmp_path, mode, options):
    source = tmp_path / "raw.png"
    image = page_image("RGB").quantize(64) if mode == "P" else page_image(mode)
    image.save(source, "PNG", **options)
    dest = tmp_path / "inset.png"
    cut = crop_copy(source, dest, BOX)
    assert cut == ((32, 112, 316, 46), (640, 1600))  # widened by 8 pixels, the size of the whole image
    with Image.open(dest) as inset:
        assert inset.mode == "RGB"
        assert inset.tobytes() == whole_crop(source, BOX).tobytes()


def test_an_inset_at_the_foot_of_the_page_is_kept_inside_it(tmp_path):
    source = tmp_path / "raw.png"
    page_image("RGB", (640, 400)).save(source, "PNG")
    cut = crop_copy(source, tmp_path / "inset.png", (600, 380, 100, 40))
    assert cut == ((592, 372, 48, 28), (640, 400))
    with Image.open(tmp_path / "inset.png") as inset, Image.open(source) as whole:
        assert inset.tobytes() == whole.crop((592, 372, 640, 400)).tobytes()


def test_a_box_outside_the_screenshot_cuts_nothing(tmp_path):
    source = tmp_path / "raw.png"
    page_image("RGB", (640, 400)).save(source, "PNG")
    assert crop_copy(source, tmp_path / "inset.png", (10, 900, 50, 20)) is None
    assert not (tmp_path / "inset.png").exists()


def test_a_truncated_screenshot_is_refused_not_cut_nor_copied(tmp_path):
    source = tmp_path / "raw.png"
    page_image("RGB").save(source, "PNG")
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 3])  # the rows of the box are there, the end of the file is not
    with pytest.raises((OSError, ValueError)):
        crop_copy(source, tmp_path / "inset.png", BOX)
    with pytest.raises((OSError, ValueError)):
        jpeg_copy(source, tmp_path / "copy.jpg")


def test_a_screenshot_damaged_below_the_box_is_refused_too(tmp_path):
    source = tmp_path / "raw.png"
    page_image("RGB").save(source, "PNG")
    data = bytearray(source.read_bytes())
    data[-100] ^= 0xFF  # in the last rows' compressed pixels, far below the box
    source.write_bytes(bytes(data))
    with pytest.raises((OSError, ValueError)):
        crop_copy(source, tmp_path / "inset.png", BOX)
