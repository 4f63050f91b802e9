"""Reads of status pages.

Console side (signed in): a page is seen by the members of its owning team (any role) and by organisation
admins; anyone else gets a :class:`NotFound`, as for any team-owned object. Its admins and managers change it.

Public side: :func:`snapshot` builds everything a page shows — overall status, components by group with their
uptime bars, active and recent incidents with their **public** updates only, maintenance — in about a dozen
queries, whatever the history's size; the public views cache what they render from it
(:mod:`warroom.comms.public_views`). Updates whose audience is internal never enter a snapshot, a feed item or
the incident archive: every query of updates here filters on ``PUBLIC_AUDIENCES``.

A page never contradicts itself: the bars and statuses show what the components went through (derived
components follow open incidents even before anyone publishes one), and every disruption says what explains it —
a published incident that touched the component while it lasted, a maintenance — or that nothing was published
("detected automatically; no incident was published"). Disruptions of the last :data:`RECENT_DAYS` days without
a published incident are listed beside the recent incidents (:class:`DisruptionView`).
"""

from __future__ import annotations

import math
import time as monotime
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.comms.models import (
    PUBLIC_AUDIENCES,
    SEVERITY,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusPeriod,
    Maintenance,
    MaintenanceState,
    PageSubscriber,
    StatusMode,
    StatusPage,
    StatusUpdate,
)
from warroom.incidents.models import Incident, parse_number
from warroom.incidents.states import OPEN_STATES, State
from warroom.lib.errors import NotFound, PermissionDenied, ValidationFailed
from warroom.lib.ids import as_id

#: how much of a stretch in each status counts as downtime in the uptime percentages
DOWNTIME_WEIGHT: dict[str, float] = {
    ComponentStatus.MAJOR_OUTAGE: 1.0,
    ComponentStatus.PARTIAL_OUTAGE: 0.3,
}
RECENT_DAYS = 14
#: statuses that are a disruption (maintenance is planned work, not one)
DISRUPTIONS = (ComponentStatus.DEGRADED, ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.MAJOR_OUTAGE)
#: how many disruptions without a published incident the page lists at most
DISRUPTIONS_SHOWN = 20
HISTORY_PAGE_SIZE = 20
FEED_ITEMS = 50

#: shown next to every status, so it never rests on colour alone (the label is always there too)
ICONS: dict[str, str] = {
    ComponentStatus.OPERATIONAL: "✓",
    ComponentStatus.UNDER_MAINTENANCE: "⚙",
    ComponentStatus.DEGRADED: "!",
    ComponentStatus.PARTIAL_OUTAGE: "!",
    ComponentStatus.MAJOR_OUTAGE: "✕",
}

OVERALL_TEXT: dict[str, str] = {
    ComponentStatus.OPERATIONAL: "All systems operational",
    ComponentStatus.UNDER_MAINTENANCE: "Maintenance in progress",
    ComponentStatus.DEGRADED: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}


# ---------------------------------------------------------------------------------------------------------------
# the public page row, remembered for a moment

#: how long a web process reuses a page row it read. The row's ``content_version`` keys the cached renderings, so
#: a process that made a change forgets the row at once (:func:`forget_pages`); other processes (the engine, the
#: other web workers) see a change within this time. It spares a warm request its only query.
PAGE_MEMO_SECONDS = 1.0
PAGE_MEMO_MAX = 1_000
_memo: dict[str, tuple[float, StatusPage]] = {}


def page_by_slug(slug: str) -> StatusPage | None:
    """The page ``slug`` (no access check: the public views do that), at most :data:`PAGE_MEMO_SECONDS` old."""
    now = monotime.monotonic()
    hit = _memo.get(slug)
    if hit is not None and now - hit[0] < PAGE_MEMO_SECONDS:
        return hit[1]
    page = StatusPage.objects.filter(slug=slug).first()
    if page is not None:
        if len(_memo) >= PAGE_MEMO_MAX:
            _memo.clear()
        _memo[slug] = (now, page)
    return page


