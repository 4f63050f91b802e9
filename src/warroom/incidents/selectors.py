"""Reads of incidents, scoped to what the asking user may see.

Visibility rules:

* organisation admins see every incident;
* members of the assignment group (any role) see its incidents, unless the incident is private;
* participants (reporter, assignee, role holders, watchers, task owners) see the incidents they take part in;
* people paged for an incident see it (registered by ``warroom.paging``: :func:`also_visible_to`);
* private incidents are visible to their participants, the people paged for them, the team's admins and
  organisation admins only.

Anything else is a :class:`NotFound`, never a "forbidden" that would confirm the incident exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import Role, User
from warroom.incidents.models import (
    Category,
    EntryKind,
    Incident,
    IncidentRole,
    PriorityRule,
    RoleType,
    Task,
    TimelineEntry,
    Watcher,
    format_number,
    parse_number,
)
from warroom.incidents.priority import ITIL_DEFAULT
from warroom.incidents.states import OPEN_STATES
from warroom.lib.errors import NotFound, ValidationFailed
from warroom.lib.ids import as_id


def participant_q(user: User) -> Q:
    """Incidents ``user`` takes part in."""
    return (
        Q(reporter=user)
        | Q(assignee=user)
        | Q(pk__in=IncidentRole.objects.filter(user=user).values("incident_id"))
        | Q(pk__in=Watcher.objects.filter(user=user).values("incident_id"))
        | Q(pk__in=Task.objects.filter(owner=user).values("incident_id"))
    )


#: More reasons a person may see an incident, which apps downstream of this one know about (paging: the people it
#: paged, who must be able to open and acknowledge what woke them, whatever team they are in): each maps a user to
#: a ``Q`` of incidents. Registered from those apps' ``AppConfig.ready`` (:func:`also_visible_to`), so this app
#: does not import them.
_ALSO_VISIBLE: list[Callable[[User], Q]] = []


def also_visible_to(rule: Callable[[User], Q]) -> None:
    """Make the incidents ``rule(user)`` selects visible to ``user`` (private ones too: like participants)."""
    if rule not in _ALSO_VISIBLE:
        _ALSO_VISIBLE.append(rule)


def visible_incidents(user: User) -> QuerySet[Incident]:
    qs = Incident.objects.select_related("team", "assignee", "reporter", "category", "subcategory")
    if user.is_org_admin:
        return qs
    roles = accounts.roles_by_team(user)
    member_of = [team_id for team_id in roles]
    admin_of = [team_id for team_id, role in roles.items() if role == Role.ADMIN]
    seen = Q(team_id__in=member_of, is_private=False) | Q(team_id__in=admin_of) | participant_q(user)
    for rule in _ALSO_VISIBLE:
        seen |= rule(user)
    return qs.filter(seen)


def get_incident_for_user_or_404(user: User, *, ref: str | int) -> Incident:
    """An incident by number (``INC0001042``, ``1042``) if ``user`` may see it."""
    number = ref if isinstance(ref, int) else parse_number(str(ref))
    incident = visible_incidents(user).filter(number=number).first() if number is not None else None
    if incident is None:
        raise NotFound(f"incident {ref} not found")
    return incident


def can_write_notes(user: User, incident: Incident) -> bool:
    """Notes come from people who work the incident: those who may change it, its reporter, and the owners
    of its tasks. Watching an incident only lets you read it."""
    if can_edit(user, incident) or incident.reporter_id == user.pk:
        return True
    return Task.objects.filter(incident=incident, owner=user).exists()


def can_edit(user: User, incident: Incident) -> bool:
    """May change fields, state, roles and tasks: org admins and acting members of the assignment group,
    and the people holding a role or the assignment on it."""
    if accounts.can_act_for_team(user, incident.team_id):
        return True
    if incident.assignee_id == user.pk:
        return True
    return IncidentRole.objects.filter(incident=incident, user=user).exists()


@dataclass(frozen=True)
class IncidentFilter:
    state: list[str] | None = None
    priority: list[int] | None = None
    service: str | None = None
    team: str | None = None
    assignee: str | None = None
    text: str | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    is_major: bool | None = None
    open_only: bool = False


def filter_incidents(user: User, flt: IncidentFilter) -> QuerySet[Incident]:
    """The visible incidents that match ``flt``, newest first."""
    qs = visible_incidents(user)
    if flt.open_only:
        qs = qs.filter(state__in=["new", "in_progress", "on_hold"])
    if flt.state:
        qs = qs.filter(state__in=flt.state)
    if flt.priority:
        qs = qs.filter(priority__in=flt.priority)
    if flt.service:
        # A subquery, not a join: no duplicate rows, so the list needs no DISTINCT over every column.
        links = Incident.services.through.objects.all()
        links = (
            links.filter(service_id=ident)
            if (ident := as_id(flt.service)) is not None
            else links.filter(service__slug=flt.service)
        )
        qs = qs.filter(pk__in=links.values("incident_id"))
    if flt.team:
        team_id = as_id(flt.team)
        qs = qs.filter(team__slug=flt.team) if team_id is None else qs.filter(team_id=team_id)
    if flt.assignee:
        if flt.assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif (assignee_id := as_id(flt.assignee)) is not None:
            qs = qs.filter(assignee_id=assignee_id)
        else:
            qs = qs.filter(assignee__email__iexact=flt.assignee)
    if flt.text:
        text = flt.text.strip()
        number = parse_number(text)
        match = Q(title__icontains=text) | Q(description__icontains=text)
        if number is not None:
            match |= Q(number=number)
        qs = qs.filter(match)
    if flt.opened_after:
        qs = qs.filter(opened_at__gte=flt.opened_after)
    if flt.opened_before:
        qs = qs.filter(opened_at__lt=flt.opened_before)
    if flt.is_major is not None:
        qs = qs.filter(is_major=flt.is_major)
    return qs.order_by("-opened_at", "-number")


def open_incident_counts_by_service(user: User) -> dict[int, int]:
    """Service id → how many open incidents ``user`` can see on it (the services page)."""
    rows = (
        visible_incidents(user)
        .filter(state__in=["new", "in_progress", "on_hold"], services__isnull=False)
        .values("services")
        .annotate(n=Count("pk", distinct=True))
        .values_list("services", "n")
    )
    return dict(rows)


def incident_detail(incident: Incident) -> Incident:
    """Load, fresh from the database, what the detail page and API show, in a fixed number of queries.

    It re-reads the row on purpose: callers often hold the instance they fetched before a service changed it.
    """
    return (
        Incident.objects.select_related(
            "team", "assignee", "reporter", "category", "subcategory", "parent", "merged_into"
        )
        .prefetch_related(
            "services",
            "related",
            "children",
            "merged",
            Prefetch("roles", queryset=IncidentRole.objects.select_related("role_type", "user")),
            Prefetch("tasks", queryset=Task.objects.select_related("owner", "done_by")),
            Prefetch("watchers", queryset=Watcher.objects.select_related("user")),
        )
        .get(pk=incident.pk)
    )


#: the fields of the timeline lines that name another incident: its parent, a child, a related incident, the
#: incident it was merged into or that was merged into it
LINK_FIELDS = frozenset({"parent", "child", "related", "merged"})
#: what such a line says instead of an incident the viewer may not see (private, or another team's)
HIDDEN_INCIDENT = "an incident you cannot see"
_REF = re.compile(r"\bINC\d{7}\b")
#: the lines that name a child and its title ("Child incident attached: INC0001042 Checkout down")
_CHILD_WITH_TITLE = re.compile(r"^(Child incident (?:attached|detached): )(INC\d{7})\b.*$", re.DOTALL)


def hide_unseen(user: User, entries: Iterable[TimelineEntry | FoldedAlertLines]) -> None:
    """Make the lines of ``entries`` that name another incident (``LINK_FIELDS``) say
    :data:`HIDDEN_INCIDENT` instead of the number and title of one ``user`` may not see.

    Linking a private incident, or another team's, writes its number on this incident's timeline; whoever may
    see this incident may still not see that one. Done when the timeline is read, per viewer, so the line stays
    whole for those who may see both, and follows a later change of the other incident's privacy or team. The
    entries are changed in memory only (timeline rows are immutable)."""
    lines = [e for e in entries if isinstance(e, TimelineEntry) and e.field in LINK_FIELDS]
    named = {
        number
        for e in lines
        for text in (e.message, e.old_value, e.new_value)
        for ref in _REF.findall(text)
        if (number := parse_number(ref)) is not None
    }
    if not named:
        return
    seen = set(visible_incidents(user).filter(number__in=named).values_list("number", flat=True))
    hidden = {format_number(n) for n in named - seen}
    if not hidden:
        return

    def hide(text: str) -> str:
        return _REF.sub(lambda m: HIDDEN_INCIDENT if m.group(0) in hidden else m.group(0), text)

    for entry in lines:
        titled = _CHILD_WITH_TITLE.match(entry.message)
        if titled and titled.group(2) in hidden:
            entry.message = titled.group(1) + HIDDEN_INCIDENT
        else:
            entry.message = hide(entry.message)
        entry.old_value, entry.new_value = hide(entry.old_value), hide(entry.new_value)


def timeline(incident: Incident) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(incident=incident).select_related("actor").order_by("at", "id")


#: alert lines the console shows at each end of an incident's run of them (see :func:`console_timeline`)
ALERT_LINES_AT_EACH_END = 10
#: the timeline lines alerts write (one per alert that opened, joined or left an incident: ``record_alert``)
ALERT_LINE = Q(kind=EntryKind.LINK, field="alert")


@dataclass(frozen=True)
class FoldedAlertLines:
    """Where the console's timeline leaves out alert lines: how many, and the span of time they cover."""

    count: int
    first_at: datetime
    last_at: datetime
    folded = True  # what the template tells it from a TimelineEntry by


