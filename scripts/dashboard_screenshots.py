"""Take the README's screenshots of the dashboard, on a fresh demo workspace.

    .venv/bin/python scripts/dashboard_screenshots.py [docs/images]

Runs the demo (about two minutes), serves its workspace on 127.0.0.1 and photographs the main
pages with Chromium. Everything shown is simulated demo data.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence.workspace import open_workspace  # noqa: E402
from preuves.demo import run_demo  # noqa: E402
from tests.web_helpers import dashboard, page_browser  # noqa: E402

VIEWPORT = {"width": 1280, "height": 860}


def shoot(page: Page, folder: Path, name: str, *, full_page: bool = False) -> None:
    path = folder / f"dashboard-{name}.png"
    page.wait_for_load_state("networkidle")  # the thumbnails in view have arrived
    page.screenshot(path=path, full_page=full_page)
    print(path)


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="preuves-screenshots-") as scratch:
        dossier = run_demo(Path(scratch))[-1]  # the classic case's bundle
        workspace = open_workspace(dossier.parent / "espace-de-travail")
        try:
            with dashboard(workspace, accounts=False) as base, page_browser() as chromium:
                page = chromium.new_page(viewport=VIEWPORT, locale="fr-FR")
                page.goto(base)
                shoot(page, folder, "dossiers")
                page.get_by_role("link", name="Démonstration titre de séjour").click()
                shoot(page, folder, "dossier")
                page.locator("[data-capture]").nth(3).click()
                shoot(page, folder, "tentative")
                page.go_back()
                page.get_by_role("button", name="Constituer le dossier pour Télérecours").click()
                page.wait_for_timeout(1500)
                shoot(page, folder, "constitution-en-cours")
                expect(page.locator("#job[data-finished=oui]")).to_be_visible(timeout=300_000)
                shoot(page, folder, "dossier-pret")
        finally:
            workspace.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images"))
