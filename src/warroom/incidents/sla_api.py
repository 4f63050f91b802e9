"""REST routes for SLAs: business calendars and SLA definitions (everyone signed in reads what they may see;
organisation admins write), the clocks of an incident, and the compliance report (JSON and CSV).

Another team's incident or team-scoped definition is a 404; a write by someone who may see the object but is
not an organisation admin is a 403; input a service refuses is a 400 naming the field; a clash with an
existing object is a 409.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import WithJsonSchema

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.accounts.schemas import Page, Paging, caller, lookup, paginate, source_of
from warroom.catalog import selectors as catalog
from warroom.incidents import selectors, sla_selectors, sla_services
from warroom.incidents.models import BusinessCalendar, SlaDefinition
from warroom.incidents.priority import Priority
from warroom.incidents.schemas import Ref
from warroom.incidents.sla_selectors import ClockView, ComplianceReport, ReportRow, Tally
from warroom.lib import clock, instants
from warroom.lib.apitypes import IsoDateTime, QueryPriority
from warroom.lib.errors import ValidationFailed
from warroom.lib.schema import InputSchema

router = Router(tags=["sla"])


# ---------------------------------------------------------------------------------------------------------------
# schemas


class CalendarIn(InputSchema):
    name: str
    time_zone: str = Field("UTC", description="IANA zone, e.g. Europe/London.")
    working_hours: dict[str, Any] | None = Field(
        None,
        description='Local [start, end] pairs per weekday, e.g. {"mon": [["09:00", "17:00"]], ..., "sun": []}; '
        "default Monday to Friday 09:00-17:00. 24:00 ends a day.",
    )
    holiday_country: str = Field("", description="ISO 3166 code whose public holidays do not count, e.g. GB.")
    holiday_subdivision: str = Field("", description="Optional subdivision, e.g. ENG or a US state.")
    custom_holidays: list[Any] = Field(default_factory=list, description="Extra dates YYYY-MM-DD.")


class CalendarPatch(InputSchema):
    name: str | None = None
    time_zone: str | None = None
    working_hours: dict[str, Any] | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    custom_holidays: list[Any] | None = None


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    working_hours: dict[str, list[list[str]]]
    holiday_country: str
    holiday_subdivision: str
    custom_holidays: list[str]
    created_at: datetime
    updated_at: datetime


class DefinitionIn(InputSchema):
    name: str
    priority: int = Field(description="1 (Critical) to 5 (Planning).")
    service: Ref | None = Field(None, description="Only incidents on this service (slug or id).")
    team: Ref | None = Field(None, description="Only incidents of this assignment group (slug or id).")
    response_minutes: int | None = Field(None, description="Business minutes to the first acknowledgement.")
    resolution_minutes: int | None = Field(None, description="Business minutes to resolution.")
    calendar: Ref | None = Field(None, description="Business calendar (id or name); none: around the clock.")
    pause_on: list[str] | None = Field(None, description="Hold reasons that pause the clocks; default all.")
    warning_thresholds: list[int] | None = Field(None, description="Percentages; default [50, 75, 90].")
    is_active: bool = True


class DefinitionPatch(InputSchema):
    """Only the fields sent change; send ``null`` to clear service, team, calendar or a target."""

    name: str | None = None
    priority: int | None = None
    service: Ref | None = None
    team: Ref | None = None
    response_minutes: int | None = None
    resolution_minutes: int | None = None
    calendar: Ref | None = None
    pause_on: list[str] | None = None
    warning_thresholds: list[int] | None = None
    is_active: bool | None = None


class NamedRef(Schema):
    id: int
    name: str


class SlugRef(NamedRef):
    slug: str


class DefinitionOut(Schema):
    id: int
    name: str
    priority: int
    priority_label: str
    scope: str = Field(description="service, team or all")
    service: SlugRef | None
    team: SlugRef | None
    response_minutes: int | None
    resolution_minutes: int | None
    calendar: NamedRef | None = Field(description="None: around the clock (24×7).")
    pause_on: list[str]
    warning_thresholds: list[int]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class DefinitionQuery(Paging):
    priority: QueryPriority | None = None
    active: bool | None = None


class ClockOut(Schema):
    id: int
    kind: str
    state: str
    status: str = Field(description="running, warning, paused, breached, met or cancelled, as of `at`.")
    name: str
    priority: int
    calendar: NamedRef | None
    target_seconds: int
    elapsed_seconds: int = Field(description="Business seconds used as of `at`.")
    remaining_seconds: int = Field(description="Negative once past the target.")
    percent: int
    started_at: datetime
    running_since: datetime | None
    paused_since: datetime | None
    due_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    stop_reason: str
    warnings_sent: list[int]
    thresholds: list[int]
    pause_on: list[str]


class ClocksOut(Schema):
    incident: str
    at: datetime
    clocks: list[ClockOut]


#: a report bound: an ISO 8601 date-time, or a date alone (its midnight; both UTC when naive)
ReportBound = Annotated[
    IsoDateTime,
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]


class ReportQuery(Schema):
    start: ReportBound | None = Field(
        None, description="Incidents opened from (ISO date or datetime; naive is UTC). Default: 30 days ago."
    )
    end: ReportBound | None = Field(None, description="Incidents opened before. Default: now.")


class TallyOut(Schema):
    met: int
    breached: int
    in_progress: int
    compliance: float | None = Field(description="Met ÷ (met + breached) in percent; null when none decided.")


class ReportRowOut(Schema):
    key: str
    label: str
    response: TallyOut
    resolution: TallyOut


class ReportOut(Schema):
    start: datetime
    end: datetime
    at: datetime
    total: ReportRowOut
    by_priority: list[ReportRowOut]
    by_team: list[ReportRowOut]
    by_service: list[ReportRowOut]


# ---------------------------------------------------------------------------------------------------------------
# rendering


def calendar_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "working_hours": calendar.working_hours,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "custom_holidays": calendar.custom_holidays,
        "created_at": calendar.created_at,
        "updated_at": calendar.updated_at,
    }


def _named(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def _slugged(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": obj.name, "slug": obj.slug} if obj is not None else None


def definition_json(definition: SlaDefinition) -> dict[str, Any]:
    return {
        "id": definition.pk,
        "name": definition.name,
        "priority": definition.priority,
        "priority_label": Priority(definition.priority).label,
        "scope": definition.scope,
        "service": _slugged(definition.service),
        "team": _slugged(definition.team),
        "response_minutes": definition.response_minutes,
        "resolution_minutes": definition.resolution_minutes,
        "calendar": _named(definition.calendar),
        "pause_on": definition.pause_on,
        "warning_thresholds": definition.warning_thresholds,
        "is_active": definition.is_active,
        "created_at": definition.created_at,
        "updated_at": definition.updated_at,
    }


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())


def clock_json(view: ClockView) -> dict[str, Any]:
    row = view.clock
    return {
        "id": row.pk,
        "kind": row.kind,
        "state": row.state,
        "status": view.status,
        "name": row.name,
        "priority": row.priority,
        "calendar": _named(row.calendar),
        "target_seconds": _seconds(row.target),
        "elapsed_seconds": _seconds(view.elapsed),
        "remaining_seconds": _seconds(view.remaining),
        "percent": view.percent,
        "started_at": row.started_at,
        "running_since": row.running_since,
        "paused_since": row.paused_since,
        "due_at": row.due_at,
        "breached_at": row.breached_at,
        "stopped_at": row.stopped_at,
        "stop_reason": row.stop_reason,
        "warnings_sent": row.warnings_sent,
        "thresholds": row.thresholds,
        "pause_on": row.pause_on,
    }


def _tally_json(tally: Tally) -> dict[str, Any]:
    return {
        "met": tally.met,
        "breached": tally.breached,
        "in_progress": tally.in_progress,
        "compliance": tally.compliance,
    }


def _row_json(row: ReportRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "response": _tally_json(row.response),
        "resolution": _tally_json(row.resolution),
    }


def report_json(report: ComplianceReport) -> dict[str, Any]:
    return {
        "start": report.start,
        "end": report.end,
        "at": report.at,
        "total": _row_json(report.total),
        "by_priority": [_row_json(r) for r in report.by_priority],
        "by_team": [_row_json(r) for r in report.by_team],
        "by_service": [_row_json(r) for r in report.by_service],
    }


# ---------------------------------------------------------------------------------------------------------------
# references


def _calendar_ref(key: Ref) -> BusinessCalendar:
    text = str(key).strip()
    for calendar in sla_selectors.calendars():
        if str(calendar.pk) == text or calendar.name.lower() == text.lower():
            return calendar
    raise ValidationFailed(f"calendar: business calendar {key!r} not found", field="calendar")


def _references(user: User, sent: dict[str, Any]) -> dict[str, Any]:
    """Body references (service, team, calendar) resolved to objects; unknown → 400 naming the field."""
    values = dict(sent)
    if values.get("service") is not None:
        values["service"] = lookup(
            "service", partial(catalog.get_service_for_user_or_404, user, key=values["service"])
        )
    if values.get("team") is not None:
        values["team"] = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=values["team"]))
    if values.get("calendar") is not None:
        values["calendar"] = _calendar_ref(values["calendar"])
    return values


def _instant(value: datetime | date | None, *, field: str) -> datetime | None:
    """A report bound in UTC: a date is its midnight UTC, a naive time is UTC; outside the report's documented
    range (:func:`~warroom.incidents.sla_selectors.check_report_bound`) → 400 naming ``field``."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=UTC)
    return instants.assume_utc(
        value, field=field, earliest=sla_selectors.REPORT_EARLIEST, latest=sla_selectors.REPORT_LATEST
    )


