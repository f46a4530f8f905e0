"""Where the CLI writes: results on stdout, messages and errors on stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    """JSON for scripts: UTF-8, stable key order, straight to stdout."""
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
