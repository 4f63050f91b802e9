"""Reads of SLAs: which definition applies to an incident, the clocks of an incident as people see them, the
definitions and calendars a user may see, and the compliance report. Team scoping lives here:

* calendars are organisation-wide settings: everyone signed in may read them;
* a definition for all teams is readable by everyone; one narrowed to a team or a service only by that
  team's members (any role) and organisation admins — to anyone else it does not exist (404);
* clocks and the report only ever cover incidents the user may see (:func:`selectors.visible_incidents`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.incidents import selectors, sla
from warroom.incidents.models import (
    BusinessCalendar,
    ClockKind,
    ClockState,
    Incident,
    SlaClock,
    SlaDefinition,
)
from warroom.incidents.priority import Priority
from warroom.lib.errors import NotFound, ValidationFailed

# ---------------------------------------------------------------------------------------------------------------
# calendars as clock math sees them

log = logging.getLogger("warroom.incidents.sla")
_cache_lock = threading.Lock()
_calendar_cache: dict[str, sla.Calendar] = {}
_CACHE_MAX = 256


def calendar_for(calendar: BusinessCalendar | None) -> sla.Calendar | None:
    """The clock-math calendar of a stored one (None: around the clock). Cached by content, so an edited
    calendar is rebuilt; a stored calendar that no longer validates raises :class:`sla.CalendarError`."""
    if calendar is None:
        return None
    key = json.dumps(
        [
            calendar.time_zone,
            calendar.working_hours,
            calendar.holiday_country,
            calendar.holiday_subdivision,
            calendar.custom_holidays,
        ],
        sort_keys=True,
        default=str,
    )
    with _cache_lock:
        cached = _calendar_cache.get(key)
    if cached is not None:
        return cached
    try:
        built = sla.calendar(
            calendar.time_zone,
            calendar.working_hours,
            country=calendar.holiday_country,
            subdivision=calendar.holiday_subdivision,
            custom_holidays=calendar.custom_holidays,
        )
    except sla.CalendarError as exc:
        if exc.field not in ("holiday_country", "holiday_subdivision"):
            raise
        # A holidays package upgrade dropped the country or subdivision: keep counting without its holidays
        # rather than stop every clock; the calendar page shows the error when an admin opens it.
        log.warning("business calendar %s: %s; its public holidays are ignored", calendar.pk, exc.message)
        built = sla.calendar(
            calendar.time_zone, calendar.working_hours, custom_holidays=calendar.custom_holidays
        )
    with _cache_lock:
        if len(_calendar_cache) >= _CACHE_MAX:
            _calendar_cache.clear()
        _calendar_cache[key] = built
    return built


def clock_calendar(clock: SlaClock) -> sla.Calendar | None:
    return calendar_for(clock.calendar)


# ---------------------------------------------------------------------------------------------------------------
# which definition applies


def _strictness(definition: SlaDefinition) -> tuple[int, int, int, int]:
    scope = {"service": 0, "team": 1, "all": 2}[definition.scope]
    never = 10**9
    return (
        scope,
        definition.resolution_minutes or never,
        definition.response_minutes or never,
        definition.pk,
    )


def definition_for(incident: Incident) -> SlaDefinition | None:
    """The active definition for the incident's priority: one for one of its services beats one for its team,
    which beats one for all teams. Between several services' definitions the strictest (shortest resolution
    target, then response target) wins."""
    service_ids = list(incident.services.values_list("pk", flat=True))
    candidates = SlaDefinition.objects.select_related("calendar").filter(
        Q(service_id__in=service_ids)
        | Q(team_id=incident.team_id)
        | Q(service__isnull=True, team__isnull=True),
        is_active=True,
        priority=incident.priority,
    )
    ranked = sorted(candidates, key=_strictness)
    return ranked[0] if ranked else None


# ---------------------------------------------------------------------------------------------------------------
# definitions and calendars


def visible_definitions(user: User) -> QuerySet[SlaDefinition]:
    qs = SlaDefinition.objects.select_related("service", "service__team", "team", "calendar")
    if user.is_org_admin:
        return qs
    teams = accounts.team_ids(user)
    return qs.filter(
        Q(service__isnull=True, team__isnull=True) | Q(team_id__in=teams) | Q(service__team_id__in=teams)
    )


def get_definition_for_user_or_404(user: User, *, definition_id: int) -> SlaDefinition:
    found = visible_definitions(user).filter(pk=definition_id).first()
    if found is None:
        raise NotFound(f"SLA definition {definition_id} not found")
    return found


def calendars() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.all()


def get_calendar_or_404(calendar_id: int) -> BusinessCalendar:
    found = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if found is None:
        raise NotFound(f"business calendar {calendar_id} not found")
    return found


# ---------------------------------------------------------------------------------------------------------------
# clocks as people see them


@dataclass(frozen=True)
class ClockView:
    """A clock at one instant: what the incident page and the API show."""

    clock: SlaClock
    at: datetime
    elapsed: timedelta
    remaining: timedelta
    percent: int
    #: ``running``, ``warning`` (running past its first threshold), ``paused``, ``breached`` (past target,
    #: live or stopped), ``met`` or ``cancelled``
    status: str

    @property
    def is_live(self) -> bool:
        return self.clock.state in (ClockState.RUNNING, ClockState.PAUSED)

    @property
    def overdue(self) -> timedelta:
        return max(-self.remaining, sla.ZERO)

    @property
    def elapsed_text(self) -> str:
        return sla.format_duration(self.elapsed)

    @property
    def remaining_text(self) -> str:
        return sla.format_duration(self.remaining)

    @property
    def overdue_text(self) -> str:
        return sla.format_duration(self.overdue)

    @property
    def target_text(self) -> str:
        return sla.format_duration(self.clock.target)

    @property
    def meter(self) -> int:
        return min(self.percent, 100)


def clock_view(clock: SlaClock, at: datetime) -> ClockView:
    elapsed = sla.elapsed_at(
        clock_calendar(clock), elapsed=clock.elapsed, running_since=clock.running_since, at=at
    )
    target = clock.target
    percent = int(elapsed * 100 // target) if target > sla.ZERO else 100
    over = elapsed >= target
    if clock.state == ClockState.CANCELLED:
        status = "cancelled"
    elif clock.state == ClockState.MET:
        status = "met"
    elif clock.state == ClockState.BREACHED or over or clock.breached_at is not None:
        status = "breached"
    elif clock.state == ClockState.PAUSED:
        status = "paused"
    elif clock.thresholds and percent >= min(clock.thresholds):
        status = "warning"
    else:
        status = "running"
    return ClockView(
        clock=clock, at=at, elapsed=elapsed, remaining=target - elapsed, percent=percent, status=status
    )


def incident_clocks(incident: Incident, *, include_cancelled: bool = False) -> list[SlaClock]:
    """The incident's clocks, response first. The caller has checked the user may see the incident."""
    qs = SlaClock.objects.filter(incident=incident).select_related("calendar", "definition")
    if not include_cancelled:
        qs = qs.exclude(state=ClockState.CANCELLED)
    return sorted(qs, key=lambda c: (c.kind != ClockKind.RESPONSE, c.started_at, c.pk))


