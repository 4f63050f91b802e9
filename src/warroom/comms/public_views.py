"""The public side of status pages: ``/status/<slug>/`` and what hangs off it.

Access (:func:`open_page`): a public page is open to everyone. A secret-link page is open to whoever brings its
key (``?key=<token>``; the database keeps only its HMAC, compared in constant time) and to the signed-in members
of its owning team; a signed-in-only page to every signed-in Warroom user. Anyone else gets the same 404 as for
a page that does not exist.

Speed: the page, its history, the JSON summary, the feeds and the brand stylesheet are rendered from
:func:`warroom.comms.page_selectors.snapshot` once per ``content_version`` of the page (a new random value with
every change that shows), UTC day and variant, and then served from Django's cache (``CACHE_SECONDS`` at most,
so uptime percentages and relative times move on). A warm request costs one query: the page row, which carries
the version. Nothing here writes except the subscription endpoints, and those only on POST. Every page answers
``HEAD`` as it answers ``GET``, without the body (uptime and link checkers ask that way).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.csp import CSP, build_policy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts.ratelimit import Limiter
from warroom.comms import page_selectors as selectors
from warroom.comms import page_services as services
from warroom.comms.feeds import AtomFeed, RssFeed
from warroom.comms.models import RecipientKind, StatusPage, Visibility
from warroom.comms.page_forms import SubscribeForm
from warroom.lib import clock, tokens
from warroom.lib.errors import ServiceError
from warroom.lib.ids import as_id

CACHE_SECONDS = 60
SOURCE = "status_page"
#: subscription attempts (POSTs of the subscribe form) per minute from one client address, in bursts of as many:
#: each may send a challenge to a URL or a confirmation email to an address of the sender's choosing
SUBSCRIBE_RATE = 6
#: the buckets of :data:`SUBSCRIBE_RATE`, shared by the web processes of a host as the intake keys' are
SUBSCRIBE_LIMITER = Limiter()


class Opened:
    """A page the request may see, with the query string its links carry (the secret key, if one was used)."""

    def __init__(self, page: StatusPage, key: str) -> None:
        self.page = page
        self.key = key
        self.query = "?" + urlencode({"key": key}) if key else ""
        self.variant = "k" if key else "p"

    def url(self, path: str = "") -> str:
        return f"/status/{self.page.slug}/{path}{self.query}"


def open_page(request: HttpRequest, slug: str) -> Opened:
    """The page ``slug`` if the request may see it; :class:`Http404` otherwise (never a 403)."""
    page = selectors.page_by_slug(slug)
    if page is None:
        raise Http404("no such status page")
    if page.visibility == Visibility.PUBLIC:
        return Opened(page, "")
    key = request.GET.get("key", "")
    if page.visibility == Visibility.SECRET_LINK:
        if key and page.secret_digest and tokens.matches(key, page.secret_digest):
            return Opened(page, key)
        user = request.user
        if isinstance(user, User) and (user.is_org_admin or page.team_id in accounts.team_ids(user)):
            return Opened(page, "")
        raise Http404("no such status page")
    if request.user.is_authenticated:
        return Opened(page, "")
    raise Http404("no such status page")


def _csp(page: StatusPage) -> dict[str, Any]:
    """The site's strict policy (``SECURE_CSP``); images may also come from the logo's origin."""
    configured: dict[str, Any] = settings.SECURE_CSP
    policy: dict[str, Any] = {name: list(values) for name, values in configured.items()}
    if page.logo_url:
        parts = urlsplit(page.logo_url)
        policy["img-src"] = [*policy.get("img-src", [CSP.SELF]), f"{parts.scheme}://{parts.netloc}"]
    return policy


#: (ETag, body, gzipped body) of one rendering
Cached = tuple[str, bytes, bytes]


def cache_key(page: StatusPage, access: str, variant: str) -> str:
    """Where a rendering is kept: per page version, UTC day, access (``p`` public, ``k`` with a key), variant,
    and whether this server sends email (the pages offer "Email or webhook" or "Webhook" accordingly), so a
    rendering never offers a subscription the server cannot honour."""
    mail = "m" if services.email_available() else "n"
    return f"wr:sp:{page.pk}:{page.content_version}:{clock.now():%Y%m%d}:{access}:{mail}:{variant}"


def _cached(opened: Opened, variant: str, build: Callable[[], bytes]) -> Cached:
    """A rendering, from the cache or built (and compressed) now."""
    key = cache_key(opened.page, opened.variant, variant)
    hit: Cached | None = cache.get(key)
    if hit is None:
        body = build()
        etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        hit = (etag, body, gzip.compress(body, compresslevel=6, mtime=0))
        cache.set(key, hit, CACHE_SECONDS)
    return hit


def _respond(request: HttpRequest, opened: Opened, rendered: Cached, content_type: str) -> HttpResponse:
    """The rendering (gzipped for clients that take it), or a 304 when the client holds it already. Public pages
    may be stored by browsers and proxies but are revalidated every time (``no-cache``), so nobody is shown a
    stale status; a revalidation costs no more than a hit."""
    etag, body, packed = rendered
    response: HttpResponse
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    elif packed and "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(packed, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Vary"] = (
        "Accept-Encoding, Cookie" if opened.page.visibility == Visibility.SIGNED_IN else "Accept-Encoding"
    )
    page = opened.page
    if page.visibility == Visibility.PUBLIC:
        response["Cache-Control"] = "public, no-cache"
    else:
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
    response._csp_config = _csp(page)  # type: ignore[attr-defined]
    return response


def _context(opened: Opened, **extra: Any) -> dict[str, Any]:
    page = opened.page
    return {
        "page": page,
        "q": opened.query,
        "base": f"/status/{page.slug}/",
        "brand_css": f"/status/{page.slug}/brand.css?{urlencode({'v': page.content_version, **({'key': opened.key} if opened.key else {})})}",
        "now": clock.now(),
        "email_ready": services.email_available(),
        **extra,
    }


@require_safe
def page_view(request: HttpRequest, slug: str) -> HttpResponse:
    opened = open_page(request, slug)

    def build() -> bytes:
        snap = selectors.snapshot(opened.page, now=clock.now())
        html = render_to_string("comms/status/page.html", _context(opened, snap=snap))
        return html.encode()

    return _respond(request, opened, _cached(opened, "page", build), "text/html; charset=utf-8")


@require_safe
def history_view(request: HttpRequest, slug: str) -> HttpResponse:
    opened = open_page(request, slug)
    raw = request.GET.get("page", "1")
    number = as_id(raw) or 1
    number = number if number < 100_000 else 1

    def build() -> bytes:
        hist = selectors.history(opened.page, number=number)
        return render_to_string("comms/status/history.html", _context(opened, history=hist)).encode()

    return _respond(request, opened, _cached(opened, f"history:{number}", build), "text/html; charset=utf-8")


@require_safe
def incident_view(request: HttpRequest, slug: str, ref: str) -> HttpResponse:
    opened = open_page(request, slug)

    def build() -> bytes:
        try:
            incident = selectors.public_incident(opened.page, ref)
        except ServiceError:
            return b""
        return render_to_string("comms/status/incident.html", _context(opened, incident=incident)).encode()

    rendered = _cached(opened, f"incident:{ref[:20]}", build)
    if not rendered[1]:
        raise Http404("no such incident on this page")
    return _respond(request, opened, rendered, "text/html; charset=utf-8")


@require_safe
def summary_view(request: HttpRequest, slug: str) -> HttpResponse:
    opened = open_page(request, slug)

    def build() -> bytes:
        snap = selectors.snapshot(opened.page, now=clock.now())
        url = services.page_url(opened.page)
        response = JsonResponse(selectors.summary(snap, url=url), json_dumps_params={"ensure_ascii": False})
        return bytes(response.content)

    response = _respond(request, opened, _cached(opened, "summary", build), "application/json")
    response["Access-Control-Allow-Origin"] = "*" if opened.page.visibility == Visibility.PUBLIC else "null"
    return response


def _feed(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    opened = open_page(request, slug)
    feed = RssFeed() if kind == "rss" else AtomFeed()

    def build() -> bytes:
        return bytes(feed(request, opened=opened).content)

    return _respond(request, opened, _cached(opened, kind, build), feed.content_type)


@require_safe
def rss_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _feed(request, slug, "rss")


@require_safe
def atom_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _feed(request, slug, "atom")


def _text_on(color: str) -> str:
    """Black or white text, whichever reads better on ``color`` (WCAG relative luminance)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111827" if luminance > 0.4 else "#ffffff"


