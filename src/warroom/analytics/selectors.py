"""The figures of the reports (definitions: docs/metrics.md). Read-only, and scoped here:

* a user's figures cover the incidents of the teams they belong to — private ones only for the admins of the
  team — and organisation admins see every team. Being a participant in another team's incident lets you read
  that incident, but it does not put it in your figures: reports are about teams;
* alerts count for the teams that own their service (as on the alert list); pages for the incidents counted;
* test incidents and test alerts (sent from Warroom to check an integration, ``is_test``) count nowhere: the
  summaries leave them out (:mod:`warroom.analytics.rollup`) and so does :func:`team_q` for the live reads.

Every report takes resolved :class:`~warroom.analytics.filters.Filters` and answers plain dataclasses that the
console, the CSV export and the API render. The reports add up the daily summaries of
:mod:`warroom.analytics.models` (docs/adr/0007-report-summaries.md); what cannot be summarised (live SLA
clocks, overdue action items, one service's categories) is read from the live rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DateField,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth, TruncWeek

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Role, Team, User
from warroom.alerts.models import AlertStatus, Integration
from warroom.analytics.filters import Filters
from warroom.analytics.models import AlertCell, CategoryCell, FlapCell, IncidentCell, PageCell
from warroom.catalog.models import Service
from warroom.incidents.models import Category, ClockKind, ClockState, Incident, SlaClock
from warroom.incidents.priority import Priority
from warroom.incidents.sla_selectors import Tally, _breached_q
from warroom.incidents.states import State
from warroom.notify.models import WorkingHours
from warroom.notify.working_hours import Window as WorkWindow
from warroom.notify.working_hours import days_from_mask, describe, next_working_instant, zone_or_none
from warroom.reviews.models import ActionItem
from warroom.reviews.states import ActionItemStatus

NO_SERVICE = "(no service)"
NO_CATEGORY = "(no category)"
#: flapping: a dedup key of one integration that opened this many alerts ...
FLAP_ALERTS = 3
#: ... within this long (first seen of the first to first seen of the last)
FLAP_WINDOW = timedelta(hours=1)
#: night, in the responder's own time zone: from NIGHT_STARTS to NIGHT_ENDS local time
NIGHT_STARTS = time(22, 0)
NIGHT_ENDS = time(7, 0)
#: review figures cover these priorities unless the priority filter names one
REVIEW_PRIORITIES = (Priority.CRITICAL, Priority.HIGH)
TOP_INTEGRATIONS = 10
TOP_FLAPPING = 20


# ---------------------------------------------------------------------------------------------------------------
# scope


def team_q(user: User, prefix: str = "") -> Q:
    """Incidents (``prefix`` = the path to one) whose figures ``user`` may see: never a test incident."""
    real = Q(**{f"{prefix}is_test": False})
    if user.is_org_admin:
        return real
    roles = accounts.roles_by_team(user)
    member_of = list(roles)
    admin_of = [team_id for team_id, role in roles.items() if role == Role.ADMIN]
    return real & (
        Q(**{f"{prefix}team_id__in": member_of, f"{prefix}is_private": False})
        | Q(**{f"{prefix}team_id__in": admin_of})
    )


def incidents(user: User, flt: Filters, *, opened_in_period: bool = True) -> QuerySet[Incident]:
    """The incidents a report counts, cancelled ones included (callers drop them where the definition says)."""
    qs = Incident.objects.filter(team_q(user)).order_by()
    if flt.team is not None:
        qs = qs.filter(team_id=flt.team.pk)
    if flt.service is not None:
        links = Incident.services.through.objects.filter(service_id=flt.service.pk)
        qs = qs.filter(pk__in=links.values("incident_id"))
    if flt.priority is not None:
        qs = qs.filter(priority=flt.priority)
    if opened_in_period:
        qs = qs.filter(opened_at__gte=flt.start, opened_at__lt=flt.end)
    return qs


def counted(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """Cancelled incidents (declared by mistake, duplicates) count in no figure but their own."""
    return qs.exclude(state=State.CANCELED)


def cell_q(user: User, flt: Filters, *, per_service: bool = False) -> Q:
    """Summary cells (:mod:`warroom.analytics.models`) of the report's scope: the user's teams (private
    incidents for the team's admins), the period and the filters. Without a service filter, only primary rows
    (each incident once) unless ``per_service``; with one, that service's rows."""
    q = Q(day__gte=flt.first, day__lte=flt.last)
    if not user.is_org_admin:
        roles = accounts.roles_by_team(user)
        admin_of = [team_id for team_id, role in roles.items() if role == Role.ADMIN]
        q &= Q(team_id__in=list(roles), is_private=False) | Q(team_id__in=admin_of)
    if flt.team is not None:
        q &= Q(team_id=flt.team.pk)
    if flt.priority is not None:
        q &= Q(priority=flt.priority)
    if flt.service is not None:
        q &= Q(service_id=flt.service.pk)
    elif not per_service:
        q &= Q(primary=True)
    return q


def alert_cell_q(user: User, flt: Filters) -> Q:
    """Alert summaries of the report's scope: services of the user's teams, the period and the filters."""
    q = Q(day__gte=flt.first, day__lte=flt.last)
    if not user.is_org_admin:
        q &= Q(team_id__in=list(accounts.team_ids(user)))
    if flt.team is not None:
        q &= Q(team_id=flt.team.pk)
    if flt.service is not None:
        q &= Q(service_id=flt.service.pk)
    if flt.priority is not None:
        q &= Q(priority=flt.priority)
    return q


def _cell_trunc(flt: Filters) -> TruncWeek | TruncMonth:
    return (
        TruncMonth("day", output_field=DateField())
        if flt.bucket == "month"
        else TruncWeek("day", output_field=DateField())
    )


# ---------------------------------------------------------------------------------------------------------------
# helpers


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def bucket_of(day: date, bucket: str) -> date:
    """The first day of the week (Monday) or month holding ``day``."""
    if bucket == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def buckets(flt: Filters) -> list[date]:
    """Every bucket the period touches, in order (the first and last may be partly outside it)."""
    out: list[date] = []
    current = bucket_of(flt.first, flt.bucket)
    while current <= flt.last:
        out.append(current)
        if flt.bucket == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7)
    return out