def remembered_page(slug: str) -> StatusPage | None:
    """The page row if this process read it less than :data:`PAGE_MEMO_SECONDS` ago (no query), else None."""
    hit = _memo.get(slug)
    if hit is not None and monotime.monotonic() - hit[0] < PAGE_MEMO_SECONDS:
        return hit[1]
    return None


def forget_pages() -> None:
    """Drop the remembered page rows (a service changed something a page shows)."""
    _memo.clear()


# ---------------------------------------------------------------------------------------------------------------
# console: scoping


def visible_pages(user: User) -> QuerySet[StatusPage]:
    qs = StatusPage.objects.select_related("team")
    if user.is_org_admin:
        return qs
    return qs.filter(team_id__in=accounts.team_ids(user))


def can_manage_page(user: User, page: StatusPage) -> bool:
    return accounts.can_manage_team(user, page.team_id)


def get_page_for_user_or_404(user: User, *, key: int | str) -> StatusPage:
    """A page by id or slug, if ``user`` may see it."""
    pages = visible_pages(user)
    text = str(key)
    found = pages.filter(pk=ident).first() if (ident := as_id(text)) is not None else None
    found = found or pages.filter(slug=text).first()
    if found is None:
        raise NotFound(f"status page {key!r} not found")
    return found


def get_group_or_404(page: StatusPage, group_id: int) -> ComponentGroup:
    found = ComponentGroup.objects.select_related("page").filter(page=page, pk=group_id).first()
    if found is None:
        raise NotFound(f"component group {group_id} not found on {page.name}")
    return found


def get_component_or_404(page: StatusPage, component_id: int) -> Component:
    found = Component.objects.select_related("page", "group").filter(page=page, pk=component_id).first()
    if found is None:
        raise NotFound(f"component {component_id} not found on {page.name}")
    return found


def get_maintenance_or_404(page: StatusPage, maintenance_id: int) -> Maintenance:
    found = Maintenance.objects.select_related("page").filter(page=page, pk=maintenance_id).first()
    if found is None:
        raise NotFound(f"maintenance {maintenance_id} not found on {page.name}")
    return found


def get_subscriber_or_404(page: StatusPage, subscriber_id: int) -> PageSubscriber:
    found = PageSubscriber.objects.select_related("page").filter(page=page, pk=subscriber_id).first()
    if found is None:
        raise NotFound(f"subscriber {subscriber_id} not found on {page.name}")
    return found


def group_by_id(page: StatusPage, group_id: int | None) -> ComponentGroup | None:
    """The page's group ``group_id`` (None for none); :class:`ValidationFailed` on ``group`` if unknown."""
    if group_id is None:
        return None
    found = ComponentGroup.objects.filter(page=page, pk=group_id).first()
    if found is None:
        raise ValidationFailed(f"unknown group {group_id} on this page", field="group")
    return found


def components_of_page(
    page: StatusPage, ids: list[int], *, field_name: str = "components"
) -> list[Component]:
    """Components of ``page`` by id; :class:`ValidationFailed` naming the unknown ones."""
    wanted = list(dict.fromkeys(ids))
    found = {c.pk: c for c in Component.objects.filter(page=page, pk__in=wanted).select_related("page")}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(f"unknown component(s) on this page: {', '.join(missing)}", field=field_name)
    return [found[i] for i in wanted]


def services_for_user(user: User, keys: list[int | str]) -> list[Service]:
    """Services by id or slug among those ``user`` may see; :class:`ValidationFailed` on ``services``."""
    visible = catalog.visible_services(user)
    found: list[Service] = []
    for key in keys:
        text = str(key).strip()
        service = (
            visible.filter(pk=ident).first()
            if (ident := as_id(text)) is not None
            else visible.filter(slug=text).first()
        )
        if service is None:
            raise ValidationFailed(f"unknown service {key!r}", field="services")
        found.append(service)
    return found


