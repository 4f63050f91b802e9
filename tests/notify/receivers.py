"""Real receivers on 127.0.0.1 for the notification tests: an HTTP server in a thread that records every request
and answers from a script, a fake of Twilio's REST API in its wire format, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from tests.smoke.test_serve import _free_port

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-test-auth-token-0123456789"
TWILIO_FROM = "+15005550006"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


Answer = tuple[int, dict[str, str], bytes]
Responder = Callable[[Received], Answer]


def text(status: int, body: str = "ok", **headers: str) -> Answer:
    return status, {"Content-Type": "text/plain", **headers}, body.encode()


def as_json(status: int, document: Any, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(document).encode()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up early (the size-cap and timeout tests do) is not an error worth printing."""


class Receiver:
    """An HTTP server on 127.0.0.1. Each request is recorded; the answer comes from ``script`` (a queue of
    answers, used first) or ``respond`` (default: 200 ok)."""

    def __init__(self, respond: Responder | None = None) -> None:
        self.respond: Responder = respond or (lambda _r: text(200))
        self.script: list[Answer] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, headers, payload = receiver._answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _answer(self, request: Received) -> Answer:
        with self._lock:
            self.requests.append(request)
            scripted = self.script.pop(0) if self.script else None
        return scripted or self.respond(request)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


class FakeTwilio(Receiver):
    """Twilio's REST API as Warroom uses it: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (To, From or
    MessagingServiceSid, Body) and ``.../Calls.json`` (To, From, Twiml or Url), form-encoded, HTTP basic auth.
    201 with the resource as JSON; errors as ``{"code", "message", "more_info", "status"}``. ``errors`` is a
    queue of (http status, twilio code) to answer with first."""

    def __init__(self) -> None:
        super().__init__(self._twilio)
        self.errors: list[tuple[int, int]] = []

    @property
    def sent(self) -> list[dict[str, str]]:
        """The form of every accepted request."""
        return [r.form() for r in self.requests if r.headers.get("x-accepted") == "1"]

    @staticmethod
    def error(status: int, code: int, message: str) -> Answer:
        return as_json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _twilio(self, request: Received) -> Answer:
        prefix = f"/2010-04-01/Accounts/{TWILIO_SID}/"
        resource = request.path.removeprefix(prefix)
        if (
            request.method != "POST"
            or not request.path.startswith(prefix)
            or resource not in ("Messages.json", "Calls.json")
        ):
            return self.error(404, 20404, f"The requested resource {request.path} was not found")
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return self.error(401, 20003, "Authenticate")
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self.error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        form = request.form()
        if not form.get("To", "").startswith("+"):
            return self.error(400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self.error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        if resource == "Messages.json" and not form.get("Body"):
            return self.error(400, 21602, "Message body is required.")
        if resource == "Calls.json" and not (form.get("Twiml") or form.get("Url")):
            return self.error(400, 21205, "Url or Twiml is required")
        if self.errors:
            status, code = self.errors.pop(0)
            return self.error(status, code, f"scripted error {code}")
        request.headers["x-accepted"] = "1"
        sid = ("SM" if resource == "Messages.json" else "CA") + secrets.token_hex(16)
        resource_json = {
            "account_sid": TWILIO_SID,
            "api_version": "2010-04-01",
            "sid": sid,
            "status": "queued",
            "to": form["To"],
            "from": form.get("From"),
            "direction": "outbound-api",
            "uri": f"{prefix}{resource.split('.')[0]}/{sid}.json",
        }
        if resource == "Messages.json":
            resource_json.update(
                body=form["Body"], num_segments="1", messaging_service_sid=form.get("MessagingServiceSid")
            )
        return as_json(201, resource_json)


@dataclass
class Inbox:
    """Mail received by the in-process SMTP server."""

    port: int
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append((envelope, message_from_bytes(content)))
        return "250 Message accepted for delivery"

    @property
    def emails(self) -> list[EmailMessage]:
        return [m for _e, m in self.messages]


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    inbox = Inbox(port=_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
