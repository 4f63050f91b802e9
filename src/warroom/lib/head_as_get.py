"""``HEAD`` on the REST API answers as ``GET`` would, without the body (RFC 9110 §9.3.2).

django-ninja routes methods one by one and answers ``HEAD`` with a 405, so a monitoring probe or a client that
checks a resource with ``HEAD`` was told the method is not allowed on a URL it may ``GET``. The request runs as a
``GET`` (so a read-only token may make it, and nothing is changed), and the answer keeps the ``GET``'s status and
headers, ``Content-Length`` included, with an empty body. The console's views are Django's, which answer ``HEAD``
themselves."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

API_PREFIX = "/api/v1/"


class HeadAsGetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request.method = "GET"
        response = self.get_response(request)
        if isinstance(
            response, StreamingHttpResponse
        ):  # a CSV export: its length is not known without reading it
            response.streaming_content = []
        else:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
