"""Request bodies sent ``Transfer-Encoding: chunked``, without a ``Content-Length`` (``curl -T -``, Go's client and
httpx for a body of unknown size). Django reads only as many bytes as ``Content-Length`` says, so none of such a
body; the WSGI server has undone the chunking, and the body is read from its input stream to the end."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


def is_chunked(request: HttpRequest) -> bool:
    """Whether the body comes in chunks with no ``Content-Length``."""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH")


def read_chunked(request: HttpRequest, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of a chunked body (one more than allowed: the caller tells "too large")."""
    stream = request.META["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class ChunkedBodyMiddleware:
    """The REST API reads a chunked body like any other (it saw none, and answered "body: Field required"): the
    body is read here, up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (over it: the API's 413), and handed to Django as the
    request's body. The intake views read theirs themselves (their fast path has no middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and is_chunked(request):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
            body = read_chunked(request, limit)
            if len(body) > limit:
                detail = f"request body too large (limit {limit // (1024 * 1024)} MB)"
                return JsonResponse({"detail": detail, "code": "too_large", "errors": []}, status=413)
            request._body = body  # what HttpRequest.body returns from now on
        return self.get_response(request)