def _trunc(flt: Filters, name: str) -> TruncWeek | TruncMonth:
    return TruncMonth(name, tzinfo=UTC) if flt.bucket == "month" else TruncWeek(name, tzinfo=UTC)


def _day(value: datetime | date) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


# ---------------------------------------------------------------------------------------------------------------
# response: MTTA, MTTR, time to detect


@dataclass
class Mean:
    """A mean duration over ``count`` incidents; None when there were none."""

    count: int = 0
    seconds: float | None = None


@dataclass
class ResponseRow:
    key: str
    label: str
    incidents: int = 0
    mtta: Mean = field(default_factory=Mean)
    unacknowledged: int = 0
    mttr: Mean = field(default_factory=Mean)
    unresolved: int = 0
    ttd: Mean = field(default_factory=Mean)
    not_alert_detected: int = 0


@dataclass
class ResponseReport:
    filters: Filters
    cancelled: int
    total: ResponseRow
    by_priority: list[ResponseRow]
    by_team: list[ResponseRow]
    trend: list[ResponseRow]  # one per bucket, key = its first day


@dataclass
class _Sums:
    """Additive response sums of a group of incidents (the means are derived at the end)."""

    n: int = 0
    acked: int = 0
    ack: float = 0.0
    resolved: int = 0
    res: float = 0.0
    detected: int = 0
    ttd: float = 0.0

    def add(self, other: _Sums) -> None:
        for name in ("n", "acked", "ack", "resolved", "res", "detected", "ttd"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, key: str, label: str) -> ResponseRow:
        def mean(total: float, count: int) -> Mean:
            return Mean(count, round(total / count, 1) if count else None)

        return ResponseRow(
            key=key,
            label=label,
            incidents=self.n,
            mtta=mean(self.ack, self.acked),
            unacknowledged=self.n - self.acked,
            mttr=mean(self.res, self.resolved),
            unresolved=self.n - self.resolved,
            ttd=mean(self.ttd, self.detected),
            not_alert_detected=self.n - self.detected,
        )


def _response_cells(user: User, flt: Filters) -> tuple[list[tuple[date, int, int, _Sums]], int]:
    """The summaries of the scope, per (bucket, priority, team); and the cancelled incidents."""
    rows = (
        IncidentCell.objects.filter(cell_q(user, flt))
        .annotate(bucket=_cell_trunc(flt))
        .values("bucket", "priority", "team_id")
        .annotate(
            n=Sum("incidents"),
            acked=Sum("acked"),
            ack=Sum("ack_seconds"),
            resolved=Sum("resolved"),
            res=Sum("resolve_seconds"),
            detected=Sum("detected"),
            ttd=Sum("detect_seconds"),
            cancelled=Sum("cancelled"),
        )
        .order_by()
    )
    cells, cancelled = [], 0
    for r in rows:
        cancelled += r["cancelled"]
        sums = _Sums(r["n"], r["acked"], r["ack"], r["resolved"], r["res"], r["detected"], r["ttd"])
        if sums.n:
            cells.append((_day(r["bucket"]), r["priority"], r["team_id"], sums))
    return cells, cancelled


