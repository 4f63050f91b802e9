"""Acknowledge from the page: ``/ack/<signed token>/``. GET shows what the link would do (link-preview bots and
mail scanners follow GETs, so a GET never changes anything); POST acknowledges, once per link. No sign-in: the
signed, short-lived, single-use token is the credential and names the person.

The POST needs no CSRF token: what CSRF protects is an ambient credential (a session cookie) that a forged
cross-site request would carry, and this view uses none; whoever can post to the link knows the token and so holds
the credential. That lets a push notification's "Acknowledge" button (ntfy's ``http`` action) post it in one tap.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from warroom.lib.errors import ServiceError
from warroom.paging import services


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def ack(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = services.ack_link_target(token)
    except ServiceError as exc:
        return render(request, "paging/ack.html", {"error": exc.message}, status=exc.status)
    if request.method == "GET":
        return render(request, "paging/ack.html", {"target": target, "token": token})
    try:
        incident = services.acknowledge_by_link(token=token, source="email")
    except ServiceError as exc:
        return render(request, "paging/ack.html", {"error": exc.message, "target": target}, status=exc.status)
    return render(request, "paging/ack.html", {"done": True, "target": target, "incident": incident})
