"""The fast path in front of Django (``warroom.wsgi``): a public page or summary whose page row this process holds
fresh and whose rendering is cached is answered without Django and without a query — with the same bytes and
headers Django sends; anything else (private pages, keys, misses, other methods) goes to Django."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from tests.comms_pages.conftest import Site, make_site
from tests.conftest import World
from warroom.comms import page_selectors
from warroom.comms import page_services as pages
from warroom.comms.public_views import StatusPageFastPath

pytestmark = pytest.mark.django_db


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body


def call(app: Any, path: str, query: str = "", method: str = "GET", **headers: str) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started: list[Any] = []
    chunks: Iterable[bytes] = app(environ, lambda status, hdrs, *_: started.append((status, hdrs)))
    body = b"".join(chunks)
    return Answer(started[0][0], started[0][1], body)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatusPageFastPath]:
    """The WSGI stack of ``warroom.wsgi`` minus intake. As Django's test client does, requests must not close
    the test's database connection (it holds the test's transaction). A process remembers a page row for a
    second; on a slow machine one Django rendering can take longer, so here the memory lasts the test."""
    monkeypatch.setattr(page_selectors, "PAGE_MEMO_SECONDS", 3600.0)
    page_selectors.forget_pages()  # no row remembered from an earlier test
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield StatusPageFastPath(WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        page_selectors.forget_pages()


@pytest.mark.parametrize("path", ["/status/acme/", "/status/acme/summary.json"])
def test_the_fast_path_answers_like_django_without_a_query(
    world: World, site: Site, app: StatusPageFastPath, path: str
) -> None:
    django_answer = call(app, path)  # Django renders; the page row and the rendering are now remembered
    with CaptureQueriesContext(connection) as queries:
        fast = call(app, path)
        packed = call(app, path, ACCEPT_ENCODING="gzip, br")
        unchanged = call(app, path, IF_NONE_MATCH=fast.headers["etag"])
    assert len(queries) == 0
    assert fast.status == django_answer.status == "200 OK"
    assert fast.body == django_answer.body
    assert set(fast.headers) - {"content-length"} == set(django_answer.headers) - {"content-length"}
    for name in (
        "content-type",
        "etag",
        "cache-control",
        "vary",
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "cross-origin-opener-policy",
    ):
        assert fast.headers[name] == django_answer.headers[name], name
    assert packed.headers["content-encoding"] == "gzip" and gzip.decompress(packed.body) == fast.body
    assert unchanged.status == "304 Not Modified" and unchanged.body == b""


def test_a_change_is_seen_at_once(world: World, site: Site, app: StatusPageFastPath) -> None:
    call(app, "/status/acme/")
    pages.set_component_status(component=site.cdn, status="major_outage", actor=world.alice, source="test")
    assert "Major outage" in call(app, "/status/acme/").body.decode()


def test_private_pages_and_keys_never_take_the_fast_path(world: World, app: StatusPageFastPath) -> None:
    site = make_site(world, visibility="secret_link")
    secret = pages.rotate_secret_link(page=site.page, actor=world.alice, source="test")
    assert call(app, "/status/acme/", query=f"key={secret}").status == "200 OK"
    assert call(app, "/status/acme/").status.startswith("404")  # Django decides: strangers see nothing
    assert call(app, "/status/nope/").status.startswith("404")


def test_the_fast_path_never_offers_a_subscription_the_server_cannot_honour(
    world: World, site: Site, app: StatusPageFastPath, settings: Any
) -> None:
    """A rendering cached while the server sent email is not served once it no longer does (and back)."""
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"},
    }
    call(app, "/status/acme/")  # Django renders and caches the page
    with CaptureQueriesContext(connection) as queries:
        assert "Email or webhook" in call(app, "/status/acme/").body.decode()
    assert len(queries) == 0  # from the fast path
    settings.MAILERS = {k: v for k, v in settings.MAILERS.items() if k != "notifications"}
    without = call(app, "/status/acme/").body.decode()
    assert "Email or webhook" not in without and ">Webhook</a>" in without
