"""Writing to the audit log. Called by other services inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.lib import clock, request_id


def record(
    *,
    actor: User | None,
    source: str,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row for a write on ``obj``; the caller's transaction decides whether it lands."""
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
    )
