"""Console pages for SLAs: the live clocks panel of an incident (polled by the incident page) and the
compliance report (a page and a CSV download).

Reads go through :mod:`warroom.incidents.sla_selectors` and :mod:`warroom.incidents.selectors` (another team's
incident is a 404; the report only counts incidents the user may see). Dates on the report page are days in
the user's own time zone; the end day is included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from warroom.incidents import selectors, sla_selectors
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.web.console import AuthedRequest, console_view, query_string

PANEL_POLL_SECONDS = 30
DEFAULT_DAYS = 30


def panel_context(incident: Incident, at: datetime) -> dict[str, Any]:
    """What ``incidents/sla/_clocks.html`` needs (the caller has checked the user may see the incident)."""
    return {
        "incident": incident,
        "views": sla_selectors.clock_views(incident, at),
        "poll_seconds": PANEL_POLL_SECONDS,
    }


@console_view
@require_GET
def incident_sla(request: AuthedRequest, ref: str) -> HttpResponse:
    """The clocks panel alone: the incident page polls it."""
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    return render(request, "incidents/sla/_clocks.html", panel_context(incident, clock.now()))


class ReportForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        required=False, label="To (included)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            try:  # far-off days would overflow the calendar while working out the period
                sla_selectors.check_report_bound(day, name)
            except ValidationFailed as exc:
                self.add_error(name, str(exc))
        if self.errors:
            return data
        if start and end and start > end:
            self.add_error("start", "the first day must not be after the last")
        return data


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def _period(form: ReportForm, now: datetime) -> tuple[date, date]:
    today = timezone.localtime(now).date()
    data = form.cleaned_data if form.is_valid() else {}
    end = data.get("end") or today
    start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


def _report(request: AuthedRequest) -> tuple[ReportForm, sla_selectors.ComplianceReport, date, date]:
    form = ReportForm(request.GET)
    now = clock.now()
    first, last = _period(form, now)
    start, end = sla_selectors.report_period(_midnight(first), _midnight(last + timedelta(days=1)), now)
    report = sla_selectors.compliance_report(request.user, start=start, end=end, at=now)
    if not form.errors:  # show the days the report covers, defaults included
        form = ReportForm(initial={"start": first, "end": last})
    return form, report, first, last


@console_view
@require_GET
def sla_report(request: AuthedRequest) -> HttpResponse:
    """Compliance by priority, team and service for the incidents opened in a period (default: 30 days)."""
    form, report, first, last = _report(request)
    params = {"start": first.isoformat(), "end": last.isoformat()}
    context = {
        "form": form,
        "report": report,
        "first": first,
        "last": last,
        "csv_query": query_string(params),
    }
    return render(request, "incidents/sla/report.html", context, status=400 if form.errors else 200)


@console_view
@require_GET
def sla_report_csv(request: AuthedRequest) -> HttpResponse:
    _form, report, _first, _last = _report(request)
    response = HttpResponse(sla_selectors.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sla_selectors.report_filename(report)}"'
    return response
