"""The public timestamp authorities a new workspace anchors its journal with, and their roots.

First an eIDAS-qualified authority that serves free requests (a qualified timestamp is presumed
accurate, eIDAS art. 41 §2), then a fallback, asked only when it does not answer. Their root
certificates ship with the tool (`tsa_roots/`, sources and fingerprints in its README.md) and
are copied into the workspace, where `preuves.toml` names them: the workspace then holds all a
check needs, and the user can read or replace them.

A demonstration workspace gets the section commented out: its evidence has no value, and the
demonstration never leaves the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ROOTS_FOLDER = "racines-horodatage"


@dataclass(frozen=True)
class PublicAuthority:
    name: str
    url: str
    roots: str  # file of evidence/tsa_roots/
    fingerprints: tuple[str, ...]  # SHA-256 of each root certificate (DER), as published
    fallback: bool
    comment: str  # shown above its entry in preuves.toml


SHIPPED_AUTHORITIES = (
    PublicAuthority(
        name="Sectigo (qualifié eIDAS)",
        url="http://timestamp.sectigo.com/qualified",
        roots="sectigo-qualified-root-r45.pem",
        fingerprints=("f871f8976b4068d700d5f281084b4a29eaf4b8f35743330ba062fab46f58c2ed",),
        fallback=False,
        comment="Horodatage qualifié eIDAS (liste de confiance de l'UE), gratuit, sans compte.",
    ),
    PublicAuthority(
        name="DigiCert",
        url="http://timestamp.digicert.com",
        roots="digicert-roots.pem",
        fingerprints=(
            "552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988",
            "3e9099b5015e8f486c00bcea9d111ee721faba355a89bcf1df69561e3dc6325c",
        ),
        fallback=True,
        comment="Secours, interrogé seulement si la précédente ne répond pas : horodatage non qualifié, gratuit.",
    ),
)
# What `preuves init` writes. The test suite empties it (tests/conftest.py): no test may contact
# a public authority.
PUBLIC_AUTHORITIES: tuple[PublicAuthority, ...] = SHIPPED_AUTHORITIES

_HEADER = """
[anchors]
# Autorités d'horodatage (RFC 3161) qui datent l'état du journal chaque jour et avant chaque dossier :
# seule la racine de Merkle du journal (32 octets) et un nombre aléatoire leur sont envoyés, jamais le
# contenu des captures. Une autorité « fallback = true » n'est interrogée que si celles qui la précèdent
# n'ont pas répondu. Pour ne plus horodater : « tsa = [] ». Voir docs/verify-by-hand.md.
"""


def root_file(authority: PublicAuthority) -> Path:
    """The shipped roots of `authority`."""
    return Path(str(resources.files("evidence") / "tsa_roots" / authority.roots))


def anchors_section(home: Path, *, demo: bool) -> str:
    """The [anchors] section of a new preuves.toml; outside a demonstration, the public authorities'
    roots are copied into `home`/racines-horodatage/ (owner-only, like the rest of the workspace)."""
    entries = [
        f"  # {authority.comment}\n"
        f'  {{ name = "{authority.name}", url = "{authority.url}", '
        f'ca_file = "{ROOTS_FOLDER}/{authority.roots}"{", fallback = true" if authority.fallback else ""} }},'
        for authority in PUBLIC_AUTHORITIES
    ]
    if demo or not entries:
        commented = "\n".join("# " + line for entry in entries for line in entry.splitlines())
        return _HEADER + "# tsa = [\n" + (commented + "\n" if commented else "") + "# ]\n# timeout_seconds = 20\n"
    folder = home / ROOTS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    for authority in PUBLIC_AUTHORITIES:
        target = folder / authority.roots
        target.write_bytes(root_file(authority).read_bytes())
        target.chmod(0o600)
    return _HEADER + "tsa = [\n" + "\n".join(entries) + "\n]\n# Délai d'attente d'une réponse, en secondes.\n# timeout_seconds = 20\n"
