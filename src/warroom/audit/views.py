"""The console's audit log page (``/settings/audit/``) and its CSV download, for organisation admins (every row)
and team admins (their teams' rows; anyone else gets the 403 page). The filters are those of ``GET /api/v1/audit``; times are entered in the user's own
time zone. A bad filter is a 400 with the message next to the field; the CSV download answers it as plain
text."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from warroom.audit import export, selectors
from warroom.audit.models import Source
from warroom.lib.errors import ValidationFailed
from warroom.web.console import AuthedRequest, console_view, form_error, query_string

PAGE_SIZE = 50
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _time_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=selectors.TEXT_MAX, label="Actor (email or id)")
    action = forms.CharField(required=False, max_length=64, label="Action starts with")
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Source.choices], label="Source")
    object_type = forms.CharField(required=False, max_length=64, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    since = _time_field("From (your time)")
    before = _time_field("Before (your time)")


def _filter(request: AuthedRequest) -> tuple[AuditFilterForm, selectors.AuditFilter | None]:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    try:
        return form, selectors.make_filter(**form.cleaned_data)
    except ValidationFailed as exc:
        form_error(form, exc)
        return form, None


@console_view
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The audit log, newest first, 50 rows a page, with filters and a CSV download of what they match."""
    selectors.require_reader(request.user)
    form, flt = _filter(request)
    params: dict[str, Any] = {k: v for k, v in request.GET.items() if k != "page" and k in form.fields}
    context: dict[str, Any] = {"form": form, "query": query_string(params), "export_max": export.EXPORT_MAX}
    if flt is None:
        return render(request, "audit/audit_log.html", context, status=400)
    rows = selectors.filter_events(request.user, flt).select_related("team")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        page=page,
        filtered=bool(flt.params()),
        qs_prev=query_string(params, page=page.previous_page_number()) if page.has_previous() else "",
        qs_next=query_string(params, page=page.next_page_number()) if page.has_next() else "",
    )
    return render(request, "audit/audit_log.html", context)


@console_view
@require_GET
def audit_export(request: AuthedRequest) -> HttpResponse:
    """What the page's filters match, as CSV (see :mod:`warroom.audit.export`)."""
    selectors.require_reader(request.user)
    form, flt = _filter(request)
    if flt is None:
        message = "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return export.csv_response(selectors.filter_events(request.user, flt))  # type: ignore[return-value]
