"""Schemas of the incidents API and the functions that turn incidents into JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from ninja.errors import ValidationError
from pydantic import ConfigDict

from warroom.accounts.schemas import Paging, TeamRef, UserRef, team_ref, user_ref
from warroom.catalog.schemas import ServiceRef, service_ref
from warroom.incidents.models import (
    Category,
    EntryKind,
    Incident,
    IncidentRole,
    RoleType,
    Task,
    TimelineEntry,
)
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.incidents.states import TRANSITIONS, HoldReason, ResolutionCode, State, allowed_targets
from warroom.lib import markdown
from warroom.lib.apitypes import IsoDateTime, QueryPriority
from warroom.lib.schema import InputSchema

StateName = Literal["new", "in_progress", "on_hold", "resolved", "closed", "canceled"]
Ref = str | int
"""A reference to another object: a slug, name, email or ``INC`` number as text, or an id as a number."""


# ---------------------------------------------------------------------------------------------------------------
# input


class IncidentQuery(Paging):
    state: list[StateName] | None = Field(None, description="Repeatable: ?state=new&state=in_progress")
    priority: list[QueryPriority] | None = Field(None, description="Repeatable: ?priority=1&priority=2")
    service: str | None = Field(None, description="Service slug or id.")
    team: str | None = Field(None, description="Team slug or id.")
    assignee: str | None = Field(None, description='Email, id, "me", or "none" for unassigned.')
    q: str | None = Field(None, max_length=200, description="Text in title or description, or a number.")
    opened_after: IsoDateTime | None = Field(None, description="ISO-8601; naive times are UTC.")
    opened_before: IsoDateTime | None = Field(None, description="ISO-8601; naive times are UTC.")
    is_major: bool | None = None
    open: bool = Field(False, description="Only New, In Progress and On Hold incidents.")


class IncidentIn(InputSchema):
    title: str = Field(description="At most 200 characters.")
    team: Ref | None = Field(
        None, description="Assignment group (slug or id). Optional when you act for exactly one team."
    )
    description: str = Field("", description="Markdown, at most 50000 characters.")
    services: list[Ref] = Field(default_factory=list, description="Service slugs or ids.")
    impact: int = Field(2, description="1 High, 2 Medium, 3 Low.")
    urgency: int = Field(2, description="1 High, 2 Medium, 3 Low.")
    category: Ref | None = Field(None, description="Category name or id.")
    subcategory: Ref | None = Field(None, description="Subcategory name (within the category) or id.")
    assignee: Ref | None = Field(None, description="Email or id of a responder in the team.")
    is_major: bool = False
    is_private: bool = False
    parent: Ref | None = Field(None, description="Parent incident: INC0001042 or 1042.")


class IncidentPatch(InputSchema):
    """Only the fields sent change; send ``null`` to clear assignee, category, subcategory or parent. The other
    fields take no ``null`` (400 naming the field; send ``""`` for an empty description), and a field not listed
    here is refused (422), whether it is read-only (``state``, ``priority``, ``number`` ...) or unknown."""

    # The route refuses other fields itself, naming the read-only ones and where they change
    # (``refuse_unknown_fields``), so the schema lets them through to it; the OpenAPI document says that there
    # are none. Booleans for numbers are refused here, as in every body.
    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})

    # A null for a field that cannot be empty reaches the service, which refuses it (400 naming the field).
    title: str | None = None
    description: str | None = Field(None, description='Markdown, at most 50000 characters; "" for none.')
    impact: int | None = None
    urgency: int | None = None
    category: Ref | None = None
    subcategory: Ref | None = None
    team: Ref | None = None
    assignee: Ref | None = None
    is_major: bool | None = None
    is_private: bool | None = None
    parent: Ref | None = None
    services: list[Ref] | None = None
    version: int | None = Field(None, description="The version you saw; a newer one on the server is a 409.")


#: fields of the record that PATCH does not change, and where they do change
READ_ONLY_FIELDS = {
    "state": "move the incident with POST /incidents/{ref}/transition",
    "hold_reason": "it is set by the transition to on_hold (POST /incidents/{ref}/transition)",
    "resolution_code": "it is set by the transition to resolved (POST /incidents/{ref}/transition)",
    "resolution_notes": "they are set by the transition to resolved (POST /incidents/{ref}/transition)",
    "priority": "it follows from impact and urgency; change those",
    "children": "attach a child with POST /incidents/{ref}/children/{child}",
    "related": "relate incidents with POST /incidents/{ref}/related/{other}",
    "roles": "use PUT /incidents/{ref}/roles/{role}",
    "tasks": "use POST /incidents/{ref}/tasks",
    "watchers": "use POST /incidents/{ref}/watchers",
}


def refuse_unknown_fields(sent: object) -> None:
    """422 naming every field of the PATCH body ``sent`` (the parsed JSON) that PATCH does not change:
    read-only ones (with where they change, when somewhere) and unknown ones (a typo such as ``titel``)."""
    if not isinstance(sent, dict):
        return  # not an object: the schema refused it already
    extra = sorted(str(key) for key in sent if key not in IncidentPatch.model_fields)
    if not extra:
        return
    changeable = ", ".join(name for name in IncidentPatch.model_fields if name != "version")
    errors = []
    for name in extra:
        if name in READ_ONLY_FIELDS:
            message = f"{name} cannot be changed with PATCH: {READ_ONLY_FIELDS[name]}"
        elif name in IncidentDetailOut.model_fields:
            message = f"{name} is read-only"
        else:
            message = f"unknown field; PATCH changes {changeable}"
        errors.append({"loc": ("body", "payload", name), "msg": message, "type": "extra_forbidden"})
    raise ValidationError(errors)


class TransitionIn(InputSchema):
    to: str = Field(description=f"Target state: {', '.join(State.values)}.")
    hold_reason: str = Field("", description=f"Needed for on_hold: {', '.join(HoldReason.values)}.")
    resolution_code: str = Field("", description=f"Needed for resolved: {', '.join(ResolutionCode.values)}.")
    resolution_notes: str = Field("", description="Needed for resolved.")
    note: str = Field("", description="Optional note added to the timeline with the change.")
    version: int | None = Field(None, description="The version you saw; a newer one on the server is a 409.")


class NoteIn(InputSchema):
    text: str


class MergeIn(InputSchema):
    into: Ref = Field(
        description="The open incident that stays (e.g. INC0001040); this one is its duplicate."
    )


class RoleIn(InputSchema):
    user: Ref | None = Field(None, description="Email or id; default: you.")
    replace: bool = Field(
        False, description="Take the role over from its holder instead of failing with 409."
    )


class TaskIn(InputSchema):
    title: str
    owner: Ref | None = None


class TaskPatch(InputSchema):
    title: str | None = None
    owner: Ref | None = None
    done: bool | None = None


class WatcherIn(InputSchema):
    user: Ref | None = Field(None, description="Email or id; default: you.")


class PriorityCellIn(InputSchema):
    impact: int
    urgency: int
    priority: int


# ---------------------------------------------------------------------------------------------------------------
# output


class Choice(Schema):
    value: int | str
    label: str


class IncidentRef(Schema):
    ref: str
    number: int
    title: str
    state: str
    state_label: str


class CategoryRef(Schema):
    id: int
    name: str


class IncidentOut(Schema):
    ref: str = Field(description="INC0001042")
    number: int
    title: str
    state: str
    state_label: str
    priority: int
    priority_label: str
    impact: int
    impact_label: str
    urgency: int
    urgency_label: str
    team: TeamRef
    assignee: UserRef | None
    reporter: UserRef | None
    category: CategoryRef | None
    subcategory: CategoryRef | None
    services: list[ServiceRef]
    is_major: bool
    is_private: bool
    is_test: bool = Field(
        description="Opened by a test alert: no postmortem, in no report, on no status page."
    )
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    canceled_at: datetime | None
    updated_at: datetime
    version: int


class RoleHolderOut(Schema):
    role: str
    name: str
    user: UserRef
    assigned_at: datetime


class TaskOut(Schema):
    id: int
    title: str
    owner: UserRef | None
    done: bool
    done_at: datetime | None
    done_by: UserRef | None
    created_at: datetime
    created_by: UserRef | None


class TransitionOut(Schema):
    to: str
    label: str
    verb: str


class IncidentDetailOut(IncidentOut):
    description: str
    description_html: str = Field(description="The description rendered from markdown and sanitised.")
    hold_reason: str
    hold_reason_label: str
    resolution_code: str
    resolution_code_label: str
    resolution_notes: str
    reopen_count: int
    parent: IncidentRef | None
    children: list[IncidentRef]
    related: list[IncidentRef]
    merged_into: IncidentRef | None = Field(
        description="The incident this one was merged into as a duplicate (it was canceled then)."
    )
    merged: list[IncidentRef] = Field(description="The duplicates merged into this incident.")
    roles: list[RoleHolderOut]
    tasks: list[TaskOut]
    watchers: list[UserRef]
    allowed_transitions: list[TransitionOut]
    can_edit: bool = Field(description="Whether you may change this incident.")


class TimelineEntryOut(Schema):
    id: int
    at: datetime
    actor: UserRef | None
    source: str
    kind: str
    kind_label: str
    field: str
    old_value: str
    new_value: str
    message: str


class RoleTypeOut(Schema):
    slug: str
    name: str
    description: str


class CategoryOut(Schema):
    id: int
    name: str
    subcategories: list[CategoryRef]


class PriorityCellOut(Schema):
    impact: int
    urgency: int
    priority: int
    priority_label: str


class PriorityMatrixOut(Schema):
    cells: list[PriorityCellOut]
    impacts: list[Choice]
    urgencies: list[Choice]
    priorities: list[Choice]


class RoleAssignmentOut(Schema):
    incident: str
    role: str
    name: str
    user: UserRef
    assigned_at: datetime


class WatchingOut(Schema):
    incident: str
    user: UserRef
    watching: bool
    changed: bool = Field(description="False when nothing had to change.")


class RelatedOut(Schema):
    incident: str
    related: list[IncidentRef]


# ---------------------------------------------------------------------------------------------------------------
# rendering


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value else ""


def incident_ref(incident: Incident) -> dict[str, Any]:
    return {
        "ref": incident.ref,
        "number": incident.number,
        "title": incident.title,
        "state": incident.state,
        "state_label": State(incident.state).label,
    }


def incident_json(incident: Incident) -> dict[str, Any]:
    """The summary shown in lists. ``services`` should be prefetched."""
    return {
        **incident_ref(incident),
        "priority": incident.priority,
        "priority_label": Priority(incident.priority).label,
        "impact": incident.impact,
        "impact_label": Impact(incident.impact).label,
        "urgency": incident.urgency,
        "urgency_label": Urgency(incident.urgency).label,
        "team": team_ref(incident.team),
        "assignee": user_ref(incident.assignee),
        "reporter": user_ref(incident.reporter),
        "category": {"id": incident.category.pk, "name": incident.category.name}
        if incident.category
        else None,
        "subcategory": (
            {"id": incident.subcategory.pk, "name": incident.subcategory.name}
            if incident.subcategory
            else None
        ),
        "services": [service_ref(s) for s in sorted(incident.services.all(), key=lambda s: s.name)],
        "is_major": incident.is_major,
        "is_private": incident.is_private,
        "is_test": incident.is_test,
        "opened_at": incident.opened_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "closed_at": incident.closed_at,
        "canceled_at": incident.canceled_at,
        "updated_at": incident.updated_at,
        "version": incident.version,
    }


def role_json(role: IncidentRole) -> dict[str, Any]:
    return {
        "role": role.role_type.slug,
        "name": role.role_type.name,
        "user": user_ref(role.user),
        "assigned_at": role.assigned_at,
    }


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "owner": user_ref(task.owner),
        "done": task.is_done,
        "done_at": task.done_at,
        "done_by": user_ref(task.done_by),
        "created_at": task.created_at,
        "created_by": user_ref(task.created_by),
    }


def transitions_json(state: str) -> list[dict[str, Any]]:
    return [
        {"to": to.value, "label": to.label, "verb": TRANSITIONS[(State(state), to)]}
        for to in allowed_targets(state)
    ]


def incident_detail_json(
    incident: Incident,
    *,
    visible_ids: set[int],
    can_edit: bool,
) -> dict[str, Any]:
    """The full record. ``incident`` comes from ``selectors.incident_detail``; linked incidents the viewer
    may not see (``visible_ids``) are left out, so their existence does not leak."""
    parent = incident.parent if incident.parent_id in visible_ids else None
    merged_into = incident.merged_into if incident.merged_into_id in visible_ids else None
    return {
        **incident_json(incident),
        "description": incident.description,
        "description_html": markdown.render(incident.description),
        "hold_reason": incident.hold_reason,
        "hold_reason_label": _label(HoldReason, incident.hold_reason),
        "resolution_code": incident.resolution_code,
        "resolution_code_label": _label(ResolutionCode, incident.resolution_code),
        "resolution_notes": incident.resolution_notes,
        "reopen_count": incident.reopen_count,
        "parent": incident_ref(parent) if parent is not None else None,
        "children": _refs(incident.children.all(), visible_ids),
        "related": _refs(incident.related.all(), visible_ids),
        "merged_into": incident_ref(merged_into) if merged_into is not None else None,
        "merged": _refs(incident.merged.all(), visible_ids),
        "roles": [role_json(r) for r in incident.roles.all()],
        "tasks": [task_json(t) for t in incident.tasks.all()],
        "watchers": [user_ref(w.user) for w in incident.watchers.all()],
        "allowed_transitions": transitions_json(incident.state),
        "can_edit": can_edit,
    }


def _refs(incidents: Iterable[Incident], visible_ids: set[int]) -> list[dict[str, Any]]:
    return [incident_ref(i) for i in sorted(incidents, key=lambda i: i.number) if i.pk in visible_ids]


def timeline_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "at": entry.at,
        "actor": user_ref(entry.actor),
        "source": entry.source,
        "kind": entry.kind,
        "kind_label": _label(EntryKind, entry.kind),
        "field": entry.field,
        "old_value": entry.old_value,
        "new_value": entry.new_value,
        "message": entry.message,
    }


def role_type_json(role_type: RoleType) -> dict[str, Any]:
    return {"slug": role_type.slug, "name": role_type.name, "description": role_type.description}


def category_json(category: Category) -> dict[str, Any]:
    return {
        "id": category.pk,
        "name": category.name,
        "subcategories": [{"id": s.pk, "name": s.name} for s in category.subcategories.all() if s.is_active],
    }


def matrix_json(matrix: dict[tuple[int, int], int]) -> dict[str, Any]:
    return {
        "cells": [
            {
                "impact": impact,
                "urgency": urgency,
                "priority": priority,
                "priority_label": Priority(priority).label,
            }
            for (impact, urgency), priority in sorted(matrix.items())
        ],
        "impacts": [{"value": c.value, "label": c.label} for c in Impact],
        "urgencies": [{"value": c.value, "label": c.label} for c in Urgency],
        "priorities": [{"value": c.value, "label": c.label} for c in Priority],
    }
