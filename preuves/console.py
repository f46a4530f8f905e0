"""Where the CLI writes: results on stdout, messages and errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from rich.console import Console

# markup=False: text from users and web pages (case labels, file names, « [letters] ») is printed
# as it is, never read as Rich markup; styles are given with `style=`.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def print_json(value: Any) -> None:
    """JSON for scripts: UTF-8, stable key order, straight to stdout."""
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def ask(question: str, default: str | None = None) -> str:
    """« Question [défaut] : » on stderr, the answer read from stdin; Enter gives `default` (or "").
    Click's prompt writes the space after its question to stdout, where only results belong."""
    err.print(f"{question}{f' [{default}]' if default else ''} : ", end="")
    line = sys.stdin.readline()
    if not line:  # end of input (Ctrl-D): nothing more will be answered
        raise typer.Abort()
    answer = line.rstrip("\r\n")
    return answer if answer.strip() or default is None else default
