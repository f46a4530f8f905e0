"""The documents `preuves letter draft` writes, by the name its --kind option takes (apart from
`dossier_builder.drafts` so that the command line lists them without loading the PDF code)."""

from __future__ import annotations

DRAFT_KINDS = {
    "demande-rdv": "Demande de rendez-vous",
    "relance": "Relance de la demande de rendez-vous",
    "defenseur-des-droits": "Réclamation au Défenseur des droits",
    "requete-refere": "Projet de requête en référé mesures utiles",
}