def page_components(page: StatusPage) -> QuerySet[Component]:
    return (
        Component.objects.filter(page=page)
        .select_related("group")
        .prefetch_related("services")
        .order_by("group__position", "group_id", "position", "id")
    )


def page_maintenances(page: StatusPage) -> QuerySet[Maintenance]:
    return Maintenance.objects.filter(page=page).prefetch_related("components", "alert_windows")


def page_subscribers(page: StatusPage) -> QuerySet[PageSubscriber]:
    return PageSubscriber.objects.filter(page=page).prefetch_related("components")


def page_subscribers_for(user: User, page: StatusPage) -> QuerySet[PageSubscriber]:
    """The page's subscribers, for the people who manage the page: their addresses are the public's personal
    data, not for every member of the team (observers included) who may see the page."""
    if not can_manage_page(user, page):
        raise PermissionDenied("only the page's managers (admins of its team) see its subscribers")
    return page_subscribers(page)


# ---------------------------------------------------------------------------------------------------------------
# public: what a page shows


@dataclass
class Bar:
    day: date
    #: the worst status seen that day; None when the component did not exist yet
    status: str | None
    label: str


@dataclass
class ComponentView:
    id: int
    name: str
    description: str
    status: str
    status_label: str
    group: str | None
    uptime: float | None
    uptime_text: str
    bars: list[Bar] = field(default_factory=list)
    bars_summary: str = ""

    @property
    def icon(self) -> str:
        return ICONS[self.status]


@dataclass
class GroupView:
    name: str | None
    status: str
    components: list[ComponentView]

    @property
    def icon(self) -> str:
        return ICONS[self.status]

    @property
    def status_label(self) -> str:
        return ComponentStatus(self.status).label


@dataclass
class UpdateView:
    status: str
    status_label: str
    message: str
    created_at: datetime
    components: list[str]


@dataclass
class IncidentView:
    number: int
    title: str
    state: str
    is_open: bool
    opened_at: datetime
    resolved_at: datetime | None
    status: str
    status_label: str
    updates: list[UpdateView]


@dataclass
class MaintenanceView:
    id: int
    title: str
    message: str
    state: str
    state_label: str
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    completed_at: datetime | None
    components: list[str]


@dataclass
class DisruptionView:
    """A stretch of a component's disruption that no published incident touched (the page lists those of the
    last :data:`RECENT_DAYS` days, so its bars never show red that nothing on the page accounts for)."""

    component: str
    status: str
    status_label: str
    started_at: datetime
    #: None while it goes on
    ended_at: datetime | None
    duration: str
    #: "detected automatically" (a derived component) or "set by hand"
    source: str

    @property
    def icon(self) -> str:
        return ICONS[self.status]


@dataclass
class Snapshot:
    page: StatusPage
    at: datetime
    status: str
    status_text: str
    groups: list[GroupView]
    components: list[ComponentView]
    active_incidents: list[IncidentView]
    recent_incidents: list[IncidentView]
    maintenances: list[MaintenanceView]
    days: int
    #: disruptions of the last RECENT_DAYS days that no published incident explains, newest first
    disruptions: list[DisruptionView] = field(default_factory=list)

    @property
    def ongoing_disruptions(self) -> list[DisruptionView]:
        return [d for d in self.disruptions if d.ended_at is None]

    @property
    def icon(self) -> str:
        return ICONS[self.status]


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[s], default=ComponentStatus.OPERATIONAL)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def format_duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return " ".join(p for p in parts if p)


def format_uptime(fraction: float | None) -> str:
    """``99.95%``: rounded down to two decimals, so any downtime at all shows below 100%."""
    if fraction is None:
        return "no data"
    return f"{math.floor(fraction * 10000 + 1e-9) / 100:.2f}%"


