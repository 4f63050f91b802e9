"""The reports page (``/reports/`` and one tab per report) and the CSV download of each of its tables.

Reads only, through :mod:`warroom.analytics.selectors` (which scopes them to the user's teams). Bad filters are
a 400 with the message next to the field; a team or service the user may not see a 404, like any other team's
object.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from warroom.accounts import selectors as accounts
from warroom.analytics import filters, present
from warroom.catalog import selectors as catalog
from warroom.incidents.priority import Priority
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.web.console import AuthedRequest, console_view, form_error, query_string


class FiltersForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        required=False, label="To (included)", widget=forms.DateInput(attrs={"type": "date"})
    )
    # Team and service take any text: the selector decides, and another team's is a 404, not a form error.
    team = forms.CharField(required=False, label="Team", widget=forms.Select)
    service = forms.CharField(required=False, label="Service", widget=forms.Select)
    priority = forms.TypedChoiceField(
        required=False,
        label="Priority",
        coerce=int,
        empty_value=None,
        choices=[("", "All priorities"), *[(p.value, p.label) for p in Priority]],
    )
    bucket = forms.ChoiceField(
        required=False,
        label="Per",
        choices=[("", "Automatic"), ("week", "Week"), ("month", "Month")],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = accounts.visible_teams(user).order_by("name")
        services = catalog.visible_services(user).order_by("name")
        self.fields["team"].widget.choices = [("", "All teams"), *[(t.slug, t.name) for t in teams]]
        self.fields["service"].widget.choices = [("", "All services"), *[(s.slug, s.name) for s in services]]


def _filters(request: AuthedRequest) -> tuple[FiltersForm, filters.Filters | None]:
    form = FiltersForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    try:
        flt = filters.resolve(
            request.user,
            today=clock.now().date(),
            start=data.get("start"),
            end=data.get("end"),
            team=data.get("team") or None,
            service=data.get("service") or None,
            priority=data.get("priority"),
            bucket=data.get("bucket") or None,
        )
    except ValidationFailed as exc:
        form_error(form, exc)
        return form, None
    return form, flt


def _build(request: AuthedRequest, key: str) -> tuple[FiltersForm, present.Report | None]:
    if key not in present.REPORTS:
        raise Http404(f"no report {key!r}")
    form, flt = _filters(request)
    if flt is None:
        return form, None
    _title, builder = present.REPORTS[key]
    return form, builder(request.user, flt, clock.now())


@console_view
@require_GET
def report(request: AuthedRequest, key: str = "response") -> HttpResponse:
    """One report's tab: figures, charts and tables for the filters in the query string."""
    form, built = _build(request, key)
    params: dict[str, Any] = built.filters.params() if built else {}
    if built is not None:  # show the period the report covers, defaults included
        initial = {k: v for k, v in params.items() if v is not None}
        if not request.GET.get("bucket"):
            initial["bucket"] = ""
        form = FiltersForm(initial=initial, user=request.user)
    context = {
        "form": form,
        "report": built,
        "key": key,
        "tabs": [(k, title) for k, (title, _b) in present.REPORTS.items()],
        "query": query_string(params) if built else query_string(dict(request.GET.items())),
    }
    return render(request, "analytics/report.html", context, status=200 if built else 400)


@console_view
@require_GET
def report_csv(request: AuthedRequest, key: str, table: str) -> HttpResponse:
    """One table of a report as CSV (durations in seconds, percentages as plain numbers)."""
    form, built = _build(request, key)
    if built is None:
        message = "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    found = built.table(table)
    if found is None:
        raise Http404(f"report {key!r} has no table {table!r}")
    response = HttpResponse(present.table_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{present.csv_filename(built, found)}"'
    return response