def _report(request: HttpRequest, query: ReportQuery) -> ComplianceReport:
    user = caller(request)
    now = clock.now()
    start, end = sla_selectors.report_period(
        _instant(query.start, field="start"), _instant(query.end, field="end"), now
    )
    return sla_selectors.compliance_report(user, start=start, end=end, at=now)


# ---------------------------------------------------------------------------------------------------------------
# calendars


@router.get("/sla/calendars", response=Page[CalendarOut], summary="List business calendars")
def list_calendars(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    caller(request)
    return paginate(sla_selectors.calendars(), paging, calendar_json)


@router.post("/sla/calendars", response={201: CalendarOut}, summary="Create a business calendar")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status[dict[str, Any]]:
    """Organisation admins only."""
    user = caller(request)
    sla_services.check_can_configure(user)
    calendar = sla_services.create_calendar(actor=user, source=source_of(request), **payload.dict())
    return Status(201, calendar_json(calendar))


@router.get("/sla/calendars/{calendar_id}", response=CalendarOut, summary="Read a business calendar")
def get_calendar(request: HttpRequest, calendar_id: int) -> dict[str, Any]:
    caller(request)
    return calendar_json(sla_selectors.get_calendar_or_404(calendar_id))


@router.patch("/sla/calendars/{calendar_id}", response=CalendarOut, summary="Change a business calendar")
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarPatch) -> dict[str, Any]:
    """Organisation admins only. Running clocks on the calendar follow the new hours from now on."""
    user = caller(request)
    calendar = sla_selectors.get_calendar_or_404(calendar_id)
    sla_services.check_can_configure(user)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    updated = sla_services.update_calendar(calendar=calendar, actor=user, source=source_of(request), **sent)
    return calendar_json(updated)


