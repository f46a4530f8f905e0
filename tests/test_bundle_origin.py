"""`verify --dossier` on a dossier made by another workspace says so in one line, instead of a
« l'empreinte du dépôt diffère » line for each of its files as if they had been tampered with."""

from __future__ import annotations

import json

from dossier_builder.build import build_dossier
from evidence.workspace import init_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures, sample_png


def test_a_dossier_from_another_workspace(tmp_path, cli):
    made_by, _ = init_workspace(tmp_path / "cabinet")
    try:
        record_sample_captures(made_by, add_sample_case(made_by), 6, screenshot=sample_png())
        result = build_dossier(made_by, "Dupont", tmp_path / "pieces", workers=1)
    finally:
        made_by.close()
    other, _ = init_workspace(tmp_path / "autre")
    try:
        record_sample_captures(other, add_sample_case(other), 6)  # same numbers, other files
    finally:
        other.close()
    head = json.loads(result.manifest.read_text(encoding="utf-8"))["journal_head"]
    checked = cli("verify", "--dossier", str(tmp_path / "pieces"), home=tmp_path / "autre")
    assert checked.code == 1
    found, verdict = checked.out.splitlines()
    assert found == (
        f"dossier d'un autre espace de travail (tête du journal n° 9 : {head['hash']}) : ses fichiers "
        "d'origine et son journal se vérifient avec l'espace de travail qui l'a produit"
    )
    assert verdict.startswith("1 PROBLÈME(S) — dossier ")
    assert cli("verify", "--dossier", str(tmp_path / "pieces"), home=tmp_path / "cabinet").code == 0
    # --json: the problems have the shape `verify --json` gives the workspace's (item, detail, file).
    as_json = json.loads(cli("verify", "--dossier", str(tmp_path / "pieces"), "--json", home=tmp_path / "autre").out)
    assert as_json["problems"] == [{
        "item": f"dossier d'un autre espace de travail (tête du journal n° 9 : {head['hash']})",
        "detail": "ses fichiers d'origine et son journal se vérifient avec l'espace de travail qui l'a produit",
        "file": None,
    }]
    (tmp_path / "pieces" / "PJ1_Note_de_synthese.pdf").unlink()
    missing = json.loads(cli("verify", "--dossier", str(tmp_path / "pieces"), "--json", home=tmp_path / "cabinet").out)
    assert {"item": "PJ1_Note_de_synthese.pdf", "detail": "fichier absent", "file": None} in missing["problems"]
