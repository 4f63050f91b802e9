"""REST routes for incidents: list, declare, read, change, move through states, roles, tasks, watchers,
links, the timeline and notes, plus the configuration they use (roles, categories, the priority matrix).

Every incident is fetched through :func:`selectors.get_incident_for_user_or_404`, so one that the caller may
not see is a 404 whatever the route. Every change goes through :mod:`warroom.incidents.services`, which checks
edit rights (403), the state machine and concurrent changes (409).

References in the path that do not resolve are 404s; references in the body (team, services, assignee,
category, parent ...) that do not resolve are 400s naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Body, Query, Router, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.accounts.schemas import (
    Page,
    Paging,
    caller,
    known_filter,
    lookup,
    paginate,
    source_of,
    user_key,
    user_ref,
)
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors, services
from warroom.incidents.models import Category, Incident, Subcategory
from warroom.incidents.schemas import (
    CategoryOut,
    IncidentDetailOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IncidentQuery,
    MergeIn,
    NoteIn,
    PriorityCellIn,
    PriorityMatrixOut,
    Ref,
    RelatedOut,
    RoleAssignmentOut,
    RoleIn,
    RoleTypeOut,
    TaskIn,
    TaskOut,
    TaskPatch,
    TimelineEntryOut,
    TransitionIn,
    WatcherIn,
    WatchingOut,
    category_json,
    incident_detail_json,
    incident_json,
    incident_ref,
    matrix_json,
    refuse_unknown_fields,
    role_json,
    role_type_json,
    task_json,
    timeline_json,
)
from warroom.lib import instants
from warroom.lib.errors import PermissionDenied, ValidationFailed

router = Router(tags=["incidents"])

_SIMPLE_FIELDS = ("title", "description", "impact", "urgency", "is_major", "is_private")


# ---------------------------------------------------------------------------------------------------------------
# resolving references from the body


def _team(user: User, key: Ref) -> Team:
    return lookup("team", partial(accounts.get_team_for_user_or_404, user, key=key))


def _default_team(user: User) -> Team:
    """The team to declare for when none is named: the only one the user acts for."""
    teams = list(accounts.actionable_teams(user).order_by("name")[:6])
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise PermissionDenied("you are not a responder in any team, so you cannot declare incidents")
    names = ", ".join(t.slug for t in teams[:5])
    raise ValidationFailed(f"team is required: you act for several teams ({names})", field="team")


def _person(user: User, field: str, key: Ref) -> User:
    return lookup(field, partial(accounts.get_user_for_user_or_404, user, key=user_key(key)))


def _services(user: User, keys: list[Ref]) -> list[Service]:
    return [lookup("services", partial(catalog.get_service_for_user_or_404, user, key=k)) for k in keys]


def _incident(user: User, field: str, key: Ref) -> Incident:
    return lookup(field, partial(selectors.get_incident_for_user_or_404, user, ref=key))


def _category(key: Ref) -> Category:
    text = str(key).strip()
    for category in selectors.categories():
        if str(category.pk) == text or category.name.lower() == text.lower():
            return category
    raise ValidationFailed(f"category: category {key!r} not found", field="category")


def _subcategory(key: Ref, category: Category | None) -> Subcategory:
    """By id, or by name within ``category`` (a name alone may be ambiguous across categories)."""
    text = str(key).strip()
    pool = [s for c in selectors.categories() for s in c.subcategories.all() if s.is_active]
    by_id = [s for s in pool if str(s.pk) == text]
    if by_id:
        return by_id[0]
    named = [
        s
        for s in pool
        if s.name.lower() == text.lower() and (category is None or s.category_id == category.pk)
    ]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationFailed(
            f"subcategory: {key!r} exists in several categories; name the category too", field="subcategory"
        )
    where = f" in category {category.name!r}" if category is not None else ""
    raise ValidationFailed(f"subcategory: subcategory {key!r} not found{where}", field="subcategory")


def _aware(value: datetime | None, *, field: str) -> datetime | None:
    """A filter time in UTC (naive is UTC); outside the accepted range (:mod:`warroom.lib.instants`) → 400."""
    return None if value is None else instants.assume_utc(value, field=field)


# ---------------------------------------------------------------------------------------------------------------
# rendering


def _detail(user: User, incident: Incident) -> dict[str, Any]:
    full = selectors.incident_detail(incident)
    prefetch_related_objects([full], "services__team")
    linked = {i.pk for i in (*full.children.all(), *full.related.all(), *full.merged.all())}
    linked |= {pk for pk in (full.parent_id, full.merged_into_id) if pk is not None}
    visible = (
        set(selectors.visible_incidents(user).filter(pk__in=linked).values_list("pk", flat=True))
        if linked
        else set()
    )
    return incident_detail_json(full, visible_ids=visible, can_edit=selectors.can_edit(user, full))


def _related(user: User, incident: Incident) -> dict[str, Any]:
    related = selectors.visible_incidents(user).filter(related=incident).order_by("number")
    return {"incident": incident.ref, "related": [incident_ref(i) for i in related]}


# ---------------------------------------------------------------------------------------------------------------
# incidents


def _check_filters(user: User, query: IncidentQuery, assignee: str | None) -> None:
    """The references of the list's filters: each must name a team, service or person the caller can see, or
    one an incident they see has (another team's, for someone taking part in it)."""

    def seen(**flt: Any) -> Callable[[], bool]:
        return lambda: selectors.filter_incidents(user, selectors.IncidentFilter(**flt)).exists()

    if query.team:
        find_team = partial(accounts.get_team_for_user_or_404, user, key=query.team)
        known_filter("team", find_team, seen=seen(team=query.team))
    if query.service:
        find_service = partial(catalog.get_service_for_user_or_404, user, key=query.service)
        known_filter("service", find_service, seen=seen(service=query.service))
    if assignee and assignee != "none":
        find_person = partial(accounts.get_user_for_user_or_404, user, key=user_key(assignee))
        known_filter("assignee", find_person, seen=seen(assignee=assignee))


@router.get("/incidents", response=Page[IncidentOut], summary="List incidents")
def list_incidents(request: HttpRequest, query: Query[IncidentQuery]) -> dict[str, Any]:
    """The incidents you may see, newest first, narrowed by any of the filters. A team, service or assignee
    you cannot see (and that no incident you see has) is a 400 naming the parameter."""
    user = caller(request)
    assignee = str(user.pk) if query.assignee == "me" else query.assignee
    _check_filters(user, query, assignee)
    flt = selectors.IncidentFilter(
        state=list(query.state) if query.state else None,
        priority=list(query.priority) if query.priority else None,
        service=query.service,
        team=query.team,
        assignee=assignee,
        text=query.q,
        opened_after=_aware(query.opened_after, field="opened_after"),
        opened_before=_aware(query.opened_before, field="opened_before"),
        is_major=query.is_major,
        open_only=query.open,
    )
    rows = selectors.filter_incidents(user, flt).prefetch_related("services__team")
    return paginate(rows, query, incident_json)


@router.post("/incidents", response={201: IncidentDetailOut}, summary="Declare an incident")
def declare_incident(request: HttpRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    """Open a new incident in state New. Priority follows from impact × urgency through the matrix."""
    user = caller(request)
    team = _team(user, payload.team) if payload.team is not None else _default_team(user)
    category = _category(payload.category) if payload.category is not None else None
    incident = services.declare_incident(
        actor=user,
        source=source_of(request),
        title=payload.title,
        team=team,
        description=payload.description,
        services=_services(user, payload.services),
        impact=payload.impact,
        urgency=payload.urgency,
        category=category,
        subcategory=_subcategory(payload.subcategory, category) if payload.subcategory is not None else None,
        assignee=_person(user, "assignee", payload.assignee) if payload.assignee is not None else None,
        is_major=payload.is_major,
        is_private=payload.is_private,
        parent=_incident(user, "parent", payload.parent) if payload.parent is not None else None,
    )
    return Status(201, _detail(user, incident))


@router.get("/incidents/{ref}", response=IncidentDetailOut, summary="Get an incident")
def get_incident(request: HttpRequest, ref: str) -> dict[str, Any]:
    """The full record: roles, tasks, watchers, links, services and the states it may move to next.
    ``ref`` is ``INC0001042`` or ``1042``."""
    user = caller(request)
    return _detail(user, selectors.get_incident_for_user_or_404(user, ref=ref))


def _patch_kwargs(
    user: User, incident: Incident, sent: dict[str, Any], payload: IncidentPatch
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {key: sent[key] for key in _SIMPLE_FIELDS if key in sent}
    if "team" in sent:
        if payload.team is None:
            raise ValidationFailed("an incident always has an assignment group (team)", field="team")
        kwargs["team"] = _team(user, payload.team)
    if "assignee" in sent:
        kwargs["assignee"] = None if payload.assignee is None else _person(user, "assignee", payload.assignee)
    if "category" in sent:
        kwargs["category"] = None if payload.category is None else _category(payload.category)
    if "subcategory" in sent:
        category = kwargs.get("category", incident.category)
        kwargs["subcategory"] = (
            None if payload.subcategory is None else _subcategory(payload.subcategory, category)
        )
    if "parent" in sent:
        kwargs["parent"] = None if payload.parent is None else _incident(user, "parent", payload.parent)
    if "services" in sent:
        if payload.services is None:
            raise ValidationFailed("services must be a list (send [] for none)", field="services")
        kwargs["services"] = _services(user, payload.services)
    return kwargs


@router.patch("/incidents/{ref}", response=IncidentDetailOut, summary="Change an incident")
def update_incident(request: HttpRequest, ref: str, payload: IncidentPatch) -> dict[str, Any]:
    """Change any editable field; only the fields sent change. Send ``version`` (from the record you read) to
    be refused with 409 if someone changed it meanwhile. A read-only or unknown field is a 422 naming it;
    ``null`` for a field that cannot be empty, a 400 naming it."""
    refuse_unknown_fields(json.loads(request.body))  # the schema has read what it knows; what else was sent?
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    sent = payload.dict(exclude_unset=True)
    updated = services.update_incident(
        incident=incident,
        actor=user,
        source=source_of(request),
        expected_version=payload.version,
        **_patch_kwargs(user, incident, sent, payload),
    )
    return _detail(user, updated)


@router.post("/incidents/{ref}/transition", response=IncidentDetailOut, summary="Change an incident's state")
def transition_incident(request: HttpRequest, ref: str, payload: TransitionIn) -> dict[str, Any]:
    """Move to state ``to`` if the state machine allows it from the current state (409 otherwise).
    On hold needs ``hold_reason``; resolved needs ``resolution_code`` and ``resolution_notes``."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    moved = services.transition_incident(
        incident=incident,
        actor=user,
        source=source_of(request),
        to=payload.to,
        hold_reason=payload.hold_reason,
        resolution_code=payload.resolution_code,
        resolution_notes=payload.resolution_notes,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(user, moved)


# ---------------------------------------------------------------------------------------------------------------
# timeline and notes


@router.get("/incidents/{ref}/timeline", response=Page[TimelineEntryOut], summary="Read the timeline")
def get_timeline(request: HttpRequest, ref: str, paging: Query[Paging]) -> dict[str, Any]:
    """Every entry, oldest first. A line naming another incident you may not see says "an incident you cannot
    see" instead of its number and title."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    return paginate(
        selectors.timeline(incident), paging, timeline_json, prepare=partial(selectors.hide_unseen, user)
    )


@router.post("/incidents/{ref}/notes", response={201: TimelineEntryOut}, summary="Add a note")
def add_note(request: HttpRequest, ref: str, payload: NoteIn) -> Status[dict[str, Any]]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    entry = services.add_note(incident=incident, actor=user, source=source_of(request), text=payload.text)
    return Status(201, timeline_json(entry))


# ---------------------------------------------------------------------------------------------------------------
# roles


@router.get("/roles", response=Page[RoleTypeOut], summary="List incident roles")
def list_roles(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    caller(request)
    return paginate(selectors.role_types(), paging, role_type_json)


@router.put(
    "/incidents/{ref}/roles/{role_slug}", response=RoleAssignmentOut, summary="Claim or assign a role"
)
def assign_role(
    request: HttpRequest, ref: str, role_slug: str, payload: Body[RoleIn | None] = None
) -> dict[str, Any]:
    """Give the role to ``user`` (default: you). Without ``replace`` it is a claim and fails with 409 when
    someone else holds the role."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    role_type = selectors.get_role_type_or_404(role_slug)
    body = payload or RoleIn(user=None, replace=False)
    holder = user if body.user is None else _person(user, "user", body.user)
    role = services.assign_role(
        incident=incident,
        role_type=role_type,
        user=holder,
        actor=user,
        source=source_of(request),
        replace=body.replace,
    )
    return {"incident": incident.ref, **role_json(role)}


@router.delete("/incidents/{ref}/roles/{role_slug}", response={204: None}, summary="Release a role")
def release_role(request: HttpRequest, ref: str, role_slug: str) -> Status[None]:
    """Nobody holds the role afterwards. 409 when nobody held it."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    role_type = selectors.get_role_type_or_404(role_slug)
    services.release_role(incident=incident, role_type=role_type, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# tasks


@router.post("/incidents/{ref}/tasks", response={201: TaskOut}, summary="Add a task")
def add_task(request: HttpRequest, ref: str, payload: TaskIn) -> Status[dict[str, Any]]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    owner = _person(user, "owner", payload.owner) if payload.owner is not None else None
    task = services.add_task(
        incident=incident, actor=user, source=source_of(request), title=payload.title, owner=owner
    )
    return Status(201, task_json(task))


@router.patch("/incidents/{ref}/tasks/{task_id}", response=TaskOut, summary="Change a task")
def update_task(request: HttpRequest, ref: str, task_id: int, payload: TaskPatch) -> dict[str, Any]:
    """Tick it off (``done``), give it to someone (``owner``, null for nobody) or rename it."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    task = selectors.get_task_or_404(incident, task_id)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {key: sent[key] for key in ("title", "done") if key in sent}
    if "owner" in sent:
        kwargs["owner"] = None if payload.owner is None else _person(user, "owner", payload.owner)
    updated = services.update_task(task=task, actor=user, source=source_of(request), **kwargs)
    return task_json(updated)


# ---------------------------------------------------------------------------------------------------------------
# watchers and links


def _watch(request: HttpRequest, ref: str, payload: WatcherIn | None, watching: bool) -> dict[str, Any]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    body = payload or WatcherIn(user=None)
    target = user if body.user is None else _person(user, "user", body.user)
    changed = services.set_watching(
        incident=incident, user=target, watching=watching, actor=user, source=source_of(request)
    )
    return {"incident": incident.ref, "user": user_ref(target), "watching": watching, "changed": changed}


@router.post("/incidents/{ref}/watchers", response=WatchingOut, summary="Watch an incident")
def add_watcher(request: HttpRequest, ref: str, payload: Body[WatcherIn | None] = None) -> dict[str, Any]:
    """Start watching (default: you). Watching someone else in needs edit rights."""
    return _watch(request, ref, payload, watching=True)


@router.delete("/incidents/{ref}/watchers", response=WatchingOut, summary="Stop watching an incident")
def remove_watcher(request: HttpRequest, ref: str, payload: Body[WatcherIn | None] = None) -> dict[str, Any]:
    """Stop watching (default: you)."""
    return _watch(request, ref, payload, watching=False)


@router.post(
    "/incidents/{ref}/merge", response=IncidentDetailOut, summary="Merge a duplicate into an incident"
)
def merge_incident(request: HttpRequest, ref: str, payload: MergeIn) -> dict[str, Any]:
    """Merge this incident, a duplicate, into ``into``: its alerts, children and watchers move there, and it is
    canceled with a link to ``into`` (``merged_into``). Both must be open and changeable by you (409, 403).
    Answers the incident that stays."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    into = _incident(user, "into", payload.into)
    kept = services.merge_incident(incident=incident, into=into, actor=user, source=source_of(request))
    return _detail(user, kept)


@router.post("/incidents/{ref}/related/{other_ref}", response=RelatedOut, summary="Relate two incidents")
def relate(request: HttpRequest, ref: str, other_ref: str) -> dict[str, Any]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    other = selectors.get_incident_for_user_or_404(user, ref=other_ref)
    services.link_related(incident=incident, other=other, actor=user, source=source_of(request), linked=True)
    return _related(user, incident)


@router.delete("/incidents/{ref}/related/{other_ref}", response=RelatedOut, summary="Unrelate two incidents")
def unrelate(request: HttpRequest, ref: str, other_ref: str) -> dict[str, Any]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    other = selectors.get_incident_for_user_or_404(user, ref=other_ref)
    services.link_related(incident=incident, other=other, actor=user, source=source_of(request), linked=False)
    return _related(user, incident)


# ---------------------------------------------------------------------------------------------------------------
# configuration


@router.get("/categories", response=Page[CategoryOut], summary="List categories")
def list_categories(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Active categories with their active subcategories."""
    caller(request)
    return paginate(selectors.categories(), paging, category_json)


@router.get("/priority-matrix", response=PriorityMatrixOut, summary="Read the priority matrix")
def get_priority_matrix(request: HttpRequest) -> dict[str, Any]:
    """Impact × urgency → priority, as currently configured."""
    caller(request)
    return matrix_json(selectors.priority_matrix())


@router.put("/priority-matrix", response=PriorityMatrixOut, summary="Change one cell of the priority matrix")
def set_priority_cell(request: HttpRequest, payload: PriorityCellIn) -> dict[str, Any]:
    """Organisation admins only. Existing incidents keep their priority."""
    user = caller(request)
    services.set_priority_rule(
        impact=payload.impact,
        urgency=payload.urgency,
        priority=payload.priority,
        actor=user,
        source=source_of(request),
    )
    return matrix_json(selectors.priority_matrix())
