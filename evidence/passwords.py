"""The password rule of dashboard accounts: long enough, not trivial, not one of the most common.

Length alone lets « aaaaaaaaaaaa » or « motdepasse2024 » through; the list of common passwords
(`data/common-passwords.txt.gz`, see `data/README.md` for its source and licence) is checked
against the password as typed, lower-cased, and without the digits and signs people add around a
word. The reasons are French lines for the person choosing the password.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from evidence.errors import BadInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
DECORATIONS = "0123456789 !?.,;:-_*#@$%&+=/\\'\"()[]{}<>~^`|"


@cache
def common_passwords() -> frozenset[str]:
    """Read once, on the first password set (about 20,000 short lines)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is refused (one French line), or None if it may be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"{MIN_PASSWORD_LENGTH} caractères au moins"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"{MAX_PASSWORD_LENGTH} caractères au plus"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"trop répétitif ({MIN_DISTINCT_CHARACTERS} caractères différents au moins)"
    lowered = password.lower().strip()
    if username and username.lower() in lowered:
        return "il contient l'identifiant"
    core = lowered.strip(DECORATIONS)
    common = common_passwords()
    if lowered in common or core in common or _repeats_one_of(core, common):
        return "c'est un des mots de passe les plus courants : choisissez une phrase de plusieurs mots"
    return None


def _repeats_one_of(text: str, common: frozenset[str]) -> bool:
    """« motdepassemotdepasse »: a common password said twice or more."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size] in common
    return False


def validate_password(password: str, username: str | None = None) -> str:
    problem = password_problem(password, username)
    if problem is not None:
        raise BadInput(f"mot de passe refusé : {problem}")
    return password
