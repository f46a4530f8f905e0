"""How the server finds the handler of a request: each platform module exposes a tuple of routes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from simsite.requestlog import LoggedRequest
from simsite.response import Response

Handler = Callable[[LoggedRequest, str, Mapping[str, str]], Response]
"""(request, mode at arrival, named groups of the matched path) -> response."""


class Route(NamedTuple):
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile(pattern), handler)


def find(routes: tuple[Route, ...], method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for candidate in routes:
        if candidate.method == method:
            match = candidate.pattern.fullmatch(path)
            if match:
                return candidate.handler, match.groupdict()
    return None
