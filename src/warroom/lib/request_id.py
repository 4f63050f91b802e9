"""A request id for every web request, echoed in ``X-Request-ID`` and recorded on audit rows."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_local = threading.local()
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> str:
    """Return the id of the request being served on this thread, or "" outside a request."""
    return getattr(_local, "request_id", "")


class RequestIdMiddleware:
    """Take a well-formed incoming ``X-Request-ID`` or make one; expose it to the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        _local.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            _local.request_id = ""
        response["X-Request-ID"] = request_id
        return response
