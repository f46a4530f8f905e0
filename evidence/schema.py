"""Schema versions, run through Alembic with the migrations shipped in the `migrations` package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import migrations
from evidence.errors import WorkspaceError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

# Alembic takes a tenth of a second to import and reads every migration: a workspace already at the newest
# schema is recognised without it (its version table read with SQL, the newest revision from the files' own
# lines), and Alembic is loaded only to migrate, refuse or answer what these do not settle.
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r'^revision = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision = (?:"([^"]+)"|None)$', re.MULTILINE)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text  # imported here: shipped_head is read without SQLAlchemy (quick_read.py)

    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = list(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))
        if len(versions) <= 1:
            return versions[0] if versions else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()  # says what is wrong with it


def shipped_head() -> str | None:
    """The newest revision among the shipped migrations, from their `revision` and `down_revision` lines; None
    when a file does not state them in that plain form or the history branches (Alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        revision, down_revision = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down_revision is None:
            return None
        revisions.add(revision[1])
        if down_revision[1] is not None:
            parents.add(down_revision[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def head_revision(engine: Engine) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations package has no revision"
    return head


def known_revisions(engine: Engine) -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> str | None:
    """Bring an older schema up to date; refuse one made by a newer version of the tool.

    Returns the revision migrated from, or None when nothing had to be done.
    """
    current = current_revision(engine)
    if current is None:
        raise WorkspaceError("base de données non initialisée : lancez « preuves init »")
    if current == shipped_head():
        return None
    if current not in known_revisions(engine):
        raise WorkspaceError(
            f"cet espace de travail a été créé par une version plus récente de Preuves RDV "
            f"(schéma {current}) : mettez l'outil à jour avant de l'utiliser"
        )
    if current == head_revision(engine):
        return None
    upgrade(engine)
    return current
