"""Console pages that belong to no single domain: sign in and out, the home redirect, the priority matrix."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_http_methods

from warroom.accounts.forms import SignInForm
from warroom.incidents import selectors as incidents
from warroom.incidents import services as incident_services
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.lib.errors import PermissionDenied, ServiceError
from warroom.web.console import SOURCE, AuthedRequest, console_view


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm  # says how long to wait while the sign-in throttle holds


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires)."""


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
