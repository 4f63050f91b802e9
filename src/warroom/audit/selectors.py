"""Reading the audit log: who may, and the filters every interface (API, console, CSV) shares.

Organisation admins read the whole audit log. A team's admins read the rows about their team's objects: each
row keeps the team its object belonged to when it was written (``AuditEvent.team``, set by
:func:`warroom.audit.services.record`; older rows were given their object's team by migration 0004). Rows about
no team (people, tokens, organisation settings) are for organisation admins only. Anyone else gets a 403.

Filters: ``actor`` (a user id, or an email address matched without case against the email kept on the row),
``action`` (a prefix: ``incident.`` matches every incident action, ``incident.declare`` that one and any
``incident.declare.*``), ``source``, ``object_type`` (e.g. ``incidents.incident``) and ``object_id`` (exact),
``since`` (included) and ``before`` (excluded): ISO 8601 times with an offset (``2026-03-01T00:00:00Z``). A
malformed or naive time, a ``since`` not before ``before`` or an unknown source is a 400 naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Role, User
from warroom.audit.models import AuditEvent, Source
from warroom.lib import instants
from warroom.lib.errors import PermissionDenied, ValidationFailed
from warroom.lib.ids import as_id

TEXT_MAX = 254
#: longer digit strings are no user id (and would overflow the databases' integers)
ID_DIGITS_MAX = 18
MAY_NOT_READ = "only organisation admins and team admins read the audit log"


def admin_team_ids(user: User) -> list[int]:
    """The teams whose audit rows ``user`` reads as their admin."""
    return sorted(team_id for team_id, role in accounts.roles_by_team(user).items() if role == Role.ADMIN)


def may_read(user: User) -> bool:
    """Organisation admins (everything) and team admins (their teams' rows)."""
    return bool(user.is_active and (user.is_org_admin or admin_team_ids(user)))


def readable_events(user: User) -> QuerySet[AuditEvent]:
    """The rows ``user`` may read (403 for someone who may read none)."""
    require_reader(user)
    rows = AuditEvent.objects.all()
    return rows if user.is_org_admin else rows.filter(team_id__in=admin_team_ids(user))


def require_reader(user: User) -> None:
    if not may_read(user):
        raise PermissionDenied(MAY_NOT_READ)


def parse_instant(value: str | None, *, field: str) -> datetime | None:
    """An ISO 8601 time with an offset, as aware UTC; empty is None. Anything else is a 400 naming ``field``."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{field}: {text[:40]!r} is not an ISO 8601 time; give e.g. 2026-03-01T09:00:00Z", field=field
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationFailed(
            f"{field}: give the time with its offset (Z for UTC), e.g. {text[:19]}Z", field=field
        )
    return instants.to_utc(parsed, field=field)


@dataclass(frozen=True)
class AuditFilter:
    """What the log narrows to; ``None`` or empty means "any"."""

    actor: str | None = None
    action: str | None = None
    source: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    before: datetime | None = None

    def params(self) -> dict[str, str]:
        """The filters as query parameters (times in UTC, ``Z``)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "source": self.source,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
            "before": self.before.isoformat().replace("+00:00", "Z") if self.before else None,
        }
        return {key: value for key, value in values.items() if value}


def _text(value: str | None, *, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > TEXT_MAX:
        raise ValidationFailed(f"{field}: at most {TEXT_MAX} characters", field=field)
    return text or None


def make_filter(
    *,
    actor: str | None = None,
    action: str | None = None,
    source: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | datetime | None = None,
    before: str | datetime | None = None,
) -> AuditFilter:
    """Check the filters as given in a query string (times as text, or already parsed by a form)."""
    start = since if isinstance(since, datetime) or since is None else parse_instant(since, field="since")
    end = before if isinstance(before, datetime) or before is None else parse_instant(before, field="before")
    if start is not None and end is not None and start >= end:
        raise ValidationFailed("since: must be before the time given as before", field="since")
    chosen = _text(source, field="source")
    if chosen is not None and chosen not in Source.values:
        raise ValidationFailed(f"source: choose one of {', '.join(Source.values)}", field="source")
    return AuditFilter(
        actor=_text(actor, field="actor"),
        action=_text(action, field="action"),
        source=chosen,
        object_type=_text(object_type, field="object_type"),
        object_id=_text(object_id, field="object_id"),
        since=start,
        before=end,
    )


def filter_events(user: User, flt: AuditFilter) -> QuerySet[AuditEvent]:
    """The audit rows ``user`` may read matching ``flt``, newest first (403 for someone who may read none)."""
    rows = readable_events(user).order_by("-at", "-id")
    if flt.actor:
        actor_id = as_id(flt.actor) if len(flt.actor) <= ID_DIGITS_MAX else None
        rows = (
            rows.filter(actor_id=actor_id)
            if actor_id is not None
            else rows.filter(actor_email__iexact=flt.actor)
        )
    if flt.action:
        rows = rows.filter(action__startswith=flt.action)
    if flt.source:
        rows = rows.filter(source=flt.source)
    if flt.object_type:
        rows = rows.filter(object_type=flt.object_type.lower())
    if flt.object_id:
        rows = rows.filter(object_id=flt.object_id)
    if flt.since is not None:
        rows = rows.filter(at__gte=flt.since)
    if flt.before is not None:
        rows = rows.filter(at__lt=flt.before)
    return rows