def uptime(
    periods: list[tuple[str, datetime, datetime | None]], *, since: datetime, until: datetime
) -> tuple[float | None, dict[date, dict[str, float]]]:
    """From a component's status periods, (its uptime fraction over ``since``–``until``, seconds per status per
    UTC day). Downtime is weighted by :data:`DOWNTIME_WEIGHT`; a period still open runs to ``until``."""
    per_day: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    observed = 0.0
    down = 0.0
    for status, started, ended in periods:
        begin = max(started, since)
        end = min(ended or until, until)
        if end <= begin:
            continue
        seconds = (end - begin).total_seconds()
        observed += seconds
        down += seconds * DOWNTIME_WEIGHT.get(status, 0.0)
        cursor = begin
        while cursor < end:
            next_midnight = _midnight(cursor.date() + timedelta(days=1))
            stop = min(end, next_midnight)
            per_day[cursor.date()][status] += (stop - cursor).total_seconds()
            cursor = stop
    fraction = None if observed <= 0 else max(0.0, 1.0 - down / observed)
    return fraction, per_day


@dataclass(frozen=True)
class Cover:
    """Something public that accounts for a component's trouble between ``start`` and ``end``: an incident the
    page shows (``incident: <title>``), or a maintenance (``maintenance: <title>``, only for a stretch that was
    maintenance at worst)."""

    text: str
    start: datetime
    end: datetime
    maintenance: bool = False


@dataclass
class Stretch:
    """Consecutive non-operational status periods of one component, and what accounts for them."""

    start: datetime
    #: None while it goes on
    end: datetime | None
    worst: str
    covers: list[str]

    def until(self, now: datetime) -> datetime:
        return self.end or now

    @property
    def unpublished(self) -> bool:
        """A disruption nothing on the page accounts for."""
        return not self.covers and self.worst in DISRUPTIONS


def stretches(
    periods: list[tuple[str, datetime, datetime | None]], covers: list[Cover], *, now: datetime
) -> list[Stretch]:
    """A component's periods (oldest first) grouped into runs of non-operational statuses, each with the covers
    that overlap it: an incident accounts for any run it overlaps, a maintenance for a run that was no worse
    than maintenance."""
    runs: list[Stretch] = []
    current: Stretch | None = None
    for status, started, ended in periods:
        if status == ComponentStatus.OPERATIONAL:
            current = None
            continue
        if current is None:
            current = Stretch(started, ended, status, [])
            runs.append(current)
        else:
            current.end = ended
            current.worst = _worst([current.worst, status])
    for run in runs:
        end = run.until(now)
        for cover in covers:
            if cover.maintenance and run.worst != ComponentStatus.UNDER_MAINTENANCE:
                continue
            if cover.start < end and cover.end > run.start and cover.text not in run.covers:
                run.covers.append(cover.text)
    return runs


def _day_explained(day: date, runs: list[Stretch], *, now: datetime, source: str) -> tuple[str, bool]:
    """What accounts for a day's trouble — the covers of the runs that touched it, and how long of it nothing
    published accounts for — and whether some of it is such a disruption."""
    begin, end = _midnight(day), _midnight(day + timedelta(days=1))
    texts: list[str] = []
    unexplained = 0.0
    for run in runs:
        overlap = (min(run.until(now), end) - max(run.start, begin)).total_seconds()
        if overlap <= 0:
            continue
        texts += [t for t in run.covers if t not in texts]
        if run.unpublished:
            unexplained += overlap
    if not unexplained:
        return "; ".join(texts), False
    if not texts:
        return f"{source}; no incident was published", True
    return "; ".join([*texts, f"{format_duration(unexplained)} {source} with no incident published"]), True


