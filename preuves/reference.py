"""The command-line reference in docs/cli.md, generated from the commands' own help.

`python -m preuves.reference > docs/cli.md` rewrites it; a test checks it is current, so the
documentation never drifts from the code.
"""

from __future__ import annotations

from typing import Any

import typer.main

from preuves.cli import app


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every command under `command`, depth first (groups have `list_commands`)."""
    found = [(path, command)]
    if hasattr(command, "list_commands"):
        context = command.context_class(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


WIDTH = 100  # fixed, so the file does not depend on the terminal that generated it


def render_reference() -> str:
    root = typer.main.get_command(app)
    lines = ["# Référence de la ligne de commande", "", "Généré par `python -m preuves.reference`.", ""]
    for path, command in _walk(root, ["preuves"]):
        context = command.context_class(
            command, info_name=" ".join(path), terminal_width=WIDTH, max_content_width=WIDTH
        )
        lines += [f"## `{' '.join(path)}`", "", "```", command.get_help(context).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_reference(), end="")
