"""Refuse a request whose path or query string holds a NUL character, before any view sees it.

PostgreSQL cannot store or even compare a text with NUL in it (psycopg raises before the query is sent), so a
``%00`` in a slug or a filter would otherwise end as a 500 wherever the value reaches a query. Bodies are the
parsers' business (the API's and the intake's refuse ``\\u0000`` with a reason; Django's form fields refuse NUL)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

INTAKE_PREFIXES = ("/v2/", "/integrations/")


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(
            INTAKE_PREFIXES
        ):  # the intake views check their own input: the intake fast
            return self.get_response(request)  # path serves them without any middleware, answering the same
        where = _nul_in(request)
        if where:
            message = f"the {where} contains a NUL character (%00)"
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "invalid", "errors": []}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _nul_in(request: HttpRequest) -> str:
    if "\x00" in request.path:
        return "path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return f"query parameter {name.replace(chr(0), '')!r}"
    return ""
