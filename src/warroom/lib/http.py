"""The one outbound HTTP client. Every call Warroom makes to a URL a user or admin typed goes through here.

What it guarantees (the SSRF rules of DESIGN.md and ``reliability-and-security.md``):

* Only ``http`` and ``https`` URLs, without credentials in them.
* The host is resolved once; **every** address it resolves to must be public. Loopback, private (RFC 1918,
  ULA), link-local (169.254.0.0/16 with the cloud metadata address, fe80::/10), CGNAT (100.64.0.0/10),
  multicast, reserved, unspecified and other non-global addresses are refused, IPv4 and IPv6 alike, including
  IPv4 addresses wrapped in IPv6 (``::ffff:10.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4, Teredo). An administrator
  may allow ranges with ``WARROOM_HTTP_ALLOW_PRIVATE`` (comma-separated CIDRs, e.g. an on-premises ntfy).
* The connection goes to the vetted address itself, with the original ``Host`` header and TLS SNI (and the
  certificate checked against the host name), so a DNS answer that changes between the check and the connect
  (DNS rebinding) cannot redirect the request.
* Redirects are not followed unless the caller asks; each hop is then vetted the same way.
* A connect timeout of 5 s, an overall deadline of 10 s (from when the request has a connection: waiting for one
  of the origin's connections is bounded apart, also by 10 s), and a 1 MB cap on the (decoded) response body.
* Each origin (scheme, host name, port **and** vetted address) has its own long-lived client, shared by the
  sender's threads, at most :data:`POOL_CONNECTIONS` requests at once per origin. Every request is still vetted
  (DNS resolved and checked) before it is sent, and the clients keep no cookies, so nothing one response sets
  reaches another request.
* By default every request opens a fresh connection. Inside :func:`reusing_connections` (the notification sender
  uses it for at-least-once channels only: webhooks, chat, email) a connection idle for less than
  :data:`KEEPALIVE_SECONDS` is used again. A request is never resent by this module: before a kept-alive
  connection is used, httpcore drops it if the server has closed it (the socket reads as closed) and takes
  another one, which is the only case where the request provably never left. Any failure once the request
  has started is :class:`NoResponse` (it may have arrived), and the channel's delivery policy decides: an
  at-least-once message is sent again later with the same delivery id. At-most-once channels (SMS, voice) always
  get a fresh connection, so a server that closes an idle connection can never turn a phone message into
  "outcome unknown".

Errors say whether the request may have reached the server, which the notification channels need to decide
between "retry" and "never again" (see ``warroom.integrations.base``):

* :class:`TargetRefused` — the URL or address is not allowed: nothing was sent.
* :class:`ConnectFailed` — no connection could be made: nothing was sent.
* :class:`NoResponse` — the connection broke or timed out after the request started: it may have arrived.
* :class:`ResponseTooLarge` — the server answered more than the cap allows: it did receive the request.
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import certifi
import httpx
from django.conf import settings

import warroom

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
MAX_BYTES = 1024 * 1024
USER_AGENT = f"Warroom/{warroom.__version__}"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")


class OutboundError(Exception):
    """An outbound request that did not produce a usable answer. ``maybe_delivered`` says whether the server
    may have received (and acted on) the request."""

    maybe_delivered = False


class TargetRefused(OutboundError):
    """The URL, or an address its host resolves to, is not allowed. Nothing was sent."""


class ConnectFailed(OutboundError):
    """No connection could be made (DNS failure, refused, unreachable, connect timeout). Nothing was sent."""


class NoResponse(OutboundError):
    """The exchange broke after the request started (timeout, reset, malformed answer): it may have arrived."""

    maybe_delivered = True


class ResponseTooLarge(OutboundError):
    """The answer was larger than the cap. The server did receive the request."""

    maybe_delivered = True

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is not JSON."""
        try:
            return httpx.Response(self.status, content=self.content).json()
        except ValueError:
            return None


