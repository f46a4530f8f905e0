"""Jinja2 templates of the documents (exhibits, letters) and the fonts they are drawn with, shipped inside
the package.

Every PDF and every annotated image uses the fonts of `fonts/` only, never the machine's: a bundle then looks
the same on a minimal Debian, a full desktop and macOS (line breaks, page counts, glyphs).
"""

from dataclasses import dataclass
from pathlib import Path

FONTS_DIR = Path(__file__).parent / "fonts"


@dataclass(frozen=True)
class FontFace:
    family: str
    file: str
    weight: str = "normal"
    style: str = "normal"

    @property
    def path(self) -> Path:
        return FONTS_DIR / self.file


SERIF = "Preuves Serif"
SANS = "Preuves Sans"
MONO = "Preuves Mono"

FONT_FACES = (
    FontFace(SERIF, "LiberationSerif-Regular.ttf"),
    FontFace(SERIF, "LiberationSerif-Bold.ttf", weight="bold"),
    FontFace(SERIF, "LiberationSerif-Italic.ttf", style="italic"),
    FontFace(SERIF, "LiberationSerif-BoldItalic.ttf", weight="bold", style="italic"),
    FontFace(SANS, "DejaVuSans.ttf"),
    FontFace(SANS, "DejaVuSans-Bold.ttf", weight="bold"),
    FontFace(MONO, "DejaVuSansMono.ttf"),
)


def font_path(family: str, *, bold: bool = False) -> Path:
    """The file of a shipped family (upright), for Pillow."""
    weight = "bold" if bold else "normal"
    return next(f.path for f in FONT_FACES if (f.family, f.weight, f.style) == (family, weight, "normal"))


def font_face_css() -> str:
    """The @font-face rules that declare the shipped fonts to WeasyPrint (absolute file URLs)."""
    return "\n".join(
        f'@font-face {{ font-family: "{f.family}"; src: url("{f.path.as_uri()}"); '
        f"font-weight: {f.weight}; font-style: {f.style}; }}"
        for f in FONT_FACES
    )
