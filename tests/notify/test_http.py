"""The SSRF-safe outbound client: what it refuses, that it connects to the address it vetted (DNS rebinding),
that it does not follow redirects to unvetted targets, and its size cap and timeouts. Real servers on
127.0.0.1; the only fake is the resolver, for the rebinding case (names that the test's "DNS" answers)."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from typing import Any

import pytest

from tests.notify.receivers import Receiver, running, text
from warroom.lib import http


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str, settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ()
    assert http.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str, settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ()
    assert http.refusal(ipaddress.ip_address(address)) is None


def test_an_allowed_range_lets_its_addresses_through_and_only_them(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("10.20.0.0/16",)
    assert http.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert http.refusal(ipaddress.ip_address("::ffff:10.20.3.4")) is None
    assert http.refusal(ipaddress.ip_address("10.21.0.1")) is not None
    assert http.refusal(ipaddress.ip_address("127.0.0.1")) is not None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com",
        "//example.com",
        "http://user:pw@example.com/",
    ],
)
def test_other_schemes_and_credentials_in_urls_are_refused(url: str) -> None:
    with pytest.raises(http.TargetRefused):
        http.request("GET", url)


def test_loopback_is_refused_unless_allowed(settings: Any) -> None:
    with running(Receiver()) as server:
        settings.WARROOM_HTTP_ALLOW_PRIVATE = ()
        for url in (server.url("/a"), f"http://localhost:{server.port}/a"):
            with pytest.raises(http.TargetRefused, match="loopback"):
                http.post(url, json={})
        assert server.requests == []
        settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
        response = http.post(server.url("/a"), json={"x": 1})
    assert response.status == 200 and response.text == "ok"
    assert server.requests[0].json() == {"x": 1}
    assert server.requests[0].headers["user-agent"].startswith("Warroom/")


def test_check_url_refuses_literal_private_addresses_when_saved(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ()
    for url in ("http://127.0.0.1/x", "http://[::1]/x", "http://169.254.169.254/latest", "http://localhost/"):
        with pytest.raises(http.TargetRefused):
            http.check_url(url)
    assert http.check_url("https://hooks.slack.com/services/T/B/x")


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Names under ``.test`` answered from a script: each look-up pops the next answer (the last repeats)."""
    answers: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".test"):
            script = answers[host]
            ips = script.pop(0) if len(script) > 1 else script[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_the_connection_goes_to_the_vetted_address_whatever_dns_answers_next(
    settings: Any, fake_dns: dict[str, list[list[str]]]
) -> None:
    """DNS rebinding: the first answer (vetted) is the allowed server, later answers point elsewhere (an address
    outside the allowed range, where nothing listens). One resolution, and the request reaches the vetted one
    with the original Host header."""
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.1/32",)
    fake_dns["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    with running(Receiver()) as server:
        response = http.post(f"http://rebind.test:{server.port}/hook", content=b"hi")
    assert response.status == 200
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"
    assert fake_dns["rebind.test"] == [["127.0.0.2"]], "resolved exactly once"


def test_every_resolved_address_must_pass(settings: Any, fake_dns: dict[str, list[list[str]]]) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.1/32",)
    fake_dns["mixed.test"] = [["127.0.0.1", "10.0.0.7"]]
    with running(Receiver()) as server:
        with pytest.raises(http.TargetRefused, match=r"10\.0\.0\.7"):
            http.post(f"http://mixed.test:{server.port}/hook", content=b"hi")
        assert server.requests == []


def test_redirects_are_not_followed_by_default_and_never_to_unvetted_targets(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.1/32",)
    with running(Receiver()) as server:
        server.respond = lambda r: text(302, "", Location="http://127.0.0.2:9/internal")
        response = http.post(server.url("/hook"), json={})
        assert response.status == 302 and len(server.requests) == 1
        with pytest.raises(http.TargetRefused):
            http.get(server.url("/hook"), max_redirects=3)
        server.respond = lambda r: (
            text(302, "", Location="/final") if r.path == "/start" else text(200, "done")
        )
        followed = http.get(server.url("/start"), max_redirects=3)
    assert followed.status == 200 and followed.text == "done"


def test_the_response_body_is_capped(receiver: Receiver) -> None:
    receiver.respond = lambda r: text(200, "x" * 5000)
    with pytest.raises(http.ResponseTooLarge) as caught:
        http.get(receiver.url("/big"), max_bytes=1000)
    assert caught.value.maybe_delivered and caught.value.status == 200
    assert http.get(receiver.url("/big"), max_bytes=5000).content == b"x" * 5000


def test_a_server_that_does_not_answer_in_time_is_no_response(receiver: Receiver) -> None:
    def slow(request: Any) -> Any:
        time.sleep(1.0)
        return text(200)

    receiver.respond = slow
    started = time.monotonic()
    with pytest.raises(http.NoResponse) as caught:
        http.post(receiver.url("/slow"), json={}, timeout=0.3)
    assert caught.value.maybe_delivered
    assert time.monotonic() - started < 0.9


def test_a_closed_port_is_a_connect_failure_that_sent_nothing(loopback_allowed: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(http.ConnectFailed) as caught:
        http.post(f"http://127.0.0.1:{port}/", json={})
    assert not caught.value.maybe_delivered


def test_an_unresolvable_name_is_a_connect_failure(
    fake_dns: dict[str, list[list[str]]], monkeypatch: Any
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(http.ConnectFailed, match="cannot resolve"):
        http.get("https://nowhere.invalid/")


def _certificate(tmp_path: Any, name: str) -> tuple[str, str]:
    """A self-signed certificate for ``name`` made with the openssl command line."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
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
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
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


def test_tls_to_the_pinned_address_keeps_sni_and_checks_the_certificate_name(
    settings: Any, fake_dns: dict[str, list[list[str]]], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request goes to the vetted IP, yet the TLS handshake names the host (SNI) and the certificate is
    checked against that name: a certificate for another name is refused."""
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.1/32",)
    fake_dns["hooks.test"] = [["127.0.0.1"]]
    cert, key = _certificate(tmp_path, "hooks.test")
    seen_sni: list[str | None] = []
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server_tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,func-returns-value]
    trusting = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(http, "_tls", lambda: trusting)
    with running(Receiver()) as server:
        server.server.socket = server_tls.wrap_socket(server.server.socket, server_side=True)
        response = http.post(f"https://hooks.test:{server.port}/x", json={"a": 1})
        assert response.status == 200
        assert seen_sni == ["hooks.test"]
        assert server.requests[0].headers["host"] == f"hooks.test:{server.port}"
        fake_dns["other.test"] = [["127.0.0.1"]]
        with pytest.raises(http.ConnectFailed, match="certificate"):
            http.post(f"https://other.test:{server.port}/x", json={})


def test_threads_starting_at_once_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's 32 threads make their first request together: they must share one TLS context (and so one
    pool of connections per origin), built once; not each load the CA bundle, which held a storm's first
    deliveries up by seconds."""
    monkeypatch.setattr(http, "_tls_context", [])
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real(*args, **kwargs)
        built.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting)
    start = threading.Barrier(16)
    seen: list[ssl.SSLContext] = []

    def first_request() -> None:
        start.wait()
        seen.append(http._tls())

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert len(seen) == 16 and all(context is built[0] for context in seen)