@router.delete("/sla/calendars/{calendar_id}", response={204: None}, summary="Delete a business calendar")
def delete_calendar(request: HttpRequest, calendar_id: int) -> Status[None]:
    """Organisation admins only; 409 while a definition or a clock uses it."""
    user = caller(request)
    calendar = sla_selectors.get_calendar_or_404(calendar_id)
    sla_services.check_can_configure(user)
    sla_services.delete_calendar(calendar=calendar, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# definitions


@router.get("/sla/definitions", response=Page[DefinitionOut], summary="List SLA definitions")
def list_definitions(request: HttpRequest, query: Query[DefinitionQuery]) -> dict[str, Any]:
    """Definitions for all teams, and those of your teams and their services."""
    user = caller(request)
    rows = sla_selectors.visible_definitions(user)
    if query.priority is not None:
        rows = rows.filter(priority=query.priority)
    if query.active is not None:
        rows = rows.filter(is_active=query.active)
    return paginate(rows.order_by("priority", "name", "pk"), query, definition_json)


@router.post("/sla/definitions", response={201: DefinitionOut}, summary="Create an SLA definition")
def create_definition(request: HttpRequest, payload: DefinitionIn) -> Status[dict[str, Any]]:
    """Organisation admins only. The most specific active definition wins: service, then team, then all."""
    user = caller(request)
    sla_services.check_can_configure(user)
    values = _references(user, payload.dict())
    definition = sla_services.create_definition(actor=user, source=source_of(request), **values)
    return Status(201, definition_json(definition))


@router.get("/sla/definitions/{definition_id}", response=DefinitionOut, summary="Read an SLA definition")
def get_definition(request: HttpRequest, definition_id: int) -> dict[str, Any]:
    user = caller(request)
    return definition_json(sla_selectors.get_definition_for_user_or_404(user, definition_id=definition_id))


@router.patch("/sla/definitions/{definition_id}", response=DefinitionOut, summary="Change an SLA definition")
def update_definition(request: HttpRequest, definition_id: int, payload: DefinitionPatch) -> dict[str, Any]:
    """Organisation admins only. Running clocks keep the terms they started with."""
    user = caller(request)
    definition = sla_selectors.get_definition_for_user_or_404(user, definition_id=definition_id)
    sla_services.check_can_configure(user)
    sent = payload.dict(exclude_unset=True)
    for key in ("name", "priority", "is_active", "pause_on", "warning_thresholds"):
        if key in sent and sent[key] is None:
            raise ValidationFailed(f"{key} cannot be null", field=key)
    values = _references(user, sent)
    updated = sla_services.update_definition(
        definition=definition, actor=user, source=source_of(request), **values
    )
    return definition_json(updated)


@router.delete("/sla/definitions/{definition_id}", response={204: None}, summary="Delete an SLA definition")
def delete_definition(request: HttpRequest, definition_id: int) -> Status[None]:
    """Organisation admins only. Clocks it started run on with their own terms."""
    user = caller(request)
    definition = sla_selectors.get_definition_for_user_or_404(user, definition_id=definition_id)
    sla_services.check_can_configure(user)
    sla_services.delete_definition(definition=definition, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# clocks and the report


@router.get("/incidents/{ref}/sla", response=ClocksOut, summary="The SLA clocks of an incident")
def incident_clocks(request: HttpRequest, ref: str, history: bool = False) -> dict[str, Any]:
    """Each clock as of now: elapsed and remaining business time, due time, status. ``history`` also lists
    clocks replaced after a priority change or cancelled with the incident."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    now = clock.now()
    views = sla_selectors.clock_views(incident, now, include_cancelled=history)
    return {"incident": incident.ref, "at": now, "clocks": [clock_json(v) for v in views]}


@router.get("/sla/report", response=ReportOut, summary="SLA compliance report")
def compliance_report(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    """Compliance of the incidents you may see opened in ``[start, end)``, by priority, team and service."""
    return report_json(_report(request, query))


@router.get("/sla/report.csv", summary="SLA compliance report as CSV")
def compliance_report_csv(request: HttpRequest, query: Query[ReportQuery]) -> HttpResponse:
    """One line per dimension, group and clock kind: ``dimension,key,label,kind,met,breached,in_progress,
    compliance_percent``."""
    report = _report(request, query)
    response = HttpResponse(sla_selectors.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sla_selectors.report_filename(report)}"'
    return response