@dataclass(frozen=True)
class ConsoleTimeline:
    #: oldest first; a :class:`FoldedAlertLines` stands where alert lines were left out
    items: list[TimelineEntry | FoldedAlertLines]
    total: int


def alert_lines(incidents: list[Incident]) -> QuerySet[TimelineEntry]:
    """The lines alerts wrote on ``incidents`` (one per alert that opened, joined or left one), oldest first."""
    return timeline_of(incidents).filter(ALERT_LINE)


def timeline_of(incidents: list[Incident]) -> QuerySet[TimelineEntry]:
    return (
        TimelineEntry.objects.filter(incident__in=incidents)
        .select_related("actor", "incident")
        .order_by("at", "id")
    )


def ends_of_alert_lines(
    incident: Incident, *, each_end: int = ALERT_LINES_AT_EACH_END
) -> tuple[list[TimelineEntry], int]:
    """The alert lines of ``incident`` a page shows, and how many it has: all of them when they are few, else
    the first and the last ``each_end`` (a storm writes one per alert)."""
    lines = alert_lines([incident])
    count = lines.count()
    if count <= 2 * each_end + 1:
        return list(lines), count
    first = list(lines[:each_end])
    last = list(lines.order_by("-at", "-id")[:each_end])[::-1]
    return [*first, *last], count


