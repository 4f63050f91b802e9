"""What a postmortem knows from the record: services, people and roles, alerts, times and durations, the SLA
outcome, and the default key events. Computed live while the postmortem is a draft or in review, frozen into
``Postmortem.facts`` when it is published.

Clocks (all from the postmortem's incident, the "main" one; a major incident's children add their alerts,
services and people when ``covers_children`` is set):

* **time to detect** — the first alert's start (when its source says the problem began, ``started_at``, else
  when Warroom first saw it, ``first_seen``) → the incident was declared (``opened_at``). Unknown when no alert
  came in, or the first one came after the declaration (a person noticed first).
* **time to acknowledge** — declared → first response: the incident's ``acknowledged_at`` (its first move to
  In Progress, On Hold or Resolved), or an alert acknowledged earlier.
* **time to mitigate** — declared → the impact stopped: the postmortem's ``mitigated_at`` (the author's), or the
  incident's own ``mitigated_at`` should the incident record ever carry one; unknown otherwise.
* **time to resolve** — declared → ``resolved_at``.
* **impact duration** — the first alert (or the declaration, if earlier) → mitigated, else resolved.

SLA outcome: the incidents app's SLA clocks are being built separately, so they are found at run time: an
``sla_outcome(incident) -> Mapping | None`` in ``warroom.incidents.selectors`` or ``sla_selectors``, else
``sla_selectors.clock_views(incident, at)`` summarised per clock ("met, 12m of 1h"). Without either, or when
it fails, the postmortem says the SLA is not tracked.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Min, Q
from django.db.models.functions import Coalesce

from warroom.alerts.models import Alert
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import EntryKind, Incident, IncidentRole, TimelineEntry
from warroom.lib import clock

log = logging.getLogger("warroom.reviews")

#: Timeline entries picked as key events until the author chooses: the declaration, state changes, roles,
#: and alerts opening or joining the incident.
DEFAULT_KEY_KINDS = frozenset({EntryKind.CREATED, EntryKind.STATE, EntryKind.ROLE})


@dataclass
class FactIncident:
    ref: str
    title: str
    priority: int
    state: str


@dataclass
class FactService:
    slug: str
    name: str
    team: str


@dataclass
class FactPerson:
    name: str
    email: str
    roles: list[str] = field(default_factory=list)


@dataclass
class FactAlert:
    id: int
    summary: str
    severity: str
    service: str
    first_seen: datetime
    count: int
    incident: str


@dataclass
class Times:
    first_alert_at: datetime | None
    opened_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None


@dataclass
class Durations:
    """Seconds; None when a clock did not start or stop."""

    detect: int | None
    acknowledge: int | None
    mitigate: int | None
    resolve: int | None
    impact: int | None


@dataclass
class Facts:
    incidents: list[FactIncident]
    services: list[FactService]
    people: list[FactPerson]
    alerts: list[FactAlert]
    times: Times
    durations: Durations
    sla: dict[str, Any] | None
    generated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        times = {k: _parse(v) for k, v in data["times"].items()}
        return cls(
            incidents=[FactIncident(**i) for i in data["incidents"]],
            services=[FactService(**s) for s in data["services"]],
            people=[FactPerson(**p) for p in data["people"]],
            alerts=[FactAlert(**{**a, "first_seen": _parse(a["first_seen"])}) for a in data["alerts"]],
            times=Times(**times),  # type: ignore[arg-type]
            durations=Durations(**data["durations"]),
            sla=data.get("sla"),
            generated_at=_parse(data["generated_at"]) or clock.now(),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds())


def covered_incidents(incident: Incident, covers_children: bool) -> list[Incident]:
    """The incident, then (when covered) its children by number."""
    children = list(incident.children.order_by("number")) if covers_children else []
    return [incident, *children]


def impact_started(incident: Incident, *, covers_children: bool) -> datetime:
    """When the impact began, as the impact duration counts it: the first alert of the covered incidents, or the
    declaration if that came first."""
    first_alert = Alert.objects.filter(
        incident__in=covered_incidents(incident, covers_children), suppressed=False
    ).aggregate(at=Min(Coalesce("started_at", "first_seen")))["at"]
    return min(first_alert, incident.opened_at) if first_alert is not None else incident.opened_at


def _people(incidents: list[Incident]) -> list[FactPerson]:
    people: dict[int, FactPerson] = {}

    def add(user: Any, role: str) -> None:
        if user is None:
            return
        person = people.setdefault(user.pk, FactPerson(name=user.display_name, email=user.email))
        if role not in person.roles:
            person.roles.append(role)

    main = incidents[0]
    for role in IncidentRole.objects.filter(incident__in=incidents).select_related("role_type", "user"):
        add(role.user, role.role_type.name)
    for incident in incidents:
        add(incident.assignee, "Assignee" if incident.pk == main.pk else f"Assignee of {incident.ref}")
        add(incident.reporter, "Reporter" if incident.pk == main.pk else f"Reporter of {incident.ref}")
    actors = (
        TimelineEntry.objects.filter(incident__in=incidents, actor__isnull=False)
        .select_related("actor")
        .order_by("at", "id")
    )
    for entry in actors:
        if entry.actor_id not in people:
            add(entry.actor, "Responder")
    return sorted(people.values(), key=lambda p: (p.name.lower(), p.email))


def _optional_module(name: str) -> Any:
    """``name`` imported, or None when it does not exist (the SLA work lands separately)."""
    try:
        return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None
    except ImportError:
        return None


def _clock_views_outcome(clock_views: Callable[..., Any]) -> Callable[[Incident], Any]:
    """An ``sla_outcome`` built on ``sla_selectors.clock_views``: clock name → "met, 12m of 1h"."""

    def outcome(incident: Incident) -> dict[str, str] | None:
        views = clock_views(incident, clock.now())
        if not views:
            return None
        return {
            f"{view.clock.name} ({view.clock.get_kind_display().lower()})": (
                f"{view.status}, {view.elapsed_text} of {format_duration(int(view.clock.target.total_seconds()))}"
            )
            for view in views
        }

    return outcome


def _sla_provider() -> Callable[[Incident], Any] | None:
    """The incidents app's SLA outcome, if it has one: ``sla_outcome`` in its selectors or SLA selectors, or
    one built from ``sla_selectors.clock_views``."""
    for module in (incident_selectors, _optional_module("warroom.incidents.sla_selectors")):
        provider = getattr(module, "sla_outcome", None) if module is not None else None
        if callable(provider):
            return provider
    module = _optional_module("warroom.incidents.sla_selectors")
    views = getattr(module, "clock_views", None) if module is not None else None
    return _clock_views_outcome(views) if callable(views) else None


def sla_outcome(incident: Incident) -> dict[str, Any] | None:
    """The SLA outcome of ``incident`` as plain JSON, or None when SLAs are not tracked."""
    provider = _sla_provider()
    if provider is None:
        return None
    try:
        outcome = provider(incident)
    except Exception:  # an optional panel must never break the postmortem
        log.exception("sla_outcome failed for %s", incident.ref)
        return None
    return _jsonable(dict(outcome)) if isinstance(outcome, Mapping) else None


def gather(incident: Incident, *, covers_children: bool, mitigated_at: datetime | None) -> Facts:
    """The facts of ``incident`` as the record has them now."""
    incidents = covered_incidents(incident, covers_children)
    alerts = list(
        Alert.objects.filter(incident__in=incidents, suppressed=False)
        .select_related("service__team", "incident")
        .order_by("first_seen", "id")
    )
    services: dict[int, FactService] = {}
    for item in incidents:
        for service in item.services.select_related("team").order_by("name"):
            services.setdefault(service.pk, FactService(service.slug, service.name, service.team.slug))
    for alert in alerts:
        services.setdefault(
            alert.service_id, FactService(alert.service.slug, alert.service.name, alert.service.team.slug)
        )
    first_alert = min((a.started_at or a.first_seen for a in alerts), default=None)
    alert_acks = [a.acknowledged_at for a in alerts if a.acknowledged_at is not None]
    acknowledged = min([t for t in [incident.acknowledged_at, *alert_acks] if t is not None], default=None)
    mitigated = mitigated_at or getattr(incident, "mitigated_at", None)
    opened = incident.opened_at
    start = min(first_alert, opened) if first_alert is not None else opened
    times = Times(first_alert, opened, acknowledged, mitigated, incident.resolved_at)
    durations = Durations(
        detect=_seconds(first_alert, opened),
        acknowledge=_seconds(opened, acknowledged),
        mitigate=_seconds(opened, mitigated),
        resolve=_seconds(opened, incident.resolved_at),
        impact=_seconds(start, mitigated or incident.resolved_at),
    )
    return Facts(
        incidents=[FactIncident(i.ref, i.title, i.priority, i.state) for i in incidents],
        services=sorted(services.values(), key=lambda s: s.name.lower()),
        people=_people(incidents),
        alerts=[
            FactAlert(a.pk, a.summary, a.severity, a.service.name, a.first_seen, a.count, a.incident.ref)
            for a in alerts
            if a.incident is not None
        ],
        times=times,
        durations=durations,
        sla=sla_outcome(incident),
        generated_at=clock.now(),
    )


def default_key_entries(incidents: Iterable[Incident]) -> list[TimelineEntry]:
    """The timeline entries picked as key events before the author picks: declarations, state changes, roles,
    the alert that opened each incident, and the first that joined each (when it started to grow: a storm
    writes a line per alert, and a postmortem's key events are its story, not its alert log)."""
    covered = list(incidents)
    alert = incident_selectors.ALERT_LINE
    first_joined = (
        TimelineEntry.objects.filter(alert, incident__in=covered, message__contains="joined this incident")
        .values("incident")
        .annotate(first=Min("id"))
        .values("first")
    )
    return list(
        TimelineEntry.objects.filter(incident__in=covered)
        .filter(
            Q(kind__in=DEFAULT_KEY_KINDS)
            | (alert & Q(message__contains="opened this incident"))
            | Q(pk__in=first_joined)
        )
        .select_related("actor", "incident")
        .order_by("at", "id")
    )


def format_duration(seconds: int | None) -> str:
    """``45s``, ``6m``, ``1h 04m``, ``2d 3h``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m" if not secs else f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


__all__ = ["Facts", "format_duration", "gather", "impact_started"]
