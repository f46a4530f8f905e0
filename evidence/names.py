"""What the command line names before it opens a workspace: the environment variable that points at one, and
the kinds its options offer. Kept apart from the modules that use them so that `preuves --help` loads no
database code."""

from __future__ import annotations

HOME_ENV = "PREUVES_HOME"

# The journal entry of a purge (see purge.py), which `status` also reads without the database code.
PURGE_KIND = "case.purged"

# What `event add --kind` accepts, and how documents name each kind.
EVENT_KINDS = {
    "appel": "appel téléphonique à la préfecture",
    "guichet": "passage au guichet de la préfecture",
    "defenseur-des-droits": "saisine du Défenseur des droits",
}

# The kinds of pièce, in the order a lawyer files them (see dossier_builder/pieces.py BUNDLE_ORDER), and the
# French name of each.
PIECE_KINDS = {
    "titre-de-sejour": "titre de séjour",
    "recepisse": "récépissé",
    "identite": "pièce d'identité",
    "domicile": "justificatif de domicile",
    "situation": "situation personnelle ou professionnelle",
    "autre": "autre pièce",
}
