"""The workspace: a folder holding `preuves.toml`, the SQLite database, `blobs/` and
`journal.jsonl` (the journal's second copy, see `journal_copy.py`).

Everything created here is owner-only (0700 folders, 0600 files): the workspace holds personal
data of vulnerable people. `PREUVES_DATABASE_URL` points the database elsewhere (PostgreSQL for
multi-user set-ups); the blobs, the journal's copy and the configuration stay in the folder.

A workspace that cannot be written (read-only media) is opened read-only by the commands that only
read; one whose database is gone while its journal's copy or its files remain is never silently
started afresh: `preuves repair` rebuilds it.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from evidence import journal, schema, sealed_column, tsa_defaults
from evidence.blobs import BlobStore, plain_reason, workspace_vanished
from evidence.clock import Clock, SystemClock
from evidence.database import make_engine, make_session_factory, read_session, require_reachable, write_session
from evidence.errors import EvidenceDamaged, PreuvesError, WorkspaceError
from evidence.integrity import damage_reason
from evidence.journal_copy import COPY_NAME, JournalCopyWriter
from evidence.models import JournalEntry
from evidence.sealing import KEYS_DIR, KeyStore
from evidence.workspace_paths import CONFIG_NAME, DATABASE_NAME, database_url, resolve_home, sqlite_file

EXPORTS_DIR = "exports"  # dossiers built by the dashboard, waiting to be downloaded (preuves/web/exports.py)

DEFAULT_CONFIG = """\
# Espace de travail Preuves RDV. Les valeurs commentées sont les valeurs par défaut.

[capture]
# Délai minimal entre deux tentatives sur un même site, en minutes (jamais moins de 2).
# min_interval_minutes = 10
# Durée maximale d'une tentative, en secondes.
# attempt_timeout_seconds = 90
# Pause après un refus du site (blocage ou trop de requêtes selon Cloudflare), en minutes ; doublée à
# chaque refus de suite (au plus 24 h), jamais plus court que le délai minimal.
# block_pause_minutes = 30
# Chemin d'un Chromium précis (sinon : celui de Playwright, puis /usr/lib/chromium/chromium).
# chromium_path = ""

[watch]
# Sites différents surveillés en parallèle.
# max_parallel_hosts = 4
# Une tentative en retard de plus que ce délai (minutes) est notée « manquée ».
# grace_minutes = 30
# Relecture des plans, en secondes : nouveaux plans, tentatives laissées par une surveillance arrêtée.
# poll_seconds = 60
# Tentatives accompagnées (captcha à résoudre) : temps laissé pour commencer après l'heure prévue, en minutes.
# accompanied_window_minutes = 60

[alerts]
# Adresses Apprise à prévenir quand des créneaux apparaissent (ou quand un site refuse l'outil), par exemple
# urls = ["mailto://utilisateur:motdepasse@exemple.fr", "ntfy://mon-sujet"]
# urls = []
# Notification sur le bureau de cet ordinateur (notify-send), quand il y en a un.
# desktop = true
# Adresse du tableau de bord citée dans les rappels (sinon : celle de « preuves serve » qui surveille).
# dashboard_url = "http://127.0.0.1:8000"

[letters]
# Taille maximale d'un courrier ou d'une preuve importés, en Mo.
# max_file_mb = 50

[web]
# Tableau de bord (« preuves serve ») : voir docs/security.md.
# Adresse publique quand un proxy inverse HTTPS le sert (les cookies deviennent « Secure »).
# public_url = "https://preuves.mon-association.fr"
# Adresse du proxy inverse devant le serveur : seuls ses en-têtes X-Forwarded-For et -Proto sont crus.
# trusted_proxy = "127.0.0.1"
# Accepter dans le formulaire « Nouveau dossier » des pages hors des domaines officiels (démonstration, tests).
# allow_any_domain = false
"""  # then the [anchors] section of `tsa_defaults.anchors_section`


def tool_version() -> str:
    try:
        return version("preuves-rdv")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class Workspace:
    home: Path
    database_url: str
    config: dict[str, Any]
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    demo: bool
    clock: Clock = field(default_factory=SystemClock)
    migrated_from: str | None = None
    writable: bool = True

    @property
    def journal_copy(self) -> Path:
        return self.home / COPY_NAME

    @property
    def keys(self) -> KeyStore:
        """The keys of the cases' sealed text (see sealing.py)."""
        return KeyStore(self.home / KEYS_DIR)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: all of it is kept, or none of it."""
        with write_session(self.sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction: every query in it sees the database as it was at the first one."""
        with read_session(self.sessions) as session:
            yield session

    def use_clock(self, clock: Clock) -> None:
        """Only a demo workspace may run on another clock than the system's."""
        if not self.demo and not isinstance(clock, SystemClock):
            raise WorkspaceError(
                "horloge simulée refusée : seul un espace de démonstration peut en utiliser une"
            )
        self.clock = clock

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        if not isinstance(value, dict):
            raise WorkspaceError(f"{CONFIG_NAME} : la section [{name}] est mal formée")
        return value

    def close(self) -> None:
        self.engine.dispose()