def _bars(
    per_day: dict[date, dict[str, float]],
    days: list[date],
    runs: list[Stretch],
    *,
    now: datetime,
    source: str,
) -> tuple[list[Bar], str]:
    bars = []
    counts: dict[str, int] = defaultdict(int)
    unpublished_days = 0
    for day in days:
        spent = per_day.get(day)
        if not spent:
            bars.append(Bar(day, None, f"{day:%d %b %Y}: no data"))
            continue
        worst = _worst([s for s, secs in spent.items() if secs > 0])
        counts[worst] += 1
        if worst == ComponentStatus.OPERATIONAL:
            label = f"{day:%d %b %Y}: operational"
        else:
            label = f"{day:%d %b %Y}: {ComponentStatus(worst).label} for {format_duration(spent[worst])}"
            why, unpublished = _day_explained(day, runs, now=now, source=source)
            label += f" — {why}" if why else ""
            unpublished_days += unpublished
        bars.append(Bar(day, worst, label))
    bad = [
        f"{counts[s]} day{'s' if counts[s] != 1 else ''} with {ComponentStatus(s).label.lower()}"
        for s in reversed(ComponentStatus.values)
        if s != ComponentStatus.OPERATIONAL and counts.get(s)
    ]
    if unpublished_days:
        bad.append(f"{unpublished_days} of them with no incident published")
    summary = "; ".join(bad) if bad else "no disruptions"
    return bars, summary


def _page_scope(page: StatusPage, component_ids: list[int]) -> Q:
    """Public updates about this page: naming one of its components, or on an incident of a linked service;
    never about a test incident (opened by a test alert), which no status page shows."""
    service_ids = Component.services.through.objects.filter(component__page=page).values("service_id")
    return Q(audience__in=PUBLIC_AUDIENCES, incident__is_test=False) & (
        Q(components__in=component_ids) | Q(incident__services__in=service_ids)
    )


def _incident_ids(page: StatusPage, component_ids: list[int]) -> Any:
    return StatusUpdate.objects.filter(_page_scope(page, component_ids)).values("incident_id")


def _incident_views(incidents: list[Incident], component_names: dict[int, str]) -> list[IncidentView]:
    if not incidents:
        return []
    updates = (
        StatusUpdate.objects.filter(incident__in=[i.pk for i in incidents], audience__in=PUBLIC_AUDIENCES)
        .prefetch_related("components")
        .order_by("-created_at", "-id")
    )
    by_incident: dict[int, list[UpdateView]] = defaultdict(list)
    for update in updates:
        by_incident[update.incident_id].append(
            UpdateView(
                status=update.status,
                status_label=update.get_status_display(),
                message=update.message,
                created_at=update.created_at,
                components=[
                    component_names[c.pk] for c in update.components.all() if c.pk in component_names
                ],
            )
        )
    views = []
    for incident in incidents:
        shown = by_incident.get(incident.pk, [])
        latest = shown[0] if shown else None
        is_open = incident.state in OPEN_STATES
        views.append(
            IncidentView(
                number=incident.number,
                title=incident.title,
                state=incident.state,
                is_open=is_open,
                opened_at=incident.opened_at,
                resolved_at=incident.resolved_at or incident.canceled_at,
                # a closed incident reads "Resolved", whatever its last public update said
                status=latest.status if latest and is_open else ("investigating" if is_open else "resolved"),
                status_label=latest.status_label
                if latest and is_open
                else ("Investigating" if is_open else "Resolved"),
                updates=shown,
            )
        )
    return views


def _maintenance_view(m: Maintenance, component_names: dict[int, str]) -> MaintenanceView:
    return MaintenanceView(
        id=m.pk,
        title=m.title,
        message=m.message,
        state=m.state,
        state_label=m.get_state_display(),
        scheduled_start=m.scheduled_start,
        scheduled_end=m.scheduled_end,
        started_at=m.started_at,
        completed_at=m.completed_at,
        components=[component_names.get(c.pk, c.name) for c in m.components.all()],
    )


def _incident_end(incident: Incident, now: datetime) -> datetime:
    if incident.state in OPEN_STATES:
        return now
    return incident.resolved_at or incident.canceled_at or incident.closed_at or incident.updated_at


