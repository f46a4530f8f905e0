"""The review copy's reading versions: the screenshots lighter, for email; the filed pièces untouched."""

import pytest
from pypdf import PdfReader

from dossier_builder.review import MAIL_LIMIT_BYTES, too_heavy_to_mail
from dossier_builder.verify import verify_bundle
from tests.dossier_helpers import build_sample, outline_titles


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    workspace, result = build_sample(tmp_path_factory.mktemp("review"))
    yield workspace, result
    workspace.close()


def jpegs(pages) -> list[tuple[int, int]]:
    """The width in pixels and the size in bytes of each JPEG image of `pages` (WeasyPrint lists a document's
    images on every page)."""
    images = {}
    for page in pages:
        for xobject in page["/Resources"].get_object().get("/XObject", {}).values():
            image = xobject.get_object()
            if image.get("/Subtype") == "/Image" and image.get("/Filter") == "/DCTDecode":
                images[xobject.idnum] = (int(image["/Width"]), len(image.get_data()))
    return list(images.values())


def test_review_copy_shows_the_screenshots_at_half_width_and_the_filed_pieces_keep_them_whole(built):
    workspace, result = built
    review = PdfReader(result.review)
    start = 1  # the cover
    captures = 0
    for entry in result.pieces:
        filed = PdfReader(entry.path)
        in_review = review.pages[start : start + entry.pages]
        start += entry.pages
        if entry.piece.kind != "captures":
            continue
        full, lighter = jpegs(filed.pages), jpegs(in_review)
        assert full and all(width == 1366 for width, _ in full)  # the JPEG copy of a 1366-pixel screenshot
        assert [width for width, _ in lighter] == [width // 2 for width, _ in full]
        assert sum(size for _, size in lighter) < 0.5 * sum(size for _, size in full)
        captures += len(full)
    assert captures == 12
    assert verify_bundle(workspace, result.directory).ok  # the filed files are those the manifest lists


def test_review_copy_keeps_each_pieces_bookmarks(built):
    _, result = built
    first_capture = next(entry for entry in result.pieces if entry.piece.kind == "captures")
    inner = {title for depth, title, _ in outline_titles(PdfReader(first_capture.path)) if depth > 0}
    assert inner  # the attempts of the week, beneath the pièce's title …
    assert inner <= {title for _, title, _ in outline_titles(PdfReader(result.review))}  # … kept in the review copy


def test_a_review_copy_too_heavy_to_mail_is_said_in_one_french_sentence():
    assert too_heavy_to_mail(MAIL_LIMIT_BYTES) is None
    assert too_heavy_to_mail(MAIL_LIMIT_BYTES + 1) == (
        "La copie de travail pèse 32,1 Mo : au-delà de 32 Mo, la plupart des messageries la refusent ; "
        "transmettez-la par un service de transfert de fichiers (les pièces restent chacune sous la limite "
        "de Télérecours)."
    )
    assert too_heavy_to_mail(34_021_835).startswith("La copie de travail pèse 34,1 Mo")