def other_files(home: str | Path | None) -> list[str]:
    """What the folder chosen for a new workspace already holds of its own (none of a workspace's
    files): `init` asks before making such a folder owner-only (0700) and filling it."""
    root = resolve_home(home)
    if not root.is_dir() or any((root / name).exists() for name in (CONFIG_NAME, DATABASE_NAME, "blobs", COPY_NAME)):
        return []
    return sorted(path.name for path in root.iterdir())


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _touch_private(path: Path, content: str | None = None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if content:
            handle.write(content)


def _read_config(home: Path) -> dict[str, Any]:
    path = home / CONFIG_NAME
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path} : fichier de configuration invalide ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path} : fichier de configuration invalide (pas en UTF-8)") from exc
    except OSError as exc:
        raise WorkspaceError(f"{path} : lecture impossible ({plain_reason(exc)})") from exc


def _workspace_is_demo(sessions: sessionmaker[Session]) -> bool:
    """The demo flag is read from the journal's first entry, not from an editable file."""
    with sessions() as session:
        first = session.get(JournalEntry, 1)
        if first is None or first.kind != "workspace.created":
            return False
        return bool(json.loads(first.payload)["data"].get("demo", False))


def stored_files(blobs: BlobStore) -> int:
    """How many evidence files the folder holds (leftover temporary files aside)."""
    return sum(1 for relpath in blobs.iter_relpaths() if "/.tmp-" not in relpath)


def _refuse_a_lost_journal(root: Path, database: str) -> None:
    """A folder whose database is gone (or empty) while the journal's copy remains is a lost
    database, not a new workspace: starting afresh would hide it."""
    copy = root / COPY_NAME
    if copy.is_file() and copy.stat().st_size:
        raise EvidenceDamaged(
            f"{database} a disparu ou est vide, mais la copie du journal ({copy}) est là : "
            "« preuves repair » reconstruit la base à partir d'elle et des fichiers"
        )


def _guard_commits(sessions: sessionmaker[Session], home: Path, database: Path | None) -> None:
    """Refuse a commit once the workspace folder, or the database file opened, is gone: a SQLite
    connection keeps writing into a deleted file, and the blob store would re-create its folder,
    so the record would be lost while the command says it was kept."""
    opened = _file_identity(database) if database is not None else None

    def still_there(session: Session) -> None:
        if not (home / CONFIG_NAME).is_file():
            raise workspace_vanished(home)
        if database is not None and _file_identity(database) != opened:
            raise EvidenceDamaged(
                f"la base de données {database} a été supprimée ou remplacée pendant l'écriture : "
                "rien n'a été enregistré (« preuves verify » dit ce qu'il en est)"
            )

    event.listen(sessions, "before_commit", still_there)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _sessions(engine: Engine, home: Path, url: str, writable: bool) -> sessionmaker[Session]:
    sealed_column.attach(engine, KeyStore(home / KEYS_DIR))
    sessions = make_session_factory(engine)
    if writable:
        _guard_commits(sessions, home, sqlite_file(home, url))
        copy = JournalCopyWriter(home / COPY_NAME)
        copy.attach(sessions)
        with sessions() as session:
            copy.confirm_tail(session)
    return sessions


@contextmanager
def _closed_on_failure(engine: Engine, database_file: Path | None) -> Iterator[None]:
    """Release the engine if opening fails; a database that cannot even be read is said damaged,
    a PostgreSQL server that does not answer is said so first."""
    try:
        if database_file is None:
            require_reachable(engine)
        yield
    except DatabaseError as exc:
        engine.dispose()
        raise EvidenceDamaged(
            f"base de données endommagée ({database_file or 'PostgreSQL'} : {damage_reason(exc)}) : "
            "« preuves repair » la reconstruit à partir de la copie du journal et des fichiers"
        ) from exc
    except BaseException:
        engine.dispose()
        raise