@require_safe
def brand_css_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The page's colours as CSS custom properties: the one way a brand colour reaches the page under a strict
    CSP (no ``style=``). The colour is validated as ``#rrggbb`` when saved and again here."""
    opened = open_page(request, slug)
    color = opened.page.brand_color
    if not services.BRAND_COLOR.match(color):
        color = "#1f6feb"
    body = f":root {{ --brand: {color}; --brand-text: {_text_on(color)}; }}\n".encode()
    response = _respond(request, opened, (f'"{color[1:]}"', body, b""), "text/css; charset=utf-8")
    if opened.page.visibility == Visibility.PUBLIC:
        response["Cache-Control"] = "public, max-age=86400"  # the URL carries the page's version
    return response


# ---------------------------------------------------------------------------------------------------------------
# subscriptions: never cached, never a change on GET


def _subscribe_wait(request: HttpRequest) -> int:
    """Seconds the client must wait before another subscription attempt (0: go on), by its address. The bucket's
    key is a hash of the address in a range no integration key id reaches (the limiter's table is shared)."""
    address = str(request.META.get("REMOTE_ADDR") or "")
    digest = hashlib.blake2b(b"status-subscribe:" + address.encode(), digest_size=8).digest()
    wait, _first = SUBSCRIBE_LIMITER.take((1 << 62) | (int.from_bytes(digest) >> 2), SUBSCRIBE_RATE)
    return wait


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The subscribe form. An email subscriber gets a confirmation link (refused on a server that sends no
    email); a webhook endpoint must answer the subscription challenge before anything is stored. Either way the
    form says what went wrong, with a 4xx."""
    opened = open_page(request, slug)
    page = opened.page
    components = list(selectors.page_components(page))
    email_ready = services.email_available()
    form = SubscribeForm(request.POST or None, components=components, email_ready=email_ready)
    status = 200
    wait = _subscribe_wait(request) if request.method == "POST" else 0
    if wait:
        form.is_valid()  # the form shows what was typed, with the refusal on top
        form.add_error(
            None,
            f"Too many subscription attempts from your address: try again in {wait} second"
            f"{'s' if wait != 1 else ''}.",
        )
        response = render(request, "comms/status/subscribe.html", _context(opened, form=form), status=429)
        response["Retry-After"] = str(wait)
        response["Cache-Control"] = "no-store"
        response._csp_config = _csp(page)  # type: ignore[attr-defined]
        return response
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.subscribe(
                    page=page,
                    kind=data["kind"],
                    address=data["email"] if data["kind"] == RecipientKind.EMAIL else data["url"],
                    components=[c for c in components if str(c.pk) in data["components"]],
                    signing_secret=data["signing_secret"] if data["kind"] == RecipientKind.WEBHOOK else "",
                    source=SOURCE,
                )
            except ServiceError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.message)
                status = exc.status
            else:
                context = _context(opened, result=result, kind=data["kind"])
                response = render(request, "comms/status/subscribed.html", context, status=201)
                response["Cache-Control"] = "no-store"
                response._csp_config = _csp(page)  # type: ignore[attr-defined]
                return response
        else:
            status = 400
    response = render(request, "comms/status/subscribe.html", _context(opened, form=form), status=status)
    response["Cache-Control"] = "no-store"
    response._csp_config = _csp(page)  # type: ignore[attr-defined]
    return response


def _token_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return render(request, "comms/status/link_error.html", {"message": exc.message}, status=exc.status)


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_view(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows what the link is for and a button; only the POST confirms (mail scanners follow links)."""
    try:
        sub = services.check_confirm_token(token)
        if sub.page.slug != slug:
            raise Http404("no such subscription")
        if request.method == "POST":
            sub = services.confirm_subscription(token=token, source=SOURCE)
            return render(request, "comms/status/confirmed.html", {"sub": sub, "page": sub.page})
    except ServiceError as exc:
        return _token_error(request, exc)
    return render(request, "comms/status/confirm.html", {"sub": sub, "page": sub.page, "token": token})


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie; the token is the proof
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows a button; the POST (from that button, or a mail client's one-click) unsubscribes."""
    try:
        sub = services.check_unsubscribe_token(token)
        if sub.page.slug != slug:
            raise Http404("no such subscription")
        if request.method == "POST":
            sub = services.unsubscribe(token=token, source=SOURCE)
            return render(request, "comms/status/unsubscribed.html", {"sub": sub, "page": sub.page})
    except ServiceError as exc:
        return _token_error(request, exc)
    return render(request, "comms/status/unsubscribe.html", {"sub": sub, "page": sub.page, "token": token})


# ---------------------------------------------------------------------------------------------------------------
# the fast path: cached public pages served in front of Django


FAST_PATHS = re.compile(r"^/status/(?P<slug>[-a-zA-Z0-9_]+)/(?P<rest>summary\.json)?$")
FAST_TYPES = {"page": "text/html; charset=utf-8", "summary": "application/json"}
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _fixed_headers() -> list[tuple[str, str]]:
    """What Django's security middleware adds to every answer (the parity test compares them)."""
    return [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", settings.SECURE_REFERRER_POLICY),
        ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY),
        ("X-Frame-Options", settings.X_FRAME_OPTIONS),
    ]