# ---------------------------------------------------------------------------------------------------------------
# vetting


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The ranges an administrator allowed (``WARROOM_HTTP_ALLOW_PRIVATE``), read at each call."""
    return tuple(
        ipaddress.ip_network(n, strict=False) for n in getattr(settings, "WARROOM_HTTP_ALLOW_PRIVATE", ())
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo client), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _category(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address, or None when it is."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("shared (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def refusal(ip: IPAddress) -> str | None:
    """Why Warroom may not connect to ``ip``, or None when it may. An IPv6 address that carries an IPv4 one
    (mapped, NAT64, 6to4, Teredo) is judged by the IPv4 address it reaches."""
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    allowed = allowed_networks()
    if any(c in net for c in (ip, embedded) if c is not None for net in allowed if c.version == net.version):
        return None
    judged = embedded or ip
    reason = _category(judged)
    if reason:
        return f"{ip} ({judged}) is a {reason} address" if judged != ip else f"{ip} is a {reason} address"
    return None


def _parse(url: str | httpx.URL) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs are allowed, not {parsed.scheme or 'no scheme'!r}")
    if not parsed.host:
        raise TargetRefused("the URL has no host")
    if parsed.userinfo:
        raise TargetRefused("credentials in the URL are not allowed")
    return parsed


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_url(url: str) -> str:
    """Check a URL as it is being saved: syntax, scheme, no credentials, and a literal address or ``localhost``
    must be allowed. The full check (DNS) happens at each request. Returns the URL; raises :class:`TargetRefused`."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii", errors="replace")
    literal = _literal(host)
    if literal is None and host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
        literal = ipaddress.IPv4Address("127.0.0.1")
    if literal is not None:
        reason = refusal(literal)
        if reason:
            raise TargetRefused(
                f"{host}: {reason}; ask an administrator to allow it (WARROOM_HTTP_ALLOW_PRIVATE)"
            )
    return url


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order; raises :class:`ConnectFailed`."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ConnectFailed(f"cannot resolve {host}: {exc}") from None
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise ConnectFailed(f"{host} has no address")
    return found


def vet(url: httpx.URL) -> IPAddress:
    """Resolve ``url``'s host once and return the address to connect to; every resolved address must pass."""
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = resolve(host, port)
    for ip in addresses:
        reason = refusal(ip)
        if reason:
            raise TargetRefused(
                f"{host} resolves to {reason}; ask an administrator to allow it (WARROOM_HTTP_ALLOW_PRIVATE)"
            )
    return addresses[0]


# ---------------------------------------------------------------------------------------------------------------
# requests


_tls_lock = threading.Lock()
_tls_context: list[ssl.SSLContext] = []


def _tls() -> ssl.SSLContext:
    """The one TLS context of the process (CA bundle loaded once: ~30 ms of CPU). Made under a lock: the sender's
    32 threads start at once, and each building its own held the first pass of a storm up by seconds."""
    with _tls_lock:
        if not _tls_context:
            _tls_context.append(ssl.create_default_context(cafile=certifi.where()))
        return _tls_context[0]


#: pooled clients kept at most (origins); beyond that the least recently used one is dropped
POOL_ORIGINS = 256
#: connections open at once per origin (more requests wait for one)
POOL_CONNECTIONS = 4
#: how long an idle connection may be used again (inside :func:`reusing_connections`); well under the idle
#: timeouts servers commonly use (Node.js 5 s, nginx 75 s), so the server rarely closes one just as it is used
KEEPALIVE_SECONDS = 2.0

_pool_lock = threading.Lock()
_pool: dict[tuple[str, str, int, str, int, bool], _Origin] = {}
_reuse: ContextVar[bool] = ContextVar("warroom_http_reuse", default=False)


@contextmanager
def reusing_connections(allowed: bool = True) -> Iterator[None]:
    """Within the block, requests may use a kept-alive connection of their origin (when ``allowed``). Only for
    requests whose repeat is harmless (at-least-once deliveries with a stable delivery id): see the module
    docstring."""
    token = _reuse.set(allowed)
    try:
        yield
    finally:
        _reuse.reset(token)


def _no_cookies() -> httpx.Cookies:
    return httpx.Cookies(
        http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    )


def _new_client(reuse: bool) -> httpx.Client:
    """A client of one connection, kept alive between requests when ``reuse``."""
    return httpx.Client(
        verify=_tls(),
        timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        trust_env=False,
        cookies=_no_cookies(),
        limits=httpx.Limits(
            max_connections=1, max_keepalive_connections=1 if reuse else 0, keepalive_expiry=KEEPALIVE_SECONDS
        ),
    )


class _Origin:
    """The clients of one origin: :data:`POOL_CONNECTIONS` clients of one connection each, every one used by one
    thread at a time. (One httpx client shared by threads can close a kept-alive connection under a request
    another thread has just started on it: httpcore issue #1110, seen here as "Bad file descriptor".)"""

    def __init__(self, reuse: bool) -> None:
        self.free: queue.LifoQueue[httpx.Client] = queue.LifoQueue()
        for _ in range(POOL_CONNECTIONS):
            self.free.put(_new_client(reuse))

    @contextmanager
    def client(self, timeout: float) -> Iterator[httpx.Client]:
        """The most recently used free client (its connection the likeliest to be alive); waits at most
        ``timeout`` for one (:class:`ConnectFailed`)."""
        try:
            client = self.free.get(timeout=timeout)
        except queue.Empty:
            raise ConnectFailed(f"no free connection within {timeout:g} s") from None
        try:
            yield client
        finally:
            self.free.put(client)

    def close(self) -> None:
        while True:
            try:
                self.free.get_nowait().close()
            except queue.Empty:
                return