def clock_views(incident: Incident, at: datetime, *, include_cancelled: bool = False) -> list[ClockView]:
    return [clock_view(c, at) for c in incident_clocks(incident, include_cancelled=include_cancelled)]


# ---------------------------------------------------------------------------------------------------------------
# compliance


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    in_progress: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def compliance(self) -> float | None:
        """Met ÷ (met + breached), in percent, one decimal; None when nothing was decided yet."""
        return round(100 * self.met / self.decided, 1) if self.decided else None


@dataclass
class ReportRow:
    key: str
    label: str
    response: Tally = field(default_factory=Tally)
    resolution: Tally = field(default_factory=Tally)

    def tally(self, kind: str) -> Tally:
        return self.response if kind == ClockKind.RESPONSE else self.resolution


@dataclass
class ComplianceReport:
    start: datetime
    end: datetime
    at: datetime
    total: ReportRow
    by_priority: list[ReportRow]
    by_team: list[ReportRow]
    by_service: list[ReportRow]

    def dimensions(self) -> list[tuple[str, list[ReportRow]]]:
        return [("priority", self.by_priority), ("team", self.by_team), ("service", self.by_service)]


NO_SERVICE = "(no service)"
MAX_REPORT_DAYS = 3 * 366
DEFAULT_REPORT_DAYS = 30


#: A report period lies within these instants, so that its defaults and the database never leave the calendar.
REPORT_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
REPORT_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def check_report_bound(value: datetime | date | None, field: str) -> None:
    """Refuse (400, naming ``field``) a report bound outside [1900-01-01, 9000-01-01)."""
    if value is None:
        return
    if isinstance(value, datetime):
        inside = REPORT_EARLIEST <= value < REPORT_LATEST
    else:
        inside = REPORT_EARLIEST.date() <= value < REPORT_LATEST.date()
    if not inside:
        raise ValidationFailed(
            f"{field} must be from {REPORT_EARLIEST.date()} and before {REPORT_LATEST.date()}", field=field
        )