def _covers(
    page: StatusPage, component_ids: list[int], incidents: list[Incident], *, since: datetime, now: datetime
) -> dict[int, list[Cover]]:
    """Per component, what the page publishes that may account for its trouble since ``since``: the page's
    incidents (those with public updates about it) that touch the component — through a linked service, or a
    public update naming it — and its maintenances. Three queries."""
    found: dict[int, list[Cover]] = defaultdict(list)
    by_id = {i.pk: i for i in incidents}
    if by_id:
        via_services = Component.services.through.objects.filter(
            component_id__in=component_ids, service__incidents__in=list(by_id)
        ).values_list("component_id", "service__incidents")
        via_updates = StatusUpdate.components.through.objects.filter(
            component_id__in=component_ids,
            statusupdate__incident_id__in=list(by_id),
            statusupdate__audience__in=PUBLIC_AUDIENCES,
        ).values_list("component_id", "statusupdate__incident_id")
        for component_id, incident_id in {*via_services, *via_updates}:
            incident = by_id[incident_id]
            found[component_id].append(
                Cover(f"incident: {incident.title}", incident.opened_at, _incident_end(incident, now))
            )
    maintenances = (
        Maintenance.components.through.objects.filter(
            component_id__in=component_ids, maintenance__page=page, maintenance__started_at__isnull=False
        )
        .filter(Q(maintenance__completed_at__isnull=True) | Q(maintenance__completed_at__gt=since))
        .values_list(
            "component_id", "maintenance__title", "maintenance__started_at", "maintenance__completed_at"
        )
    )
    for component_id, title, started, completed in maintenances:
        if started is not None:
            found[component_id].append(
                Cover(f"maintenance: {title}", started, completed or now, maintenance=True)
            )
    for covers in found.values():
        covers.sort(key=lambda c: (c.start, c.text))
    return found


def _disruptions(
    components: list[Component], runs: dict[int, list[Stretch]], *, now: datetime
) -> list[DisruptionView]:
    """The stretches of the last :data:`RECENT_DAYS` days that nothing published accounts for, newest first."""
    recent = now - timedelta(days=RECENT_DAYS)
    found = [
        DisruptionView(
            component=component.name,
            status=run.worst,
            status_label=ComponentStatus(run.worst).label,
            started_at=run.start,
            ended_at=run.end,
            duration=format_duration((run.until(now) - run.start).total_seconds()),
            source=_source(component),
        )
        for component in components
        for run in runs.get(component.pk, [])
        if run.unpublished and run.until(now) >= recent
    ]
    found.sort(key=lambda d: (d.started_at, d.component), reverse=True)
    return found[:DISRUPTIONS_SHOWN]


def _source(component: Component) -> str:
    return "detected automatically" if component.status_mode == StatusMode.DERIVED else "set by hand"


