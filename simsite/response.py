"""The value every page handler of the simulated site returns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()


def html(markup: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, markup.encode("utf-8"), HTML, headers)


def redirect(location: str) -> Response:
    """A 302 to a path of this site (the booking module answers each POST this way)."""
    return Response(302, b"", HTML, (("Location", location),))


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8")


def png(data: bytes) -> Response:
    return Response(200, data, "image/png")
