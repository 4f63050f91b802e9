"""REST routes for major incidents: promote and demote, children, resolving a parent with its children, the
update rhythm of an incident, and the major-incident settings (organisation admins change them).

Another team's incident is a 404; someone who may see it but not change it gets a 403; a move the record's state
refuses is a 409; bad input is a 400 naming the field.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Router, Schema

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.accounts.schemas import caller, lookup, source_of, user_key
from warroom.incidents import major, selectors
from warroom.incidents.models import Incident, MajorIncidentSettings
from warroom.incidents.schemas import IncidentRef, Ref, incident_ref
from warroom.lib import clock
from warroom.lib.schema import InputSchema

router = Router(tags=["major incidents"])


class MajorNoteIn(InputSchema):
    note: str = Field("", description="Why (shown on the timeline and in the notification).")


class RhythmOut(Schema):
    every_minutes: int | None
    last_update_at: datetime
    due_at: datetime | None
    overdue: bool


class MajorOut(Schema):
    incident: IncidentRef
    is_major: bool
    version: int
    rhythm: RhythmOut | None
    children: list[IncidentRef]
    open_children: int


class ResolveIn(InputSchema):
    resolution_code: str
    resolution_notes: str
    also_children: bool = Field(
        False, description="Also resolve the open children with the same code and notes."
    )
    version: int | None = None


class ResolvedOut(Schema):
    incident: MajorOut
    resolved_children: list[IncidentRef]


class SettingsOut(Schema):
    group_team: str | None
    group_users: list[str]
    update_minutes: dict[str, int]


class SettingsIn(InputSchema):
    group_team: Ref | None = Field(None, description="Team slug or id; null for none.")
    group_users: list[Ref] | None = Field(None, description="Emails or ids of extra people.")
    update_minutes: dict[str, int] | None = Field(None, description='e.g. {"1": 30, "2": 60}')


def _major_json(user: User, incident: Incident) -> dict[str, Any]:
    fresh = Incident.objects.select_related("team", "assignee").get(pk=incident.pk)
    view = major.rhythm_view(fresh, clock.now())
    visible = selectors.visible_incidents(user).filter(parent=fresh).order_by("number")
    children = list(visible)
    return {
        "incident": incident_ref(fresh),
        "is_major": fresh.is_major,
        "version": fresh.version,
        "rhythm": None
        if view is None
        else {
            "every_minutes": int(view.interval.total_seconds() // 60) if view.interval else None,
            "last_update_at": view.last_update_at,
            "due_at": view.due_at,
            "overdue": view.overdue,
        },
        "children": [incident_ref(c) for c in children],
        "open_children": sum(1 for c in children if c.is_open),
    }


def _settings_json(row: MajorIncidentSettings) -> dict[str, Any]:
    return {
        "group_team": row.group_team.slug if row.group_team is not None else None,
        "group_users": sorted(row.group_users.values_list("email", flat=True)),
        "update_minutes": row.update_minutes,
    }


@router.get("/incidents/{ref}/major", response=MajorOut, summary="Major-incident status of an incident")
def get_major(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Whether it is major, its update rhythm (last update, next due, overdue) and its children."""
    user = caller(request)
    return _major_json(user, selectors.get_incident_for_user_or_404(user, ref=ref))


@router.post("/incidents/{ref}/major", response=MajorOut, summary="Promote to a major incident")
def promote(request: HttpRequest, ref: str, payload: Body[MajorNoteIn | None] = None) -> dict[str, Any]:
    """Notifies the major-incident group and starts the update rhythm; 409 if it is already major. The body
    (a ``note``) may be left out."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    note = payload.note if payload is not None else ""
    major.promote_to_major(incident=incident, actor=user, source=source_of(request), note=note)
    return _major_json(user, incident)


@router.delete("/incidents/{ref}/major", response=MajorOut, summary="Demote a major incident")
def demote(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    major.demote(incident=incident, actor=user, source=source_of(request))
    return _major_json(user, incident)


def _pair(request: HttpRequest, ref: str, child_ref: str) -> tuple[User, Incident, Incident]:
    user = caller(request)
    parent = selectors.get_incident_for_user_or_404(user, ref=ref)
    child = selectors.get_incident_for_user_or_404(user, ref=child_ref)
    return user, parent, child


@router.post("/incidents/{ref}/children/{child_ref}", response=MajorOut, summary="Attach a child incident")
def attach(request: HttpRequest, ref: str, child_ref: str) -> dict[str, Any]:
    user, parent, child = _pair(request, ref, child_ref)
    major.attach_child(parent=parent, child=child, actor=user, source=source_of(request))
    return _major_json(user, parent)


@router.delete("/incidents/{ref}/children/{child_ref}", response=MajorOut, summary="Detach a child incident")
def detach(request: HttpRequest, ref: str, child_ref: str) -> dict[str, Any]:
    user, parent, child = _pair(request, ref, child_ref)
    major.detach_child(parent=parent, child=child, actor=user, source=source_of(request))
    return _major_json(user, parent)


@router.post(
    "/incidents/{ref}/resolve-with-children",
    response=ResolvedOut,
    summary="Resolve a parent (and its children)",
)
def resolve(request: HttpRequest, ref: str, payload: ResolveIn) -> dict[str, Any]:
    """Resolve the incident; with ``also_children`` its open children too, in one transaction."""
    user = caller(request)
    incident = selectors.get_incident_for_user_or_404(user, ref=ref)
    _parent, children = major.resolve_with_children(
        incident=incident,
        actor=user,
        source=source_of(request),
        resolution_code=payload.resolution_code,
        resolution_notes=payload.resolution_notes,
        also_children=payload.also_children,
        expected_version=payload.version,
    )
    return {"incident": _major_json(user, incident), "resolved_children": [incident_ref(c) for c in children]}


@router.get("/major-incidents/settings", response=SettingsOut, summary="Read the major-incident settings")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    caller(request)
    return _settings_json(major.current_settings())


@router.put("/major-incidents/settings", response=SettingsOut, summary="Change the major-incident settings")
def put_settings(request: HttpRequest, payload: SettingsIn) -> dict[str, Any]:
    """Organisation admins only. Fields left out stay as they are; ``group_team: null`` clears the team."""
    user = caller(request)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    if "group_team" in sent:
        kwargs["group_team"] = (
            None
            if payload.group_team is None
            else lookup(
                "group_team", partial(accounts.get_team_for_user_or_404, user, key=payload.group_team)
            )
        )
    if "group_users" in sent:
        kwargs["group_users"] = [
            lookup("group_users", partial(accounts.get_user_for_user_or_404, user, key=user_key(k)))
            for k in payload.group_users or []
        ]
    if "update_minutes" in sent:
        kwargs["update_minutes"] = payload.update_minutes or {}
    row = major.configure(actor=user, source=source_of(request), **kwargs)
    return _settings_json(row)
