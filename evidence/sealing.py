"""Sealed personal text: what a purge can really erase (crypto-shredding).

The journal never forgets, so the personal text it must hold (a case's label and notes, a letter's subject,
sender and recipient, file names, a pièce's label, an event's outcome) is written sealed: AES-256-GCM under a
key of the case's own, kept outside the database and its journal, in `keys/` in the workspace folder (one
file per key, 32 random bytes, mode 0600, folder 0700). Rows, journal entries and the journal's copy hold only
the sealed form, `sealed1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, so every hash is computed, and
checked by `verify`, over the ciphertext. Destroying the key (a purge) leaves the evidence intact and its text
unreadable: it reads « effacé » everywhere.

On the Python side a sealed column gives a `SealedText`: a `str` equal to the text shown (the clear text, or
ERASED when the key is gone) that also carries its stored form; `stored()` gives back what the row and the
journal hold. The `KeyStore` reads keys file by file and uncached: a key destroyed by another process (a purge
from the command line while the dashboard runs) is gone for this one at once. The column type that opens
sealed values as rows are read is in sealed_column.py; this module does without SQLAlchemy, so that a command
reading the database with the standard library alone (quick_read.py) opens them too.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from evidence.blobs import fsync_dir

PREFIX = "sealed1:"
KEYS_DIR = "keys"
ERASED = "effacé"
UNREADABLE = "illisible"  # sealed text changed outside the tool: its tag no longer matches (verify says where)
KEY_BYTES = 32
NONCE_BYTES = 12


class SealedText(str):
    """A sealed value as read: equal to the text shown, with the stored form beside it."""

    stored: str
    erased: bool

    def __new__(cls, shown: str, stored: str, *, erased: bool = False) -> SealedText:
        value = super().__new__(cls, shown)
        value.stored = stored
        value.erased = erased
        return value

    def __getnewargs_ex__(self) -> tuple[tuple[str, str], dict[str, bool]]:
        """Copied (`dataclasses.asdict` deep-copies) and pickled whole."""
        return (str(self), self.stored), {"erased": self.erased}


def stored(value: Any) -> Any:
    """What a row and the journal hold for `value`: the sealed form of a SealedText, any other value as is."""
    return value.stored if isinstance(value, SealedText) else value


def is_sealed(value: Any) -> bool:
    return key_id_of(stored(value)) is not None


def key_id_of(value: Any) -> str | None:
    """The id of the key a stored value is sealed with; None for a clear value."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    return value[len(PREFIX) :].partition(":")[0]


class KeyStore:
    """The case keys of one workspace: files in `keys/`, written durably before any row sealed with them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key_id: str) -> Path:
        if not key_id.isalnum():
            raise ValueError(f"invalid key id {key_id!r}")
        return self.folder / f"{key_id}.key"

    def create(self) -> str:
        """A new key, on disk and fsynced; returns its id."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        key_id = secrets.token_hex(8)
        path = self.path(key_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, AESGCM.generate_key(bit_length=KEY_BYTES * 8))
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.folder)
        return key_id

    def key(self, key_id: str) -> bytes | None:
        """The key, or None when it was destroyed (or lost: `verify` tells which)."""
        try:
            data = self.path(key_id).read_bytes()
        except FileNotFoundError:
            return None
        return data if len(data) == KEY_BYTES else None

    def exists(self, key_id: str) -> bool:
        return self.key(key_id) is not None

    def destroy(self, key_id: str) -> bool:
        """Overwrite the key with zeros, then remove it; False when it was already gone.

        The overwrite reaches the file's blocks on an ordinary filesystem; on a copy-on-write one (btrfs, ZFS)
        or an SSD's remapped cells it may not: docs/security.md says so.
        """
        path = self.path(key_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return False
        try:
            os.write(fd, bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        fsync_dir(self.folder)
        return True

    def seal(self, key_id: str, text: str | None) -> SealedText | None:
        if text is None:
            return None
        key = self.key(key_id)
        if key is None:
            raise ValueError(f"key {key_id} is gone: nothing new can be sealed with it")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), key_id.encode("ascii"))
        token = PREFIX + key_id + ":" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return SealedText(text, token)

    def reveal(self, value: str) -> SealedText:
        key_id = key_id_of(value) or ""
        key = self.key(key_id) if key_id.isalnum() else None
        if key is None:
            return SealedText(ERASED, value, erased=True)
        try:
            raw = base64.urlsafe_b64decode(value.rpartition(":")[2])
            text = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode("ascii"))
        except (InvalidTag, ValueError):
            return SealedText(UNREADABLE, value, erased=True)
        return SealedText(text.decode("utf-8"), value)

    def shown(self, value: str | None) -> str | None:
        """A column's value as shown: None, clear text (or whatever was written behind the tool's back: verify
        says it) as is, sealed text opened."""
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        return self.reveal(value)
