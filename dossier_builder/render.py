"""Templates to PDF: Jinja2 (templates/dossier, found through the package, so an installed copy works)
then WeasyPrint.

WeasyPrint may only read local files: a template never needs the network, and a user-supplied text
that slipped a URL into the HTML must not make the tool fetch it.

WeasyPrint is imported where a PDF is drawn, not at the top: its import takes about half a second,
which every command of the CLI would otherwise pay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dossier_builder import french
from evidence.applicant_pieces import kind_label
from evidence.localtime import PARIS, paris_time, utc_offset_text
from evidence.server_time import direction_text, gap_text
from templates import font_face_css

if TYPE_CHECKING:
    from weasyprint import Attachment, Document
    from weasyprint.urls import URLFetcher

WATERMARK = "DÉMONSTRATION — données simulées"
# Every document is PDF/A-3b: an archival format whose fonts and colours are embedded.
PDF_VARIANT = "pdf/a-3b"


def local_fetcher() -> URLFetcher:
    """Local files only, and a file that cannot be read stops the build (no exhibit without its image)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)


def css_string(value: str) -> Markup:
    """A Python string as a CSS string literal, safe inside a <style> element (for @page boxes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return Markup(f'"{escaped}"')


def paris_long(moment: datetime) -> str:
    """'lundi 2 novembre 2026 à 09:30:00 (UTC+01:00)'."""
    local = moment.astimezone(PARIS)
    return (
        f"{french.WEEKDAYS[local.weekday()]} {french.long_date(local.date())} à {local:%H:%M:%S} "
        f"({utc_offset_text(moment)})"
    )


def file_size(value: int) -> str:
    if value < 1024:
        return f"{value} o"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} Ko".replace(".", ",")
    return f"{value / 1024 / 1024:.1f} Mo".replace(".", ",")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "dossier"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        css_string=css_string,
        paris=paris_time,
        paris_short=french.paris_short,
        paris_long=paris_long,
        long_date=french.long_date,
        state=french.state_label,
        channel=french.channel_label,
        thousands=french.number,
        file_size=file_size,
        weekday_span=french.weekday_span,
        hour_span=french.hour_span,
        piece_kind=kind_label,
        gap=gap_text,
        gap_direction=direction_text,
    )
    env.globals.update(
        watermark_text=WATERMARK,
        plural=french.plural,
        font_faces=Markup(font_face_css()),
        days=french.Noun("jour différent", "jours différents"),
        calendar_days=french.Noun("jour", "jours"),
        weeks=french.Noun("semaine différente", "semaines différentes", feminine=True),
    )
    return env


@dataclass(frozen=True)
class PageFrame:
    """What every page of a document carries: footer, case reference, watermark."""

    footer: str  # « Pièce n° 3 » — the page numbers are added by the template
    reference: str  # « Dossier « Dupont » »
    demo: bool
    title: str


_GUILLEMET_SPACES = re.compile(r"« | »")


def bind_guillemets(html: str) -> str:
    """French typography: the space inside « » made a no-break one, so that a guillemet never ends or starts a
    line apart from the words it quotes."""
    return _GUILLEMET_SPACES.sub(lambda found: found[0].replace(" ", "\u00a0"), html)


def render_html(template: str, frame: PageFrame, **context: Any) -> str:
    return bind_guillemets(environment().get_template(template).render(frame=frame, **context))


def render_document(html: str, base_dir: Path) -> Document:
    """Lay out `html`; images are looked up in `base_dir`."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=local_fetcher()).render()


def write_pdf(
    html: str,
    dest: Path,
    *,
    base_dir: Path,
    pdf_variant: str | None = PDF_VARIANT,
    attachments: Sequence[Attachment] = (),
) -> int:
    """Render `html` to `dest`; returns the number of pages."""
    document = render_document(html, base_dir)
    document.write_pdf(dest, pdf_variant=pdf_variant, attachments=list(attachments))
    return len(document.pages)