def _team_names(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    return {t.pk: (t.slug, t.name) for t in Team.objects.filter(pk__in=set(ids))}


def response_report(user: User, flt: Filters) -> ResponseReport:
    """MTTA, MTTR and time to detect of the incidents opened in the period, overall, by priority, by team and
    per bucket of their opening."""
    total = _Sums()
    per_priority: dict[int, _Sums] = defaultdict(_Sums)
    per_team: dict[int, _Sums] = defaultdict(_Sums)
    per_bucket: dict[date, _Sums] = defaultdict(_Sums)
    cells, cancelled = _response_cells(user, flt)
    for day, priority, team_id, sums in cells:
        for target in (total, per_priority[priority], per_team[team_id], per_bucket[day]):
            target.add(sums)
    teams = _team_names(per_team)
    return ResponseReport(
        filters=flt,
        cancelled=cancelled,
        total=total.row("all", "All"),
        by_priority=[per_priority[p].row(str(p), Priority(p).label) for p in sorted(per_priority)],
        by_team=sorted(
            (sums.row(*teams[team_id]) for team_id, sums in per_team.items()), key=lambda r: r.label.lower()
        ),
        trend=[
            per_bucket[day].row(day.isoformat(), day.isoformat())
            if day in per_bucket
            else ResponseRow(key=day.isoformat(), label=day.isoformat())
            for day in buckets(flt)
        ],
    )


# ---------------------------------------------------------------------------------------------------------------
# volume: incidents by priority, team, category and service over time


@dataclass
class Series:
    """One group's incidents per bucket."""

    key: str
    label: str
    total: int
    counts: list[int]


@dataclass
class Breakdown:
    dimension: str
    series: list[Series]


@dataclass
class VolumeReport:
    filters: Filters
    buckets: list[date]
    total: int
    cancelled: int
    per_bucket: list[int]
    breakdowns: list[Breakdown]

    def breakdown(self, dimension: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.dimension == dimension)


def _series(
    rows: Iterable[dict[str, Any]], days: list[date], key: str, label: str, *, none_label: str = ""
) -> list[Series]:
    index = {day: i for i, day in enumerate(days)}
    found: dict[str, Series] = {}
    for row in rows:
        group = "" if row[key] is None else str(row[key])
        name = str(row[label]) if row[label] is not None else none_label
        series = found.setdefault(group, Series(key=group, label=name, total=0, counts=[0] * len(days)))
        series.counts[index[_day(row["bucket"])]] += row["n"]
        series.total += row["n"]
    return list(found.values())


def _names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    return dict(model.objects.filter(pk__in={i for i in ids if i is not None}).values_list("pk", "name"))


def _categories_raw(user: User, flt: Filters) -> list[dict[str, Any]]:
    """The category split straight from the incidents: the summaries have no service key for it, and one
    service's incidents are few."""
    qs = counted(incidents(user, flt)).annotate(bucket=_trunc(flt, "opened_at"))
    return [dict(r) for r in qs.values("bucket", "category_id").annotate(n=Count("pk")).order_by()]


def volume_report(user: User, flt: Filters) -> VolumeReport:
    """Incidents opened per bucket, split by priority, team, category and service. An incident with several
    services counts once under each; one without under "(no service)"."""
    days = buckets(flt)
    trunc = _cell_trunc(flt)
    cells: list[dict[str, Any]] = [
        dict(r)
        for r in IncidentCell.objects.filter(cell_q(user, flt))
        .annotate(bucket=trunc)
        .values("bucket", "priority", "team_id")
        .annotate(n=Sum("incidents"), cancelled=Sum("cancelled"))
        .order_by()
    ]
    links: list[dict[str, Any]] = [
        dict(r)
        for r in IncidentCell.objects.filter(cell_q(user, flt, per_service=True))
        .annotate(bucket=trunc)
        .values("bucket", "service_id")
        .annotate(n=Sum("incidents"))
        .order_by()
    ]
    if flt.service is not None:
        by_category = _categories_raw(user, flt)
    else:
        scope = cell_q(user, flt, per_service=True)
        by_category = [
            dict(r)
            for r in CategoryCell.objects.filter(scope)
            .annotate(bucket=trunc)
            .values("bucket", "category_id")
            .annotate(n=Sum("incidents"))
            .order_by()
        ]
    teams = _team_names(r["team_id"] for r in cells)
    categories = _names(Category, (r["category_id"] for r in by_category))
    services = {
        s.pk: (s.slug, s.name) for s in Service.objects.filter(pk__in={r["service_id"] for r in links})
    }
    for row in cells:
        row["priority_label"] = Priority(row["priority"]).label
        row["team"], row["team_name"] = teams[row["team_id"]]
    for row in by_category:
        row["category_name"] = categories.get(row["category_id"])
    for row in links:
        row["service"], row["service_name"] = services.get(row["service_id"], (None, None))
    counted_cells = [r for r in cells if r["n"]]
    priorities = _series(counted_cells, days, "priority", "priority_label")
    per_bucket = [0] * len(days)
    for series in priorities:
        per_bucket = [a + b for a, b in zip(per_bucket, series.counts, strict=True)]

    def ranked(items: list[Series]) -> list[Series]:
        return sorted(items, key=lambda s: (s.key == "", -s.total, s.label.lower()))

    return VolumeReport(
        filters=flt,
        buckets=days,
        total=sum(per_bucket),
        cancelled=sum(r["cancelled"] for r in cells),
        per_bucket=per_bucket,
        breakdowns=[
            Breakdown("priority", sorted(priorities, key=lambda s: int(s.key))),
            Breakdown("team", ranked(_series(counted_cells, days, "team", "team_name"))),
            Breakdown(
                "category",
                ranked(
                    _series(
                        [r for r in by_category if r["n"]],
                        days,
                        "category_id",
                        "category_name",
                        none_label=NO_CATEGORY,
                    )
                ),
            ),
            Breakdown(
                "service",
                ranked(
                    _series(
                        [r for r in links if r["n"]], days, "service", "service_name", none_label=NO_SERVICE
                    )
                ),
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------------------
# reliability: mean time between failures per service


@dataclass
class ServiceRow:
    key: str
    label: str
    team: str
    incidents: int
    first_at: datetime | None
    last_at: datetime | None
    #: (last opening − first opening) ÷ (incidents − 1); None below two incidents
    mtbf_seconds: float | None
    mttr: Mean


@dataclass
class ReliabilityReport:
    filters: Filters
    services: list[ServiceRow]


def reliability_report(user: User, flt: Filters) -> ReliabilityReport:
    """Per service touched by a counted incident of the period: incidents, MTBF (start to start) and MTTR."""
    grouped = (
        IncidentCell.objects.filter(cell_q(user, flt, per_service=True), service_id__isnull=False)
        .values("service_id")
        .annotate(
            n=Sum("incidents"),
            first=Min("first_opened"),
            last=Max("last_opened"),
            resolved=Sum("resolved"),
            res=Sum("resolve_seconds"),
        )
        .order_by()
    )
    rows: list[dict[str, Any]] = [dict(r) for r in grouped if r["n"]]
    services = {
        s.pk: s for s in Service.objects.select_related("team").filter(pk__in=[r["service_id"] for r in rows])
    }
    out = []
    for row in rows:
        n, first, last, service = row["n"], row["first"], row["last"], services[row["service_id"]]
        between = (last - first).total_seconds() / (n - 1) if n > 1 else None
        out.append(
            ServiceRow(
                key=service.slug,
                label=service.name,
                team=service.team.name,
                incidents=n,
                first_at=first,
                last_at=last,
                mtbf_seconds=round(between, 1) if between is not None else None,
                mttr=Mean(
                    row["resolved"], round(row["res"] / row["resolved"], 1) if row["resolved"] else None
                ),
            )
        )
    out.sort(key=lambda r: (r.mtbf_seconds is None, r.mtbf_seconds or 0, r.label.lower()))
    return ReliabilityReport(filters=flt, services=out)


# ---------------------------------------------------------------------------------------------------------------
# SLA compliance (the clocks of warroom.incidents.sla*)


@dataclass
class SlaRow:
    key: str
    label: str
    response: Tally = field(default_factory=Tally)
    resolution: Tally = field(default_factory=Tally)


@dataclass
class SlaReport:
    filters: Filters
    at: datetime
    total: SlaRow
    by_priority: list[SlaRow]
    by_team: list[SlaRow]


def _clock_tallies(qs: QuerySet[SlaClock], group: list[str], at: datetime) -> list[dict[str, Any]]:
    return list(
        qs.values(*group, "kind")
        .annotate(
            n=Count("pk"),
            met=Count("pk", filter=Q(state=ClockState.MET)),
            breached=Count("pk", filter=_breached_q(at)),
        )
        .order_by()
    )


def sla_report(user: User, flt: Filters, *, at: datetime) -> SlaReport:
    """The SLA clocks (not cancelled) of the incidents opened in the period, as of ``at``: met, breached (stopped
    over target, or live and past it) or in progress; compliance = met ÷ (met + breached). The same rule as
    the SLA report (:mod:`warroom.incidents.sla_selectors`), for this report's scope and filters. Stopped clocks
    come from the summaries, live ones (of open incidents: few) from the clocks themselves."""
    rows: dict[tuple[int, int], SlaRow] = {}

    def row(priority: int, team_id: int) -> SlaRow:
        return rows.setdefault((priority, team_id), SlaRow(key="", label=""))

    stopped = (
        IncidentCell.objects.filter(cell_q(user, flt))
        .values("priority", "team_id")
        .annotate(
            rm=Sum("response_met"),
            rb=Sum("response_breached"),
            sm=Sum("resolution_met"),
            sb=Sum("resolution_breached"),
        )
        .order_by()
    )
    for values in stopped:
        target = row(values["priority"], values["team_id"])
        target.response.met += values["rm"]
        target.response.breached += values["rb"]
        target.resolution.met += values["sm"]
        target.resolution.breached += values["sb"]
    live = SlaClock.objects.filter(
        state__in=[ClockState.RUNNING, ClockState.PAUSED], incident_id__in=incidents(user, flt).values("pk")
    )
    live_tallies: list[dict[str, Any]] = _clock_tallies(live, ["incident__priority", "incident__team_id"], at)
    for live_row in live_tallies:
        target = row(live_row["incident__priority"], live_row["incident__team_id"])
        tally = target.response if live_row["kind"] == ClockKind.RESPONSE else target.resolution
        tally.breached += live_row["breached"]
        tally.in_progress += live_row["n"] - live_row["breached"]
    total = SlaRow(key="all", label="All")
    priorities: dict[int, SlaRow] = {}
    teams_rows: dict[int, SlaRow] = {}
    for (priority, team_id), values_row in rows.items():
        for target in (
            total,
            priorities.setdefault(priority, SlaRow(key=str(priority), label=Priority(priority).label)),
            teams_rows.setdefault(team_id, SlaRow(key="", label="")),
        ):
            for kind in ("response", "resolution"):
                into, source = getattr(target, kind), getattr(values_row, kind)
                into.met += source.met
                into.breached += source.breached
                into.in_progress += source.in_progress
    names = _team_names(teams_rows)
    for team_id, team_row in teams_rows.items():
        team_row.key, team_row.label = names[team_id]
    return SlaReport(
        filters=flt,
        at=at,
        total=total,
        by_priority=[priorities[p] for p in sorted(priorities) if _decided_or_live(priorities[p])],
        by_team=sorted(
            (r for r in teams_rows.values() if _decided_or_live(r)), key=lambda r: r.label.lower()
        ),
    )


def _decided_or_live(row: SlaRow) -> bool:
    return any(t.met or t.breached or t.in_progress for t in (row.response, row.resolution))


# ---------------------------------------------------------------------------------------------------------------
# alert noise


@dataclass
class NoiseTotals:
    alerts: int = 0
    #: repeats folded into open alerts by deduplication, plus the alerts themselves
    triggers: int = 0
    suppressed: int = 0
    on_incidents: int = 0
    incidents: int = 0
    alerts_per_incident: float | None = None
    unacted: int = 0
    unacted_percent: float | None = None
    flapping_keys: int = 0
    flapping_alerts: int = 0


@dataclass
class IntegrationRow:
    id: int
    name: str
    service: str
    kind: str
    alerts: int
    share_percent: float | None
    unacted: int
    flapping_keys: int = 0


@dataclass
class FlappingKey:
    integration_id: int
    integration: str
    service: str
    dedup_key: str
    alerts: int
    #: alerts that were at least the FLAP_ALERTS-th of their key within FLAP_WINDOW
    flaps: int
    first_at: datetime
    last_at: datetime


@dataclass
class NoiseReport:
    filters: Filters
    totals: NoiseTotals
    integrations: list[IntegrationRow]
    flapping: list[FlappingKey]


#: resolved before anyone acknowledged the alert, or its incident (acting on the incident is acting on it)
UNACTED = Q(status=AlertStatus.RESOLVED, acknowledged_at__isnull=True) & (
    Q(incident__isnull=True)
    | Q(incident__acknowledged_at__isnull=True)
    | Q(incident__acknowledged_at__gt=F("resolved_at"))
)


def noise_report(user: User, flt: Filters) -> NoiseReport:
    """Alerts first seen in the period: how many, per incident, per integration, resolved before anyone acted,
    and the dedup keys that flap (:data:`FLAP_ALERTS` alerts within :data:`FLAP_WINDOW`)."""
    scope = alert_cell_q(user, flt)
    per_integration = list(
        AlertCell.objects.filter(scope)
        .values("integration_id")
        .annotate(
            n=Sum("alerts"),
            triggers=Sum("triggers"),
            suppressed=Sum("suppressed"),
            on_incidents=Sum("on_incidents"),
            incidents=Sum("first_of_incident"),
            unacted=Sum("unacted"),
        )
        .order_by()
    )
    keys = list(
        FlapCell.objects.filter(scope)
        .values("integration_id", "dedup_key")
        .annotate(flaps=Sum("flaps"), n=Sum("alerts"), first=Min("first_at"), last=Max("last_at"))
        .order_by()
    )
    alerts_total = sum(r["n"] for r in per_integration)
    on_incidents = sum(r["on_incidents"] for r in per_integration)
    incident_count = sum(r["incidents"] for r in per_integration)
    unacted = sum(r["unacted"] for r in per_integration)
    totals = NoiseTotals(
        alerts=alerts_total,
        triggers=sum(r["triggers"] for r in per_integration),
        suppressed=sum(r["suppressed"] for r in per_integration),
        on_incidents=on_incidents,
        incidents=incident_count,
        alerts_per_incident=round(on_incidents / incident_count, 2) if incident_count else None,
        unacted=unacted,
        unacted_percent=percent(unacted, alerts_total),
        flapping_keys=len(keys),
        flapping_alerts=sum(k["flaps"] for k in keys),
    )
    keys_per_integration: dict[int, int] = defaultdict(int)
    for key in keys:
        keys_per_integration[key["integration_id"]] += 1
    top = sorted(per_integration, key=lambda r: (-r["n"], r["integration_id"]))[:TOP_INTEGRATIONS]
    worst = sorted(keys, key=lambda k: (-k["flaps"], k["integration_id"], k["dedup_key"]))[:TOP_FLAPPING]
    named = {
        i.pk: i
        for i in Integration.objects.select_related("service").filter(
            pk__in={r["integration_id"] for r in top} | {k["integration_id"] for k in worst}
        )
    }
    integrations = [
        IntegrationRow(
            id=row["integration_id"],
            name=named[row["integration_id"]].name,
            service=named[row["integration_id"]].service.name,
            kind=named[row["integration_id"]].kind,
            alerts=row["n"],
            share_percent=percent(row["n"], totals.alerts),
            unacted=row["unacted"],
            flapping_keys=keys_per_integration.get(row["integration_id"], 0),
        )
        for row in top
    ]
    flapping = [
        FlappingKey(
            integration_id=k["integration_id"],
            integration=named[k["integration_id"]].name,
            service=named[k["integration_id"]].service.name,
            dedup_key=k["dedup_key"],
            alerts=k["n"],
            flaps=k["flaps"],
            first_at=k["first"],
            last_at=k["last"],
        )
        for k in worst
    ]
    return NoiseReport(filters=flt, totals=totals, integrations=integrations, flapping=flapping)


# ---------------------------------------------------------------------------------------------------------------
# on-call load


@dataclass
class PersonRow:
    user_id: int
    name: str
    pages: int = 0
    unreachable: int = 0
    #: None when the person set no working hours
    outside_hours: int | None = None
    night: int = 0
    #: the zone night is judged in: the person's own, else their working hours' zone, else UTC
    time_zone: str = "UTC"
    working_hours: str = ""


@dataclass
class OncallReport:
    filters: Filters
    pages: int
    unreachable: int
    outside_hours: int
    night: int
    people: list[PersonRow]


def night_zone(user_zone: str, hours_zone: str | None) -> ZoneInfo:
    """The zone a person's night is judged in: their own (profile) zone, else their working hours' zone, else
    UTC."""
    return zone_or_none(user_zone) or (zone_or_none(hours_zone) if hours_zone else None) or ZoneInfo("UTC")


def is_night(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def windows_of(user_ids: set[int]) -> dict[int, WorkWindow]:
    out = {}
    for hours in WorkingHours.objects.filter(user_id__in=user_ids):
        zone = zone_or_none(hours.time_zone)
        if zone is not None:
            out[hours.user_id] = WorkWindow(
                zone=zone, days=days_from_mask(hours.days), start=hours.start, end=hours.end
            )
    return out


def in_working_hours(window: WorkWindow, at: datetime) -> bool:
    """Whether ``at`` falls inside the weekly window: the local wall-clock time, on a chosen weekday, from
    ``start`` up to ``end`` (a window whose end is at or before its start runs past midnight). The same answer
    as :func:`warroom.notify.working_hours.next_working_instant` (``== at``), which decides DST edges; this fast
    path asks it only when the local time happens twice (a fall-back hour)."""
    local = at.astimezone(window.zone)
    if local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset():
        return next_working_instant(window, at) == at
    t, day = local.time(), local.weekday()
    if window.end > window.start:
        return day in window.days and window.start <= t < window.end
    return (day in window.days and t >= window.start) or ((day - 1) % 7 in window.days and t < window.end)


def oncall_report(user: User, flt: Filters) -> OncallReport:
    """Pages (one person, one escalation step, one round) sent in the period for the incidents of the report's
    scope, per person: how many, how many could not reach them, how many fell outside their working hours and
    how many at night (:data:`NIGHT_STARTS`–:data:`NIGHT_ENDS` in their own zone). Working hours and night were
    judged when the page's day was summarized; the zone shown is the person's current one."""
    rows = list(
        PageCell.objects.filter(cell_q(user, flt))
        .values("user_id")
        .annotate(
            pages=Sum("pages"),
            unreachable=Sum("unreachable"),
            judged=Sum("judged"),
            outside=Sum("outside_hours"),
            night=Sum("night"),
        )
        .order_by()
    )
    ids = {r["user_id"] for r in rows}
    windows = windows_of(ids)
    people = {p.pk: p for p in User.objects.filter(pk__in=ids).only("full_name", "email", "time_zone")}
    out = []
    for row in rows:
        person, window = people[row["user_id"]], windows.get(row["user_id"])
        out.append(
            PersonRow(
                user_id=person.pk,
                name=person.display_name,
                pages=row["pages"],
                unreachable=row["unreachable"],
                outside_hours=row["outside"] if row["judged"] else None,
                night=row["night"],
                time_zone=night_zone(person.time_zone, window.zone.key if window else None).key,
                working_hours=describe(window) if window else "",
            )
        )
    ranked = sorted(out, key=lambda p: (-p.pages, p.name.lower(), p.user_id))
    return OncallReport(
        filters=flt,
        pages=sum(p.pages for p in ranked),
        unreachable=sum(p.unreachable for p in ranked),
        outside_hours=sum(p.outside_hours or 0 for p in ranked),
        night=sum(p.night for p in ranked),
        people=ranked,
    )


# ---------------------------------------------------------------------------------------------------------------
# learning: postmortem and action item completion


@dataclass
class PostmortemRow:
    key: str
    label: str
    incidents: int = 0
    published: int = 0
    in_review: int = 0
    draft: int = 0
    missing: int = 0

    @property
    def completion_percent(self) -> float | None:
        return percent(self.published, self.incidents)


@dataclass
class ActionRow:
    key: str
    label: str
    total: int = 0
    done: int = 0
    wont_do: int = 0
    open: int = 0
    overdue: int = 0
    done_on_time: int = 0

    @property
    def completion_percent(self) -> float | None:
        """Done ÷ (done + still open): items dropped as "won't do" count in neither."""
        return percent(self.done, self.done + self.open)


@dataclass
class ReviewsReport:
    filters: Filters
    priorities: list[int]
    postmortems: list[PostmortemRow]
    postmortems_total: PostmortemRow
    actions: list[ActionRow]
    actions_total: ActionRow


def reviews_report(user: User, flt: Filters, *, today: date) -> ReviewsReport:
    """For the resolved (or closed) P1 and P2 incidents opened in the period (or the filter's priority): how
    many have a published postmortem (their own, or their major incident's when it covers its children), one in
    review, a draft, or none; and the completion of the action items hanging off them or their postmortems.
    Everything but "overdue" (which depends on today) comes from the summaries."""
    priorities = [flt.priority] if flt.priority is not None else [int(p) for p in REVIEW_PRIORITIES]
    grouped = (
        IncidentCell.objects.filter(cell_q(user, flt), priority__in=priorities)
        .values("priority")
        .annotate(
            n=Sum("reviewable"),
            published=Sum("pm_published"),
            in_review=Sum("pm_in_review"),
            draft=Sum("pm_draft"),
            ai_total=Sum("ai_total"),
            ai_done=Sum("ai_done"),
            ai_on_time=Sum("ai_done_on_time"),
            ai_wont_do=Sum("ai_wont_do"),
            ai_open=Sum("ai_open"),
        )
        .order_by()
    )
    pm_rows = {p: PostmortemRow(key=str(p), label=Priority(p).label) for p in priorities}
    ai_rows = {p: ActionRow(key=str(p), label=Priority(p).label) for p in priorities}
    overdue = _overdue(user, flt, priorities, today)
    for row in grouped:
        pm, ai = pm_rows[row["priority"]], ai_rows[row["priority"]]
        pm.incidents, pm.published, pm.in_review, pm.draft = (
            row["n"],
            row["published"],
            row["in_review"],
            row["draft"],
        )
        pm.missing = pm.incidents - pm.published - pm.in_review - pm.draft
        ai.total, ai.done, ai.done_on_time = row["ai_total"], row["ai_done"], row["ai_on_time"]
        ai.wont_do, ai.open = row["ai_wont_do"], row["ai_open"]
    for priority, count in overdue.items():
        if priority in ai_rows:
            ai_rows[priority].overdue = count
    pm_total = PostmortemRow(key="all", label="All")
    for pm in pm_rows.values():
        for name in ("incidents", "published", "in_review", "draft", "missing"):
            setattr(pm_total, name, getattr(pm_total, name) + getattr(pm, name))
    ai_total = ActionRow(key="all", label="All")
    for ai in ai_rows.values():
        for name in ("total", "done", "done_on_time", "wont_do", "open", "overdue"):
            setattr(ai_total, name, getattr(ai_total, name) + getattr(ai, name))
    return ReviewsReport(
        filters=flt,
        priorities=priorities,
        postmortems=list(pm_rows.values()),
        postmortems_total=pm_total,
        actions=list(ai_rows.values()),
        actions_total=ai_total,
    )


def _review_scope_q(user: User, flt: Filters, priorities: list[int], prefix: str) -> Q:
    """The resolved incidents of the review figures, reached through ``prefix`` (a path to an incident)."""
    q = team_q(user, prefix) & Q(
        **{
            f"{prefix}opened_at__gte": flt.start,
            f"{prefix}opened_at__lt": flt.end,
            f"{prefix}priority__in": priorities,
            f"{prefix}resolved_at__isnull": False,
        }
    )
    q &= ~Q(**{f"{prefix}state": State.CANCELED})
    if flt.team is not None:
        q &= Q(**{f"{prefix}team_id": flt.team.pk})
    if flt.service is not None:
        q &= Q(**{f"{prefix}services": flt.service.pk})
    return q


def _overdue(user: User, flt: Filters, priorities: list[int], today: date) -> dict[int, int]:
    """Open action items past their due date, of the resolved incidents in scope, per the incident's priority:
    an item linked to an incident belongs to it, else to its postmortem's incident. Read live from the overdue
    items (few, found by their index) joined to their incident."""
    late = ActionItem.objects.filter(
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS], due_date__lt=today
    ).order_by()
    out: dict[int, int] = defaultdict(int)
    direct = (
        late.filter(_review_scope_q(user, flt, priorities, "incident__"))
        .values("incident__priority")
        .annotate(n=Count("pk"))
    )
    for row in direct:
        out[row["incident__priority"]] += row["n"]
    via = (
        late.filter(
            _review_scope_q(user, flt, priorities, "postmortem__incident__"), incident_id__isnull=True
        )
        .values("postmortem__incident__priority")
        .annotate(n=Count("pk"))
    )
    for via_row in via:
        out[via_row["postmortem__incident__priority"]] += via_row["n"]
    return out