def report_period(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """Defaults (the 30 days up to now) and limits of a report period; bad periods are a 400."""
    check_report_bound(start, "start")
    check_report_bound(end, "end")
    end = end or now
    start = start or end - timedelta(days=DEFAULT_REPORT_DAYS)
    if start >= end:
        raise ValidationFailed("start must be before end", field="start")
    if end - start > timedelta(days=MAX_REPORT_DAYS):
        raise ValidationFailed(f"a report covers at most {MAX_REPORT_DAYS} days", field="start")
    return start, end


def _breached_q(at: datetime) -> Q:
    """A clock counts as breached once it stopped over target, or is live and past its target now."""
    live = [ClockState.RUNNING, ClockState.PAUSED]
    return (
        Q(state=ClockState.BREACHED)
        | Q(state__in=live, breached_at__isnull=False)
        | Q(state=ClockState.RUNNING, due_at__lte=at)
        | Q(state=ClockState.PAUSED, elapsed__gte=F("target"))
    )


def report_clocks(user: User, start: datetime, end: datetime) -> QuerySet[SlaClock]:
    """The clocks the report counts: of incidents ``user`` may see, not tests, opened in ``[start, end)``, not
    cancelled (a cancelled clock was replaced after a priority change, or its incident was cancelled)."""
    visible = selectors.visible_incidents(user).filter(opened_at__gte=start, opened_at__lt=end, is_test=False)
    return SlaClock.objects.filter(incident_id__in=visible.values("pk")).exclude(state=ClockState.CANCELLED)


def _tallies(qs: QuerySet[SlaClock], group: Iterable[str], at: datetime) -> list[dict[str, Any]]:
    return list(
        qs.values(*group, "kind")
        .annotate(
            n=Count("pk"),
            met=Count("pk", filter=Q(state=ClockState.MET)),
            breached=Count("pk", filter=_breached_q(at)),
        )
        .order_by()
    )


def _fill(rows: dict[str, ReportRow], key: str, label: str, values: dict[str, Any]) -> None:
    row = rows.setdefault(key, ReportRow(key=key, label=label))
    tally = row.tally(values["kind"])
    tally.met += values["met"]
    tally.breached += values["breached"]
    tally.in_progress += values["n"] - values["met"] - values["breached"]


def compliance_report(user: User, *, start: datetime, end: datetime, at: datetime) -> ComplianceReport:
    """SLA compliance of the incidents opened in ``[start, end)``, by priority, team and service, as of ``at``.

    Each clock is met (stopped within target), breached (stopped over target, or live and already past it) or
    in progress; compliance is met ÷ (met + breached). An incident with several services counts once under
    each of them; one without services under "(no service)".
    """
    qs = report_clocks(user, start, end)
    total: dict[str, ReportRow] = {}
    for values in _tallies(qs, [], at):
        _fill(total, "all", "All", values)
    priorities: dict[str, ReportRow] = {}
    for values in _tallies(qs, ["priority"], at):
        _fill(priorities, str(values["priority"]), Priority(values["priority"]).label, values)
    teams: dict[str, ReportRow] = {}
    for values in _tallies(qs, ["incident__team__slug", "incident__team__name"], at):
        _fill(teams, values["incident__team__slug"], values["incident__team__name"], values)
    services: dict[str, ReportRow] = {}
    for values in _tallies(qs, ["incident__services__slug", "incident__services__name"], at):
        slug = values["incident__services__slug"]
        _fill(services, slug or "", values["incident__services__name"] or NO_SERVICE, values)
    return ComplianceReport(
        start=start,
        end=end,
        at=at,
        total=total.get("all", ReportRow(key="all", label="All")),
        by_priority=sorted(priorities.values(), key=lambda r: int(r.key)),
        by_team=sorted(teams.values(), key=lambda r: r.label.lower()),
        by_service=sorted(services.values(), key=lambda r: (r.key == "", r.label.lower())),
    )


CSV_HEADER = ["dimension", "key", "label", "kind", "met", "breached", "in_progress", "compliance_percent"]


def _csv_safe(text: str) -> str:
    """Cells that a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: ComplianceReport) -> str:
    """The report as CSV, one line per dimension, group and kind (``total`` first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for dimension, rows in [("total", [report.total]), *report.dimensions()]:
        for row in rows:
            for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION):
                tally = row.tally(kind)
                compliance = "" if tally.compliance is None else f"{tally.compliance:.1f}"
                writer.writerow(
                    [
                        dimension,
                        _csv_safe(row.key),
                        _csv_safe(row.label),
                        kind.value,
                        tally.met,
                        tally.breached,
                        tally.in_progress,
                        compliance,
                    ]
                )
    return out.getvalue()


def report_filename(report: ComplianceReport) -> str:
    return f"sla-compliance-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
