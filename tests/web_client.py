"""A plain HTTP client for the dashboard's security tests: raw requests on 127.0.0.x, any Host
header, its own cookie jar (no browser between the test and the server)."""

from __future__ import annotations

import http.client
import re
import ssl
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


@dataclass
class Client:
    """One visitor: `source` is the client address (any of 127.0.0.0/8), `host` the Host header."""

    base: str
    source: str = "127.0.0.1"
    host: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 30
    tls: ssl.SSLContext | None = None  # for an https:// base

    def _connect(self) -> http.client.HTTPConnection:
        address = urlsplit(self.base)
        if address.scheme == "https":
            return http.client.HTTPSConnection(
                address.hostname or "", address.port, timeout=self.timeout_s, source_address=(self.source, 0),
                context=self.tls,
            )
        return http.client.HTTPConnection(
            address.hostname or "", address.port, timeout=self.timeout_s, source_address=(self.source, 0)
        )

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        connection = self._connect()
        sent = {"Host": self.host or urlsplit(self.base).netloc, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        finally:
            connection.close()
        for line in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        body = urlencode(form).encode()
        return self.request(
            "POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        )

    def post_files(self, path: str, form: dict[str, str], files: dict[str, tuple[str, bytes]]) -> Reply:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in form.items()
        ]
        for name, (filename, data) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def token(self, path: str = "/") -> str:
        """The CSRF token of the form on `path`."""
        found = CSRF.search(self.get(path).text)
        assert found, f"no form on {path}"
        return found.group(1)

    def login(self, username: str, password: str, next_path: str | None = None) -> Reply:
        target = "/connexion" + (f"?{urlencode({'next': next_path})}" if next_path else "")
        token = self.token(target)
        return self.post(target, {"csrf_token": token, "username": username, "password": password})
