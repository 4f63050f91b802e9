"""Shared plumbing of the console views: sign-in, time zone, and turning service errors into pages.

Every console view is wrapped in :func:`console_view`. Inside it:

* :class:`~warroom.lib.errors.NotFound` becomes the 404 page (another team's object looks exactly like a
  missing one);
* any other :class:`~warroom.lib.errors.ServiceError` that a view did not show next to its form becomes an
  error page with the error's status (403 for "you may see this but not change it"), or, for an htmx request,
  an alert swapped into the page's flash area;
* times render in the user's own time zone.

Views that handle a form catch ``ServiceError`` themselves and call :func:`form_error`, which puts the message
next to the field it names and returns the status to answer with (400, 409, ...).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import reselect, retarget
from django_htmx.middleware import HtmxDetails

from warroom.accounts.models import User
from warroom.lib.errors import NotFound, PermissionDenied, ServiceError

SOURCE = "web"


class AuthedRequest(HttpRequest):
    """A request that went through :func:`console_view`: the user is signed in."""

    user: User
    htmx: HtmxDetails


View = Callable[..., HttpResponse]

#: how an htmx request's refusal replaces the page's flash area: in place, scrolled into view
FLASH_SWAP = "outerHTML show:#flash:top"


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def error_response(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """The page (or, for htmx, the alert) that reports a service error nobody showed next to a form."""
    titles = {403: "Not allowed", 409: "Conflict", 400: "Cannot do that"}
    referer = request.headers.get("referer", "")
    back = referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else "/"
    context = {
        "status": exc.status,
        "title": titles.get(exc.status, "Cannot do that"),
        "message": exc.message,
        "back": back,
    }
    if getattr(request, "htmx", False):
        response = render(request, "web/components/flash.html", context, status=exc.status)
        # the flash area is at the top of the page: scroll it into view, or a user scrolled down to the button
        # they clicked sees nothing happen
        response = reselect(retarget(response, "#flash"), "#flash")
        response["HX-Reswap"] = FLASH_SWAP  # django-htmx's reswap() takes no modifiers such as show:
        return response
    return render(request, "web/error.html", context, status=exc.status)


def console_view(view: View) -> View:
    """Require sign-in, render times in the user's zone, and map service errors to pages (never a 500)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)
        with timezone.override(_zone(user)):
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None
            except ServiceError as exc:
                return error_response(request, exc)

    return login_required(wrapper)


def form_error(form: forms.BaseForm, exc: ServiceError) -> int:
    """Show ``exc`` on ``form`` (on its field when the form has one by that name); return the HTTP status.

    A refusal that is about the person rather than the input ("you may view this but not change it") is not a
    form problem: it is raised again so the view answers with the 403 page.
    """
    if isinstance(exc, PermissionDenied) and exc.field not in form.fields:
        raise exc
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
    return exc.status


def invalid_status(form: forms.BaseForm) -> int:
    """Input the form itself refused is a 400."""
    return 400 if form.errors else 200


def query_string(params: dict[str, Any], **overrides: Any) -> str:
    """``params`` with ``overrides`` as a query string, dropping empty values."""
    merged = {**params, **overrides}
    return urlencode({key: value for key, value in merged.items() if value not in (None, "", [])}, doseq=True)


__all__ = ["SOURCE", "AuthedRequest", "console_view", "form_error", "invalid_status", "query_string"]
