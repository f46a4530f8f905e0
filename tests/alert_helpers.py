"""Real local alert channels for the tests: an SMTP server (aiosmtpd) and a JSON webhook, named by Apprise URLs."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Channels:
    """What the two channels received, and the Apprise URLs that reach them."""

    urls: tuple[str, ...] = ()
    mails: list[bytes] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)

    def mail(self, index: int = 0) -> Message:
        return message_from_bytes(self.mails[index])

    def mail_text(self, index: int = 0) -> str:
        part = next(p for p in self.mail(index).walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()


class _Mailbox:
    def __init__(self, received: list[bytes]) -> None:
        self.received = received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append(envelope.content)
        return "250 OK"


@contextmanager
def alert_channels() -> Iterator[Channels]:
    channels = Channels()

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            channels.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    smtp_port = free_port()
    smtp = Controller(_Mailbox(channels.mails), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    channels.urls = (
        f"mailto://127.0.0.1:{smtp_port}?from=preuves@example.org&to=avocat@example.org&mode=insecure",
        f"json://127.0.0.1:{hook.server_address[1]}/alerte",
    )
    try:
        yield channels
    finally:
        smtp.stop()
        hook.shutdown()
        hook.server_close()
