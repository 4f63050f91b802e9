"""Writing to the audit log. Called by other services inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from warroom.accounts.models import Team, User
from warroom.audit.models import AuditEvent
from warroom.lib import clock, request_id

#: ``team=`` left out: the team is found on the object (see :func:`team_of`)
FROM_OBJECT: Any = object()


def team_of(obj: models.Model) -> int | None:
    """The team an object belongs to, as far as the object itself says: a :class:`Team` is its own; anything
    with a ``team`` foreign key (services, incidents, schedules, memberships...) has that one; anything else
    (people, tokens, an incident's task) none, unless the caller passes ``team=`` to :func:`record`."""
    if isinstance(obj, Team):
        return obj.pk
    team_id = getattr(obj, "team_id", None)
    return team_id if isinstance(team_id, int) else None


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

    The row names the team of ``obj`` (:func:`team_of`), whose admins may read it; pass ``team`` for an object
    that belongs to a team through another one (an incident's task: the incident's team), or ``None``."""
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