def _origin_for(url: httpx.URL, ip: IPAddress, *, reuse: bool) -> _Origin:
    """The pooled clients of one origin: (scheme, host name, port, vetted address, TLS context), clients that keep
    their connection (``reuse``) or clients that never do. Thread-safe."""
    key = (url.scheme, url.raw_host.decode("ascii").lower(), url.port or 0, str(ip), id(_tls()), reuse)
    with _pool_lock:
        origin = _pool.pop(key, None) or _Origin(reuse)
        _pool[key] = origin  # most recently used last
        while len(_pool) > POOL_ORIGINS:
            _pool.pop(next(iter(_pool)))  # dropped, not closed: a thread may still be using it
        return origin


def close_pool() -> None:
    """Close every pooled connection not in use (tests; a process shutting down)."""
    with _pool_lock:
        origins = list(_pool.values())
        _pool.clear()
    for origin in origins:
        origin.close()


def _pinned(url: httpx.URL, ip: IPAddress) -> tuple[httpx.URL, str, dict[str, Any]]:
    """The URL rewritten to the vetted address, the Host header it must carry, and the TLS SNI extension."""
    default_port = 443 if url.scheme == "https" else 80
    host = url.raw_host.decode("ascii")
    host_header = f"[{host}]" if ":" in host else host
    if url.port and url.port != default_port:
        host_header += f":{url.port}"
    extensions: dict[str, Any] = {}
    if url.scheme == "https" and _literal(host) is None:
        extensions["sni_hostname"] = host
    return url.copy_with(host=str(ip)), host_header, extensions


def _read(response: httpx.Response, *, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(
                f"the answer is larger than {max_bytes} bytes", status=response.status_code
            )
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise NoResponse(f"no complete answer within {TOTAL_TIMEOUT:g} s")
    return b"".join(chunks)


def _once(
    method: str,
    url: httpx.URL,
    *,
    headers: dict[str, str],
    body: Mapping[str, Any],
    auth: tuple[str, str] | None,
    max_bytes: int,
    deadline: float,
    timeout: httpx.Timeout,
) -> Response:
    ip = vet(url)
    origin = _origin_for(url, ip, reuse=_reuse.get())
    target, host_header, extensions = _pinned(url, ip)
    waiting = time.monotonic()
    with origin.client(TOTAL_TIMEOUT) as client:
        # The wait for one of the origin's connections is bounded on its own (TOTAL_TIMEOUT): it is not the
        # answer's time. Counted in, a request that queued behind others would be "no answer" after the receiver
        # took it, and an at-least-once message would be sent again.
        deadline += time.monotonic() - waiting
        request = client.build_request(
            method,
            target,
            headers={**headers, "Host": host_header},
            extensions=extensions,
            timeout=timeout,
            **body,
        )
        try:
            response = client.send(request, auth=httpx.BasicAuth(*auth) if auth else None, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectFailed(f"cannot connect to {url.host} ({ip}): {exc or type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise NoResponse(f"no answer from {url.host}: {exc or type(exc).__name__}") from None
        try:
            content = _read(response, max_bytes=max_bytes, deadline=deadline)
        except httpx.TransportError as exc:
            raise NoResponse(f"the answer from {url.host} broke off: {exc or type(exc).__name__}") from None
        finally:
            response.close()
    return Response(status=response.status_code, headers=response.headers, content=content, url=str(url))


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | str | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = TOTAL_TIMEOUT,
    max_redirects: int = 0,
) -> Response:
    """Send one request through the SSRF rules above and return the whole (capped) answer.

    ``content``, ``json`` and ``data`` (form fields) are the body, as in httpx. A 3xx answer is returned as it is
    unless ``max_redirects`` > 0; followed hops are vetted again, and only 307/308 keep the method and body.
    Raises :class:`OutboundError` subclasses; never returns for a refused target.
    """
    parsed = _parse(url)
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    body: dict[str, Any] = {"content": content, "json": json, "data": data}
    deadline = time.monotonic() + timeout
    limits = httpx.Timeout(min(timeout, TOTAL_TIMEOUT), connect=min(CONNECT_TIMEOUT, timeout))
    for hop in range(max_redirects + 1):
        response = _once(
            method,
            parsed,
            headers=all_headers,
            body=body,
            auth=auth,
            max_bytes=max_bytes,
            deadline=deadline,
            timeout=limits,
        )
        location = response.headers.get("location")
        if not (300 <= response.status < 400 and location and hop < max_redirects):
            return response
        previous = parsed
        parsed = _parse(parsed.join(location))
        if (parsed.scheme, parsed.host, parsed.port) != (previous.scheme, previous.host, previous.port):
            auth = None  # credentials never follow a redirect to another origin
            all_headers = {k: v for k, v in all_headers.items() if k.lower() != "authorization"}
        if response.status not in (307, 308):
            method, body = "GET", {"content": None, "json": None, "data": None}
    return response  # pragma: no cover - the loop always returns


def post(url: str, **kwargs: Any) -> Response:
    return request("POST", url, **kwargs)


def get(url: str, **kwargs: Any) -> Response:
    return request("GET", url, **kwargs)
