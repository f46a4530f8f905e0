"""`make demo`, the README's main job, end to end: four simulated weeks, two letters, the bundle."""

from __future__ import annotations

import json

import pytest

from dossier_builder.verify import verify_bundle
from evidence.verify import verify_workspace
from evidence.workspace import open_workspace
from preuves.cli import run

pytestmark = pytest.mark.browser


def test_demo_ends_with_a_verified_bundle_whose_path_is_printed_last(tmp_path, capsys):
    assert run(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    bundle = tmp_path.joinpath(printed.out.strip().splitlines()[-1])
    assert bundle.is_dir() and bundle.parent.parent == tmp_path
    pieces = sorted((p.name for p in bundle.glob("PJ*.pdf")), key=lambda name: int(name[2:].split("_")[0]))
    assert pieces[:3] == [
        "PJ1_Titre_de_sejour_en_cours_de_validite_document_fictif.pdf",
        "PJ2_Justificatif_de_domicile_document_fictif.pdf",
        "PJ3_Note_de_synthese.pdf",
    ]
    assert pieces[-1].startswith("PJ") and "Annexe_technique" in pieces[-1] and len(pieces) >= 9
    assert {"Inventaire_des_pieces.pdf", "dossier-complet.pdf", "manifest.json", "SHA256SUMS"} <= {
        p.name for p in bundle.iterdir()
    }
    assert (
        "32 tentatives simulées sur 4 semaines et une dernière juste avant le dossier, 2 courriers sans réponse, "
        "2 pièces du demandeur (fictives)." in printed.err
    )

    workspace = open_workspace(bundle.parent / "espace-de-travail")
    try:
        assert workspace.demo
        assert verify_workspace(workspace).ok
        assert verify_bundle(workspace, bundle).ok
    finally:
        workspace.close()
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert sum(1 for item in manifest["artefacts"] if item["kind"] == "screenshot") == 33
    # The bundle is current and dated after every event of its journal.
    assert manifest["generated_at"] > max(item["recorded_at"] for item in manifest["artefacts"])
