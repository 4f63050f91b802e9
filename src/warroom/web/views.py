"""Console pages that belong to no single domain: sign in and out, the home redirect, the priority matrix."""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from joserfc.errors import JoseError

from warroom.accounts import sso
from warroom.accounts.forms import SignInForm
from warroom.incidents import selectors as incidents
from warroom.incidents import services as incident_services
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.lib.errors import PermissionDenied, ServiceError
from warroom.web.console import SOURCE, AuthedRequest, console_view

log = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm  # says how long to wait while the sign-in throttle holds

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso"] = sso.config() if sso.enabled() else None
        return context


#: where the sign-in through the identity provider goes after the callback, kept in the session meanwhile
SSO_NEXT = "warroom_sso_next"
SSO_ID_TOKEN = "warroom_sso_id_token"  # the ID token of a single sign-on, for signing out at the provider


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _sso_refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The sign-in page again, saying why the sign-in through the provider did not work."""
    context = {
        "form": SignInForm(request),
        "next": request.session.get(SSO_NEXT, ""),
        "sso": sso.config() if sso.enabled() else None,
        "sso_error": message,
    }
    return render(request, "web/login.html", context, status=status)


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the identity provider (authorization code flow with PKCE, state and nonce)."""
    if not sso.enabled():
        return _sso_refused(request, "Single sign-on is not set up on this server.", status=404)
    request.session[SSO_NEXT] = _safe_next(request, request.GET.get("next"))
    callback = settings.WARROOM_BASE_URL + reverse("web:login-sso-callback")
    try:
        response: HttpResponse = sso.client().authorize_redirect(request, callback)
    except (requests.RequestException, ValueError, KeyError) as exc:
        log.warning("sso: the identity provider's discovery document could not be read: %s", exc)
        return _sso_refused(
            request,
            f"The identity provider ({sso.config().issuer}) did not answer. Try again, or sign in with your "
            "password.",
            status=502,
        )
    return response


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code; exchange it, verify the ID token, sign in."""
    if not sso.enabled():
        return _sso_refused(request, "Single sign-on is not set up on this server.", status=404)
    provider = sso.client()
    try:
        token = provider.authorize_access_token(request)
    except MismatchingStateError:
        return _sso_refused(
            request,
            "This sign-in has expired or was already used. Start again with the button below.",
            status=400,
        )
    except AuthlibBaseError as exc:
        reason = getattr(exc, "description", None) or getattr(exc, "error", None) or str(exc)
        return _sso_refused(request, f"The identity provider did not sign you in: {reason}.", status=400)
    except JoseError as exc:
        log.warning("sso: an ID token failed verification: %s", exc)
        return _sso_refused(
            request,
            f"The identity provider's answer could not be verified: {exc.description or exc.error}.",
            status=400,
        )
    except (requests.RequestException, ValueError, KeyError) as exc:
        log.warning("sso: the identity provider's token endpoint failed: %s", exc)
        return _sso_refused(
            request,
            "The identity provider did not answer properly. Try again, or sign in with your password.",
            status=502,
        )
    claims = sso.claims_of(token)
    if not claims:
        return _sso_refused(
            request, "The identity provider sent no ID token (is the openid scope allowed?).", status=400
        )
    try:
        user = sso.user_for(claims, issuer=str(claims.get("iss") or sso.config().issuer))
    except sso.SignInRefused as exc:
        return _sso_refused(request, str(exc), status=403)
    target = request.session.pop(SSO_NEXT, None)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    # kept for signing out at the provider too (WARROOM_OIDC_END_SESSION): its id_token_hint
    request.session[SSO_ID_TOKEN] = str(token.get("id_token") or "")
    return redirect(_safe_next(request, target))


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires). After a single sign-on with ``WARROOM_OIDC_END_SESSION`` on, the
    browser goes on to the provider to end its session there, and comes back to the sign-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = str(request.session.get(SSO_ID_TOKEN) or "")
        response: HttpResponse = super().post(request, *args, **kwargs)
        if id_token and sso.enabled() and sso.config().end_session:
            back_to = settings.WARROOM_BASE_URL + reverse("web:login")
            url = sso.end_session_url(id_token, back_to=back_to)
            if url:
                return redirect(url)
        return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for ``/favicon.ico`` whatever the page's ``<link rel="icon">`` says: send them to the icon
    rather than answer 404 (a console error on every page, and a line in the server's log)."""
    return redirect(static("web/favicon.svg"), permanent=True)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:incident-list")


class MatrixForm(forms.Form):
    """One select per cell of the matrix: ``cell_<impact>_<urgency>``."""

    def __init__(self, *args: Any, matrix: dict[tuple[int, int], int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for (impact, urgency), priority in sorted(matrix.items()):
            self.fields[f"cell_{impact}_{urgency}"] = forms.TypedChoiceField(
                choices=Priority.choices,
                coerce=int,
                initial=priority,
                label=f"Impact {Impact(impact).label} × urgency {Urgency(urgency).label}",
            )


def _matrix_rows(form: MatrixForm, matrix: dict[tuple[int, int], int]) -> list[dict[str, Any]]:
    return [
        {
            "impact": impact,
            "cells": [
                {
                    "urgency": urgency,
                    "priority": matrix[(impact, urgency)],
                    "field": form[f"cell_{impact}_{urgency}"],
                }
                for urgency in Urgency
            ],
        }
        for impact in Impact
    ]


@console_view
@require_http_methods(["GET", "POST"])
def priority_matrix(request: AuthedRequest) -> HttpResponse:
    """Everyone reads the matrix; organisation admins change its cells (existing incidents keep theirs)."""
    if request.method == "POST" and not request.user.is_org_admin:
        raise PermissionDenied("only organisation admins edit the priority matrix")
    matrix = incidents.priority_matrix()
    form = MatrixForm(request.POST or None, matrix=matrix)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            changed = 0
            try:
                for (impact, urgency), current in sorted(matrix.items()):
                    wanted = form.cleaned_data[f"cell_{impact}_{urgency}"]
                    if wanted != current:
                        incident_services.set_priority_rule(
                            impact=impact, urgency=urgency, priority=wanted, actor=request.user, source=SOURCE
                        )
                        changed += 1
            except ServiceError as exc:
                if exc.status == 403:
                    raise
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request, f"Priority matrix saved ({changed} cell{'s' if changed != 1 else ''} changed)."
                )
                return redirect("web:priority-matrix")
    context = {
        "form": form,
        "rows": _matrix_rows(form, matrix),
        "urgencies": list(Urgency),
        "priorities": list(Priority),
        "can_edit": request.user.is_org_admin,
    }
    return render(request, "web/priority_matrix.html", context, status=status)
