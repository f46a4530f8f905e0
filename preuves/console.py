"""Where the CLI writes: results on stdout, messages and errors on stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

# markup=False: text from users and web pages (case labels, file names, « [letters] ») is printed
# as it is, never read as Rich markup; styles are given with `style=`.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def print_json(value: Any) -> None:
    """JSON for scripts: UTF-8, stable key order, straight to stdout."""
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
