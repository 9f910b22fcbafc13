"""A real SMTP server (aiosmtpd) and HTTP receiver on 127.0.0.1 that keep what the alerts send."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


class AlertReceivers:
    def __init__(self) -> None:
        self.mails: list[Message] = []
        self.webhooks: list[dict] = []
        self.smtp_port = 0
        self.http_port = 0

    def configure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point the project's alert settings at these receivers for one test."""
        monkeypatch.setenv("SCO_GREEN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SCO_GREEN_SMTP_PORT", str(self.smtp_port))
        monkeypatch.setenv("SCO_GREEN_ALERT_EMAIL_TO", "data-team@example.org, auditor@example.org")
        monkeypatch.setenv("SCO_GREEN_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{self.http_port}/hook")


class _Mailbox:
    def __init__(self, receivers: AlertReceivers) -> None:
        self.receivers = receivers

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's name
        self.receivers.mails.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def alert_receivers() -> Iterator[AlertReceivers]:
    receivers = AlertReceivers()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        receivers.smtp_port = probe.getsockname()[1]
    controller = Controller(_Mailbox(receivers), hostname="127.0.0.1", port=receivers.smtp_port)
    controller.start()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receivers.webhooks.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    receivers.http_port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield receivers
    finally:
        http.shutdown()
        controller.stop()