def init_workspace(home: str | Path | None = None, *, demo: bool = False) -> tuple[Workspace, bool]:
    """Create (or re-open) a workspace and bring its schema to the newest version.

    Returns the workspace and whether it was newly created. Idempotent. A folder that already
    holds evidence files without a database says so in the new journal's first entry, which
    `verify` reports: the journal of those files is lost.
    """
    root = resolve_home(home)
    url = database_url(root)
    database_file = sqlite_file(root, url)
    if database_file is not None and not database_file.exists():
        _refuse_a_lost_journal(root, str(database_file))
    try:
        _make_private_dir(root)
        _make_private_dir(root / "blobs")
        if not (root / CONFIG_NAME).exists():
            _touch_private(root / CONFIG_NAME, DEFAULT_CONFIG + tsa_defaults.anchors_section(root, demo=demo))
        if database_file is not None and not database_file.exists():
            _touch_private(database_file)
    except OSError as exc:
        raise WorkspaceError(f"impossible de créer l'espace de travail {root} : {plain_reason(exc)}") from exc
    engine = make_engine(url)
    with _closed_on_failure(engine, database_file):
        if schema.current_revision(engine) is None:
            _refuse_a_lost_journal(root, "la base de données")
            schema.upgrade(engine)
        else:
            schema.ensure_current(engine)
    sessions = _sessions(engine, root, url, writable=True)
    blobs = BlobStore(root)
    created = False
    with write_session(sessions) as session:
        if journal.head(session).seq == 0:
            facts: dict[str, Any] = {
                "demo": demo,
                "tool_version": tool_version(),
                "schema": schema.head_revision(engine),
                "journal_copy": COPY_NAME,
            }
            files_before = stored_files(blobs)
            if files_before:
                facts["files_before"] = files_before
            journal.append(session, "workspace.created", facts, SystemClock().now())
            created = True
    workspace = Workspace(
        home=root,
        database_url=url,
        config=_read_config(root),
        engine=engine,
        sessions=sessions,
        blobs=blobs,
        demo=_workspace_is_demo(sessions),
    )
    if not created and demo != workspace.demo:
        workspace.close()
        kind = "de démonstration" if workspace.demo else "réel"
        raise WorkspaceError(f"{root} est déjà un espace de travail {kind}")
    return workspace, created


def _can_write(root: Path, database_file: Path | None) -> bool:
    if not os.access(root, os.W_OK):
        return False
    return database_file is None or not database_file.exists() or os.access(database_file, os.W_OK)


def _missing_database(root: Path, database_file: Path) -> PreuvesError:
    _refuse_a_lost_journal(root, str(database_file))
    files = stored_files(BlobStore(root))
    if files:
        return EvidenceDamaged(
            f"la base de données {database_file} a disparu, sans copie du journal : les {files} fichier(s) "
            "de preuve du dossier blobs/ n'ont plus de journal (restaurez la base depuis une sauvegarde)"
        )
    return WorkspaceError(f"base de données absente ({database_file}) : lancez « preuves init »")


def open_workspace(home: str | Path | None = None, *, read_only: bool = False) -> Workspace:
    """Open an existing workspace, migrating an older schema; refuse a newer one.

    With `read_only` (a command that only reads), a workspace that cannot be written is opened
    without writing anything there; otherwise such a workspace is refused.
    """
    root = resolve_home(home)
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(
            f"aucun espace de travail dans {root} : lancez « preuves init --home {root} »"
        )
    config = _read_config(root)
    url = database_url(root)
    database_file = sqlite_file(root, url)
    if database_file is not None and not database_file.is_file():
        raise _missing_database(root, database_file)
    writable = _can_write(root, database_file)
    if not writable and not read_only:
        raise WorkspaceError(f"l'espace de travail {root} est en lecture seule : cette commande doit y écrire")
    if not writable and database_file is not None:
        _require_shared_memory_file(database_file)
    engine = make_engine(url, read_only=not writable)
    with _closed_on_failure(engine, database_file):
        if schema.current_revision(engine) is None:
            _refuse_a_lost_journal(root, str(database_file or "la base de données"))
        migrated_from = schema.ensure_current(engine) if writable else _require_current(engine)
        sessions = _sessions(engine, root, url, writable)
        demo = _workspace_is_demo(sessions)
    return Workspace(
        home=root,
        database_url=url,
        config=config,
        engine=engine,
        sessions=sessions,
        blobs=BlobStore(root),
        demo=demo,
        migrated_from=migrated_from,
        writable=writable,
    )


def _require_shared_memory_file(database_file: Path) -> None:
    """A read-only copy taken while a process was writing holds its last records in the write-ahead
    log (`-wal`), which SQLite reads only with its index (`-shm`) and cannot rebuild on read-only media."""
    wal, shm = (database_file.with_name(database_file.name + suffix) for suffix in ("-wal", "-shm"))
    if wal.is_file() and wal.stat().st_size and not shm.is_file():
        raise WorkspaceError(
            f"{wal.name} a été copié sans {shm.name} : en lecture seule, ses derniers enregistrements ne "
            "peuvent être lus ; copiez l'espace de travail sur un support inscriptible"
        )


def _require_current(engine: Engine) -> None:
    """A read-only workspace cannot be migrated: it must already be at the newest schema."""
    current = schema.current_revision(engine)
    if current is not None and current != schema.shipped_head() and current != schema.head_revision(engine):
        if current not in schema.known_revisions(engine):
            schema.ensure_current(engine)  # says "made by a newer version"
        raise WorkspaceError(
            "cet espace de travail en lecture seule a été créé par une version antérieure de Preuves RDV : "
            "copiez-le sur un support inscriptible pour le mettre à jour"
        )
    if current is None:
        schema.ensure_current(engine)  # says "not initialised"