def snapshot(page: StatusPage, *, now: datetime) -> Snapshot:
    """Everything the page shows at ``now``."""
    today = now.date()
    days = [today - timedelta(days=offset) for offset in range(page.history_days - 1, -1, -1)]
    since = _midnight(days[0])
    groups = list(ComponentGroup.objects.filter(page=page).order_by("position", "id"))
    components = list(Component.objects.filter(page=page).order_by("position", "id"))
    component_ids = [c.pk for c in components]
    periods: dict[int, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    rows = (
        ComponentStatusPeriod.objects.filter(component_id__in=component_ids)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
        .order_by("started_at", "id")
        .values_list("component_id", "status", "started_at", "ended_at")
    )
    for component_id, status, started, ended in rows:
        periods[component_id].append((status, started, ended))
    # the page's incidents open at some time since the first bar's day (or RECENT_DAYS ago): the active and
    # recent ones among them, and each one accounts for the trouble of the components it touched while it lasted
    window = min(since, now - timedelta(days=RECENT_DAYS))
    windowed = list(
        Incident.objects.filter(pk__in=_incident_ids(page, component_ids))
        .filter(
            Q(state__in=list(OPEN_STATES))
            | Q(resolved_at__gte=window)
            | Q(canceled_at__gte=window)
            | Q(closed_at__gte=window)
        )
        .order_by("-opened_at", "-id")
    )
    covers = _covers(page, component_ids, windowed, since=since, now=now)
    group_names = {g.pk: g.name for g in groups}
    views: dict[int, ComponentView] = {}
    runs: dict[int, list[Stretch]] = {}
    for component in components:
        fraction, per_day = uptime(periods[component.pk], since=since, until=now)
        runs[component.pk] = stretches(periods[component.pk], covers.get(component.pk, []), now=now)
        bars, summary = _bars(per_day, days, runs[component.pk], now=now, source=_source(component))
        views[component.pk] = ComponentView(
            id=component.pk,
            name=component.name,
            description=component.description,
            status=component.status,
            status_label=component.get_status_display(),
            group=group_names.get(component.group_id) if component.group_id else None,
            uptime=fraction,
            uptime_text=format_uptime(fraction),
            bars=bars,
            bars_summary=summary,
        )
    grouped: list[GroupView] = []
    loose = [views[c.pk] for c in components if c.group_id is None]
    if loose:
        grouped.append(GroupView(None, _worst([v.status for v in loose]), loose))
    for group in groups:
        members = [views[c.pk] for c in components if c.group_id == group.pk]
        if members:
            grouped.append(GroupView(group.name, _worst([v.status for v in members]), members))
    names = {c.pk: c.name for c in components}
    active = [i for i in windowed if i.state in OPEN_STATES][:20]
    recent_since = now - timedelta(days=RECENT_DAYS)
    recent = sorted(
        (
            i
            for i in windowed
            if i.state in (State.RESOLVED, State.CLOSED) and i.resolved_at and i.resolved_at >= recent_since
        ),
        key=lambda i: (i.resolved_at, i.pk),
        reverse=True,
    )[:10]
    incident_views = _incident_views(active + recent, names)
    maintenances = list(
        Maintenance.objects.filter(page=page)
        .filter(
            Q(state__in=[MaintenanceState.SCHEDULED, MaintenanceState.IN_PROGRESS])
            | Q(state=MaintenanceState.COMPLETED, completed_at__gte=now - timedelta(days=RECENT_DAYS))
        )
        .prefetch_related("components")
        .order_by("scheduled_start", "id")
    )
    overall = _worst([c.status for c in components])
    return Snapshot(
        page=page,
        at=now,
        status=overall,
        status_text=OVERALL_TEXT[overall],
        groups=grouped,
        components=[views[c.pk] for c in components],
        active_incidents=incident_views[: len(active)],
        recent_incidents=incident_views[len(active) :],
        maintenances=[_maintenance_view(m, names) for m in maintenances],
        days=page.history_days,
        disruptions=_disruptions(components, runs, now=now),
    )


def summary(snap: Snapshot, *, url: str) -> dict[str, Any]:
    """The JSON summary for machines (``/status/<slug>/summary.json``)."""

    def update(u: UpdateView) -> dict[str, Any]:
        return {
            "status": u.status,
            "message": u.message,
            "created_at": u.created_at.isoformat(),
            "components": u.components,
        }

    def incident(i: IncidentView) -> dict[str, Any]:
        return {
            "id": i.number,
            "title": i.title,
            "status": i.status,
            "open": i.is_open,
            "started_at": i.opened_at.isoformat(),
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
            "updates": [update(u) for u in i.updates],
        }

    return {
        "page": {
            "name": snap.page.name,
            "slug": snap.page.slug,
            "url": url,
            "generated_at": snap.at.isoformat(),
        },
        "status": {"indicator": snap.status, "description": snap.status_text},
        "components": [
            {
                "id": c.id,
                "name": c.name,
                "group": c.group,
                "description": c.description,
                "status": c.status,
                "status_label": c.status_label,
                "uptime_percent": round(c.uptime * 100, 4) if c.uptime is not None else None,
                "uptime_days": snap.days,
            }
            for c in snap.components
        ],
        "incidents": [incident(i) for i in snap.active_incidents],
        "recent_incidents": [incident(i) for i in snap.recent_incidents],
        "unpublished_disruptions": [
            {
                "component": d.component,
                "status": d.status,
                "started_at": d.started_at.isoformat(),
                "ended_at": d.ended_at.isoformat() if d.ended_at else None,
                "source": d.source,
            }
            for d in snap.disruptions
        ],
        "maintenance": [
            {
                "id": m.id,
                "title": m.title,
                "message": m.message,
                "state": m.state,
                "scheduled_start": m.scheduled_start.isoformat(),
                "scheduled_end": m.scheduled_end.isoformat(),
                "started_at": m.started_at.isoformat() if m.started_at else None,
                "completed_at": m.completed_at.isoformat() if m.completed_at else None,
                "components": m.components,
            }
            for m in snap.maintenances
        ],
    }


@dataclass
class HistoryPage:
    incidents: list[IncidentView]
    number: int
    has_next: bool
    has_previous: bool
    maintenances: list[MaintenanceView]


def history(page: StatusPage, *, number: int) -> HistoryPage:
    """The incident archive: incidents no longer open that had public updates about the page, newest first,
    :data:`HISTORY_PAGE_SIZE` at a time; the first page also lists past maintenance."""
    components = dict(Component.objects.filter(page=page).values_list("pk", "name"))
    scope = _incident_ids(page, list(components))
    number = max(1, number)
    offset = (number - 1) * HISTORY_PAGE_SIZE
    rows = list(
        Incident.objects.exclude(state__in=list(OPEN_STATES))
        .filter(pk__in=scope)
        .order_by("-opened_at", "-id")[offset : offset + HISTORY_PAGE_SIZE + 1]
    )
    past = (
        list(
            Maintenance.objects.filter(
                page=page, state__in=[MaintenanceState.COMPLETED, MaintenanceState.CANCELLED]
            )
            .prefetch_related("components")
            .order_by("-scheduled_start", "-id")[:20]
        )
        if number == 1
        else []
    )
    return HistoryPage(
        incidents=_incident_views(rows[:HISTORY_PAGE_SIZE], components),
        number=number,
        has_next=len(rows) > HISTORY_PAGE_SIZE,
        has_previous=number > 1,
        maintenances=[_maintenance_view(m, components) for m in past],
    )


def public_incident(page: StatusPage, ref: str) -> IncidentView:
    """One incident as the page shows it; :class:`NotFound` unless it has public updates about the page."""
    number = parse_number(ref)
    components = dict(Component.objects.filter(page=page).values_list("pk", "name"))
    found = (
        Incident.objects.filter(number=number, pk__in=_incident_ids(page, list(components))).first()
        if number is not None
        else None
    )
    if found is None:
        raise NotFound(f"incident {ref} not found on {page.name}")
    return _incident_views([found], components)[0]


@dataclass
class FeedItem:
    key: str
    title: str
    description: str
    link_path: str
    at: datetime
    kind: str


def feed_items(page: StatusPage) -> list[FeedItem]:
    """The latest public updates and maintenance announcements of the page, newest first."""
    components = dict(Component.objects.filter(page=page).values_list("pk", "name"))
    updates = (
        StatusUpdate.objects.filter(_page_scope(page, list(components)))
        .distinct()
        .select_related("incident")
        .order_by("-created_at", "-id")[:FEED_ITEMS]
    )
    items = [
        FeedItem(
            key=f"update-{u.pk}",
            title=f"{u.incident.title} — {u.get_status_display()}",
            description=u.message,
            link_path=f"incidents/{u.incident.number}/",
            at=u.created_at,
            kind="incident",
        )
        for u in updates
    ]
    for m in Maintenance.objects.filter(page=page).order_by("-updated_at", "-id")[:20]:
        when = f"{m.scheduled_start:%Y-%m-%d %H:%M} – {m.scheduled_end:%Y-%m-%d %H:%M} UTC"
        items.append(
            FeedItem(
                key=f"maintenance-{m.pk}-{m.state}",
                title=f"Maintenance ({m.get_state_display().lower()}): {m.title}",
                description=f"{when}\n\n{m.message}".strip(),
                link_path=f"#maintenance-{m.pk}",
                at=m.updated_at,
                kind="maintenance",
            )
        )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:FEED_ITEMS]