def console_timeline(incident: Incident, *, each_end: int = ALERT_LINES_AT_EACH_END) -> ConsoleTimeline:
    """The timeline as the incident page shows it: every line, except that of a storm's alert lines ("Alert 812
    joined this incident", one per alert, thousands in a storm) only the first and last ``each_end`` are loaded,
    with a marker for the rest where they were. People's and paging lines always show. The page polls this, so
    its cost is bounded by the lines people and paging wrote, not by the alerts."""
    shown, alerts = ends_of_alert_lines(incident, each_end=each_end)
    others = list(timeline_of([incident]).exclude(ALERT_LINE))
    if len(shown) == alerts:
        every: list[TimelineEntry | FoldedAlertLines] = [
            *sorted([*shown, *others], key=lambda e: (e.at, e.pk))
        ]
        return ConsoleTimeline(every, len(every))
    first, last = shown[:each_end], shown[each_end:]
    fold = FoldedAlertLines(alerts - len(shown), first[-1].at, last[0].at)
    before_fold = [*first, *(e for e in others if (e.at, e.pk) < (last[0].at, last[0].pk))]
    after_fold = [*last, *(e for e in others if (e.at, e.pk) > (last[0].at, last[0].pk))]
    ordered: list[TimelineEntry | FoldedAlertLines] = [
        *sorted(before_fold, key=lambda e: (e.at, e.pk)),
        fold,
        *sorted(after_fold, key=lambda e: (e.at, e.pk)),
    ]
    return ConsoleTimeline(ordered, len(others) + alerts)


def role_types() -> QuerySet[RoleType]:
    return RoleType.objects.all()


def get_role_type_or_404(slug: str) -> RoleType:
    role_type = RoleType.objects.filter(slug=slug).first()
    if role_type is None:
        raise NotFound(
            f"role {slug!r} does not exist; roles are {', '.join(RoleType.objects.values_list('slug', flat=True))}"
        )
    return role_type


def categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).prefetch_related("subcategories")


def priority_matrix() -> dict[tuple[int, int], int]:
    """The current matrix; cells missing from the table fall back to the ITIL default."""
    matrix = dict(ITIL_DEFAULT)
    for impact, urgency, priority in PriorityRule.objects.values_list("impact", "urgency", "priority"):
        matrix[(impact, urgency)] = priority
    return matrix


def priority_for(impact: int, urgency: int) -> int:
    if impact not in (1, 2, 3):
        raise ValidationFailed("impact must be 1 (High), 2 (Medium) or 3 (Low)", field="impact")
    if urgency not in (1, 2, 3):
        raise ValidationFailed("urgency must be 1 (High), 2 (Medium) or 3 (Low)", field="urgency")
    rule = (
        PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    )
    return rule if rule is not None else ITIL_DEFAULT[(impact, urgency)]


def get_task_or_404(incident: Incident, task_id: int) -> Task:
    task = Task.objects.filter(incident=incident, pk=task_id).first()
    if task is None:
        raise NotFound(f"task {task_id} not found on {incident.ref}")
    return task


def open_incidents_assigned_to(user: User) -> list[LeftBehind]:
    """Open incidents assigned to ``user``: what deactivating them leaves without an assignee
    (:mod:`warroom.accounts.deactivation`)."""
    rows = (
        Incident.objects.filter(assignee=user, state__in=list(OPEN_STATES))
        .select_related("team")
        .order_by("number")
    )
    return [
        LeftBehind(
            "incident",
            f"{incident.ref} {incident.title}",
            f"assigned to them ({incident.team.name}), still {incident.get_state_display().lower()}",
        )
        for incident in rows
    ]