def fast_answer(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The answer to a GET of a **public** page or its JSON summary when this process has the page row fresh in
    memory and its rendering in the cache — no database, no middleware; None otherwise (Django answers, and
    fills the memory and the cache for the requests that follow). Same bytes and headers as Django's answer."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
        return None
    found = FAST_PATHS.match(environ.get("PATH_INFO", ""))
    if found is None:
        return None
    page = selectors.remembered_page(found["slug"])
    if page is None or page.visibility != Visibility.PUBLIC:
        return None
    variant = "summary" if found["rest"] else "page"
    hit: Cached | None = cache.get(cache_key(page, "p", variant))
    if hit is None:
        return None
    etag, body, packed = hit
    headers = [("Content-Type", FAST_TYPES[variant])]
    if environ.get("HTTP_IF_NONE_MATCH") == etag:
        status, content = "304 Not Modified", b""
        headers = []
    elif packed and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
        status, content = "200 OK", packed
        headers.append(("Content-Encoding", "gzip"))
    else:
        status, content = "200 OK", body
    headers += [
        ("ETag", etag),
        ("Vary", "Accept-Encoding"),
        ("Cache-Control", "public, no-cache"),
        *(([("Access-Control-Allow-Origin", "*")]) if variant == "summary" else []),
        *_fixed_headers(),
        ("Content-Security-Policy", build_policy(_csp(page))),
        ("X-Request-ID", uuid.uuid4().hex),
        ("Content-Length", str(len(content))),
    ]
    return status, headers, content


class StatusPageFastPath:
    """WSGI: public status pages from the cache (:func:`fast_answer`), everything else to ``app``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/status/"):
            answer = fast_answer(environ)
            if answer is not None:
                status, headers, content = answer
                start_response(status, headers)
                return [content]
        return self.app(environ, start_response)
