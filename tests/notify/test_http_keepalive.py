"""Keep-alive in the outbound client: only inside ``reusing_connections`` (the sender's at-least-once channels) is
a connection used again; SMS and voice always get a fresh one; a kept-alive connection the server has closed is
never used (the request goes on a new connection and arrives once); many threads at once on one origin get no
"Bad file descriptor" (httpcore issue #1110). A real HTTP/1.1 server on 127.0.0.1 records the client port of
every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.notify.conftest import T0
from warroom.integrations import registry
from warroom.integrations.base import Contact, Delivery
from warroom.integrations.base import Message as ChannelMessage
from warroom.lib import http
from warroom.notify import sender


class PortServer:
    """Answers 200 and records (client port, path) per request; with ``close_after`` it closes each connection
    after answering, without saying so (no ``Connection: close``), as a server's idle timeout would; ``delay``:
    seconds it takes to answer."""

    def __init__(self, *, close_after: bool = False, delay: float = 0.0) -> None:
        self.seen: list[tuple[int, str]] = []
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK of the headers (~40 ms a request), which is this server's, not the client's.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                time.sleep(delay)
                with lock:
                    server.seen.append((self.client_address[1], self.path))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                if close_after:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ports(self) -> list[int]:
        return [port for port, _ in self.seen]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ports(loopback_allowed: None) -> Iterator[PortServer]:
    http.close_pool()
    server = PortServer()
    yield server
    server.stop()
    http.close_pool()


@pytest.fixture
def closing(loopback_allowed: None) -> Iterator[PortServer]:
    http.close_pool()
    server = PortServer(close_after=True)
    yield server
    server.stop()
    http.close_pool()


def test_requests_use_a_fresh_connection_unless_reuse_is_allowed(ports: PortServer) -> None:
    for n in range(3):
        assert http.post(ports.url(f"/fresh/{n}"), content=b"x").ok
    assert len(set(ports.ports())) == 3
    with http.reusing_connections():
        for n in range(3):
            assert http.post(ports.url(f"/reused/{n}"), content=b"x").ok
    assert len(set(ports.ports()[3:])) == 1
    with http.reusing_connections(False):
        assert http.post(ports.url("/not-allowed"), content=b"x").ok
    assert ports.ports()[-1] not in ports.ports()[:-1]


def test_a_connection_the_server_closed_is_not_used_again(closing: PortServer) -> None:
    with http.reusing_connections():
        assert http.post(closing.url("/one"), content=b"x").ok
        time.sleep(0.2)  # the server has closed its end by now; the client was not told
        assert http.post(closing.url("/two"), content=b"x").ok
    assert [path for _, path in closing.seen] == ["/one", "/two"]
    assert len(set(closing.ports())) == 2


def test_many_threads_on_one_origin_share_at_most_pool_connections(ports: PortServer) -> None:
    def post(n: int) -> bool:
        with http.reusing_connections():
            return http.post(ports.url(f"/p/{n}"), content=b"x").ok

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(post, range(400)))
    assert all(results)
    assert len(ports.seen) == 400
    assert len(set(ports.ports())) <= http.POOL_CONNECTIONS


def test_waiting_for_a_connection_does_not_count_against_the_answer(
    loopback_allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An origin has one connection here and the receiver takes 2 s to answer; a request with 3 s for its answer
    queues 2 s behind another. It must still be answered, not "no answer" once the receiver has taken it (an
    at-least-once message would then go again)."""
    monkeypatch.setattr(http, "POOL_CONNECTIONS", 1)
    http.close_pool()
    slow = PortServer(delay=2.0)
    try:

        def post(n: int) -> int:
            with http.reusing_connections():
                return http.post(slow.url(f"/queued/{n}"), content=b"x", timeout=3.0).status

        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = list(pool.map(post, range(2)))
    finally:
        slow.stop()
        http.close_pool()
    assert statuses == [200, 200]
    assert len(set(slow.ports())) == 1  # one after the other, on the one connection


def _item(kind: str, url: str) -> sender.Leased:
    channel = registry.get(kind)
    return sender.Leased(
        message_id=1,
        attempt_id=1,
        number=1,
        delivery_id=f"wrd_{kind}",
        lease_until=T0,
        category="notification",
        contact_method_id=1,
        channel=channel,
        contact=Contact(kind=kind, value="", config={}, secret={"url": url, "signing_secret": "s" * 32}),
        message=ChannelMessage(
            subject="INC-1 Outage",
            body="body",
            urgency="high",
            category="notification",
            url="",
            created_at=T0,
            bundle_count=1,
            context={},
        ),
    )


def test_the_sender_reuses_connections_for_at_least_once_channels_only(
    ports: PortServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Webhooks (at least once) go over a kept-alive connection; a channel that is at most once is called with
    reuse off, so its requests always open a fresh connection."""
    webhook = _item("webhook", ports.url("/hook"))
    assert webhook.channel.delivery == Delivery.AT_LEAST_ONCE
    for _ in range(3):
        assert sender.call_channel(webhook).sent is not None
    assert len(set(ports.ports())) == 1
    monkeypatch.setattr(type(webhook.channel), "delivery", Delivery.AT_MOST_ONCE)
    for _ in range(3):
        assert sender.call_channel(webhook).sent is not None
    assert len(set(ports.ports()[3:])) == 3
