"""REST routes of the reports: the same figures as the reports page (``/reports/``), one route per report, and
each table as CSV.

Filters (query string): ``start`` and ``end`` (ISO dates, UTC days, both included; default the 90 days up to
today), ``team`` and ``service`` (slug or id), ``priority`` (1-5), ``bucket`` (``week`` or ``month``; default
by the period's length). A period that runs backwards or is longer than three years is a 400 naming ``start``;
an unknown priority or bucket, a number for a date, or a team or service you may not see (or that does not exist)
a 400 naming it; a malformed value a 422 naming the field. Durations are in
seconds, percentages are numbers from 0 to 100; a mean over nothing is null.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from warroom.accounts.schemas import caller
from warroom.analytics import filters, present
from warroom.lib import clock
from warroom.lib.apitypes import IsoDate, QueryPriority
from warroom.lib.errors import NotFound, ValidationFailed

router = Router(tags=["reports"])


# ---------------------------------------------------------------------------------------------------------------
# schemas


class AnalyticsQuery(Schema):
    start: IsoDate | None = Field(
        None, description="First day (UTC) of incidents opened. Default: 89 days before end."
    )
    end: IsoDate | None = Field(None, description="Last day (UTC), included. Default: today.")
    team: str | None = Field(None, description="Only this team's incidents (slug or id).")
    service: str | None = Field(None, description="Only incidents on this service (slug or id).")
    priority: QueryPriority | None = Field(None, description="Only this priority, 1 (Critical) to 5.")
    bucket: Literal["week", "month"] | None = Field(
        None, description="Trend buckets; default week up to 184 days, month beyond."
    )


class FiltersOut(Schema):
    start: date
    end: date = Field(description="Included.")
    team: str | None
    service: str | None
    priority: int | None
    bucket: str


class MeanOut(Schema):
    count: int = Field(description="Incidents the mean is over.")
    seconds: float | None


class ResponseRowOut(Schema):
    key: str
    label: str
    incidents: int
    mtta: MeanOut
    unacknowledged: int
    mttr: MeanOut
    unresolved: int
    ttd: MeanOut = Field(
        description="Time to detect: the first alert's start (its source's startsAt or timestamp, else when"
        " Warroom first saw it) → incident opened."
    )
    not_alert_detected: int


class ResponseReportOut(Schema):
    filters: FiltersOut
    cancelled: int = Field(description="Cancelled incidents in scope; they count in no other figure.")
    total: ResponseRowOut
    by_priority: list[ResponseRowOut]
    by_team: list[ResponseRowOut]
    trend: list[ResponseRowOut] = Field(description="One row per bucket; key is its first day.")


class SeriesOut(Schema):
    key: str
    label: str
    total: int
    counts: list[int] = Field(description="Incidents per bucket, in the order of `buckets`.")


class BreakdownOut(Schema):
    dimension: str
    series: list[SeriesOut]


class VolumeReportOut(Schema):
    filters: FiltersOut
    buckets: list[date]
    total: int
    cancelled: int
    per_bucket: list[int]
    breakdowns: list[BreakdownOut]


class ServiceRowOut(Schema):
    key: str
    label: str
    team: str
    incidents: int
    first_at: datetime | None
    last_at: datetime | None
    mtbf_seconds: float | None = Field(description="(last opening − first opening) ÷ (incidents − 1).")
    mttr: MeanOut


class ReliabilityReportOut(Schema):
    filters: FiltersOut
    services: list[ServiceRowOut]


class ComplianceTallyOut(Schema):
    met: int
    breached: int
    in_progress: int
    compliance: float | None


class SlaRowOut(Schema):
    key: str
    label: str
    response: ComplianceTallyOut
    resolution: ComplianceTallyOut


class ComplianceReportOut(Schema):
    filters: FiltersOut
    at: datetime
    total: SlaRowOut
    by_priority: list[SlaRowOut]
    by_team: list[SlaRowOut]


class NoiseTotalsOut(Schema):
    alerts: int
    triggers: int
    suppressed: int
    on_incidents: int
    incidents: int
    alerts_per_incident: float | None
    unacted: int
    unacted_percent: float | None
    flapping_keys: int
    flapping_alerts: int


class IntegrationRowOut(Schema):
    id: int
    name: str
    service: str
    kind: str
    alerts: int
    share_percent: float | None
    unacted: int
    flapping_keys: int


class FlappingKeyOut(Schema):
    integration_id: int
    integration: str
    service: str
    dedup_key: str
    alerts: int
    flaps: int
    first_at: datetime
    last_at: datetime


class NoiseReportOut(Schema):
    filters: FiltersOut
    totals: NoiseTotalsOut
    integrations: list[IntegrationRowOut]
    flapping: list[FlappingKeyOut]


class PersonRowOut(Schema):
    user_id: int
    name: str
    pages: int
    unreachable: int
    outside_hours: int | None = Field(description="Null when the person set no working hours.")
    night: int
    time_zone: str
    working_hours: str


class OncallReportOut(Schema):
    filters: FiltersOut
    pages: int
    unreachable: int
    outside_hours: int
    night: int
    people: list[PersonRowOut]


class PostmortemRowOut(Schema):
    key: str
    label: str
    incidents: int
    published: int
    in_review: int
    draft: int
    missing: int
    completion_percent: float | None


class ActionRowOut(Schema):
    key: str
    label: str
    total: int
    done: int
    wont_do: int
    open: int
    overdue: int
    done_on_time: int
    completion_percent: float | None


class ReviewsReportOut(Schema):
    filters: FiltersOut
    priorities: list[int]
    postmortems: list[PostmortemRowOut]
    postmortems_total: PostmortemRowOut
    actions: list[ActionRowOut]
    actions_total: ActionRowOut


# ---------------------------------------------------------------------------------------------------------------
# rendering


def filters_json(flt: filters.Filters) -> dict[str, Any]:
    return {
        "start": flt.first,
        "end": flt.last,
        "team": flt.team.slug if flt.team else None,
        "service": flt.service.slug if flt.service else None,
        "priority": flt.priority,
        "bucket": flt.bucket,
    }


def _build(request: HttpRequest, key: str, query: AnalyticsQuery) -> present.Report:
    user = caller(request)
    now = clock.now()
    try:
        flt = filters.resolve(user, today=now.date(), **query.dict())
    except NotFound as exc:  # a team or service the caller cannot see: a filter's value, so a 400 naming it
        raise ValidationFailed(exc.message, field=exc.field) from None
    _title, builder = present.REPORTS[key]
    return builder(user, flt, now)


def _json(request: HttpRequest, key: str, query: AnalyticsQuery) -> dict[str, Any]:
    data = _build(request, key, query).data
    out = {f.name: getattr(data, f.name) for f in fields(data) if f.name != "filters"}
    out["filters"] = filters_json(data.filters)
    return out


# ---------------------------------------------------------------------------------------------------------------
# routes


@router.get("/reports/response", response=ResponseReportOut, summary="MTTA, MTTR and time to detect")
def response_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """Of the incidents opened in the period (cancelled ones aside): overall, by priority, by team, per bucket."""
    return _json(request, "response", query)


@router.get("/reports/volume", response=VolumeReportOut, summary="Incidents over time")
def volume_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """Incidents opened per bucket by priority, team, category and service."""
    return _json(request, "volume", query)


@router.get("/reports/reliability", response=ReliabilityReportOut, summary="Mean time between failures")
def reliability_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """Per service: incidents, MTBF (opening to opening) and MTTR."""
    return _json(request, "reliability", query)


@router.get("/reports/compliance", response=ComplianceReportOut, summary="SLA compliance")
def compliance_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """The SLA clocks of the incidents opened in the period, as of now, by priority and team."""
    return _json(request, "compliance", query)


@router.get("/reports/noise", response=NoiseReportOut, summary="Alert noise")
def noise_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """Alerts first seen in the period: per incident, noisiest integrations, resolved unacted, flapping keys."""
    return _json(request, "noise", query)


@router.get("/reports/oncall", response=OncallReportOut, summary="On-call load")
def oncall_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """Pages sent in the period per person: outside their working hours, at night in their time zone."""
    return _json(request, "oncall", query)


@router.get("/reports/reviews", response=ReviewsReportOut, summary="Postmortem and action item completion")
def reviews_report(request: HttpRequest, query: Query[AnalyticsQuery]) -> dict[str, Any]:
    """For resolved P1/P2 incidents (or the filter's priority) opened in the period."""
    return _json(request, "reviews", query)


@router.get("/reports/{key}/{table}.csv", summary="One table of a report as CSV")
def report_csv(request: HttpRequest, key: str, table: str, query: Query[AnalyticsQuery]) -> HttpResponse:
    """The tables of each report are those of the page: response (trend, priority, team), volume (priority,
    team, category, service), reliability (service), compliance (priority, team), noise (integrations,
    flapping), oncall (people), reviews (postmortems, actions)."""
    if key not in present.REPORTS:
        raise NotFound(f"no report {key!r}; reports are {', '.join(present.REPORTS)}", field="key")
    built = _build(request, key, query)
    found = built.table(table)
    if found is None:
        names = ", ".join(t.key for t in built.tables)
        raise NotFound(f"report {key!r} has no table {table!r}; it has {names}", field="table")
    response = HttpResponse(present.table_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{present.csv_filename(built, found)}"'
    return response
