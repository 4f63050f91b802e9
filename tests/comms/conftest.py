"""Fixtures of the stakeholder-update tests: a real SMTP inbox (aiosmtpd), a real HTTP receiver on 127.0.0.1
and an HTTPS one with its own certificate (subscriptions accept https webhooks only), and helpers that run the
``comms.deliver`` engine module and check webhook signatures the way a receiver would."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import api, declare, incident  # noqa: F401 (fixtures and helpers shared)
from tests.notify.conftest import frozen, loopback_allowed, receiver, smtp  # noqa: F401 (fixtures)
from tests.notify.receivers import Received, Receiver, running
from warroom.engine import registry
from warroom.lib import clock, http


def deliver(now: datetime | None = None) -> int:
    """Run the registered ``comms.deliver`` engine module once, as an engine cycle would."""
    registry.discover()
    module = next(m for m in registry.modules() if m.name == "comms.deliver")
    return module.func(now or clock.now())


def verify_signature(request: Received, secret: str, *, now: datetime | None = None) -> bool:
    """What a receiver does: recompute HMAC-SHA256(secret, "<timestamp>.<raw body>") and compare it in constant
    time with ``Warroom-Signature`` (``v1=<hex>``); refuse a timestamp more than 5 minutes away."""
    timestamp = request.headers["warroom-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    given = request.headers["warroom-signature"].removeprefix("v1=")
    fresh = abs((now or clock.now()).timestamp() - int(timestamp)) <= 300
    return fresh and hmac.compare_digest(expected, given)


def _certificate(directory: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command line."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = directory / "hooks.crt", directory / "hooks.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_receiver(
    loopback_allowed: None,  # noqa: F811
    certificate: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Receiver]:
    """An HTTPS receiver on 127.0.0.1 whose certificate Warroom's outbound client trusts (as an administrator
    would add a private CA); ``url()`` gives https URLs."""
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(http, "_tls", lambda: trusting)
    server = Receiver()
    server.server.socket = server_tls.wrap_socket(server.server.socket, server_side=True)
    with running(server):
        yield server
    http.close_pool()


def https_url(server: Receiver, path: str = "/hook") -> str:
    return f"https://127.0.0.1:{server.port}{path}"


def payload(request: Received) -> Any:
    return request.json()
