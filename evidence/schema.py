"""Schema versions, run through Alembic with the migrations shipped in the `migrations` package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from evidence.errors import WorkspaceError


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations package has no revision"
    return head


def known_revisions(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> str | None:
    """Bring an older schema up to date; refuse one made by a newer version of the tool.

    Returns the revision migrated from, or None when nothing had to be done.
    """
    current = current_revision(engine)
    if current is None:
        raise WorkspaceError("base de données non initialisée : lancez « preuves init »")
    if current not in known_revisions(engine):
        raise WorkspaceError(
            f"cet espace de travail a été créé par une version plus récente de Preuves RDV "
            f"(schéma {current}) : mettez l'outil à jour avant de l'utiliser"
        )
    if current == head_revision(engine):
        return None
    upgrade(engine)
    return current
