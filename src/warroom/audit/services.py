"""Writing to the audit log. Called by other services inside their transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models

from warroom.accounts.models import Team, User
from warroom.audit.models import AuditEvent
from warroom.lib import clock, request_id

#: ``team=`` left out: the team is found on the object (see :func:`team_of`)
FROM_OBJECT: Any = object()


#: The foreign keys through which an object belongs to a team, tried in this order: an integration's key → its
#: integration → its service → the service's team; a schedule's layer or override → the schedule's team; a status
#: page's component → the page's team.
OWNERS = (
    "team",
    "incident",
    "service",
    "schedule",
    "page",
    "policy",
    "integration",
    "postmortem",
    "problem",
    "layer",
)


def team_of(obj: models.Model, _depth: int = 0) -> int | None:
    """The team an object belongs to: a :class:`Team` is its own; anything with a ``team`` foreign key (services,
    incidents, schedules, memberships...) has that one; anything else belongs to the team of its owner, followed
    through :data:`OWNERS` (a layer → its schedule; a key → its integration → its service); objects of no team
    (people, their contact methods, tokens, organisation-wide settings) none."""
    if isinstance(obj, Team):
        return obj.pk
    if _depth > 3:
        return None
    for name in OWNERS:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.many_to_one:
            continue
        if name == "team":
            team_id = getattr(obj, "team_id", None)
            return team_id if isinstance(team_id, int) else None
        try:
            owner = getattr(obj, name)
        except ObjectDoesNotExist:  # the owner is gone: a row of no team, for organisation admins
            return None
        return team_of(owner, _depth + 1) if owner is not None else None
    return None


def _team_id(obj: models.Model, team: Team | int | None) -> int | None:
    if team is FROM_OBJECT:
        return team_of(obj)
    return team.pk if isinstance(team, Team) else team


def record(
    *,
    actor: User | None,
    source: str,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    team: Team | int | None = FROM_OBJECT,
) -> AuditEvent:
    """Append one audit row for a write on ``obj``; the caller's transaction decides whether it lands.

    The row names the team of ``obj`` (:func:`team_of`), whose admins may read it; pass ``team`` to say otherwise
    (``None``: organisation admins only)."""
    team_id = _team_id(obj, team)
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        actor_name=actor.full_name if actor is not None else "",
        source=source,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
        request_id=request_id.current(),
        team_id=team_id,
    )
