"""Writes the console, API and CLI need beyond :mod:`warroom.alerts.services`: a person acknowledging or
resolving an alert by hand, an integration created with its first key, a maintenance window ended now.

Monitoring changes alerts through intake events that the engine applies; a person changes them here, with the
same effect: the alert row is locked and moved with a compare-and-set, its incident gets a timeline line, and a
resolve runs the engine's own auto-resolve rule (:func:`warroom.alerts.engine.resolve_incident_when_all_alerts_resolved`), so an
incident opened by alerts resolves when its last alert does, whoever resolved it. One transaction each, with
the audit row.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts import services
from warroom.alerts.engine import resolve_incident_when_all_alerts_resolved
from warroom.alerts.models import Alert, AlertStatus, Integration, Kind, MaintenanceWindow, Recurrence
from warroom.alerts.services import NewKey
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied


def _snapshot(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "acknowledged_at": str(alert.acknowledged_at) if alert.acknowledged_at else None,
        "resolved_at": str(alert.resolved_at) if alert.resolved_at else None,
    }


def _require_act(actor: User | None, alert: Alert) -> None:
    if actor is not None and not accounts.can_act_for_team(actor, alert.service.team_id):
        raise PermissionDenied(
            "only the team's responders, managers and admins acknowledge or resolve its alerts"
        )


def _lock(alert: Alert) -> Alert:
    return (
        Alert.objects.select_for_update(of=("self",))
        .select_related("integration__service__team", "service__team", "incident")
        .get(pk=alert.pk)
    )


def _who(actor: User | None, source: str) -> str:
    return f"{actor.display_name if actor else 'Warroom'} ({source})"


def acknowledge_alert(*, alert: Alert, actor: User | None, source: str) -> Alert:
    """Acknowledge a triggered alert. An acknowledged or resolved alert is a :class:`Conflict` (409)."""
    _require_act(actor, alert)
    with transaction.atomic():
        locked = _lock(alert)
        if locked.status != AlertStatus.TRIGGERED:
            raise Conflict(f"alert {locked.pk} is already {locked.status}", field="status")
        before = _snapshot(locked)
        now = clock.now()
        updated = Alert.objects.filter(pk=locked.pk, status=AlertStatus.TRIGGERED).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now
        )
        if updated != 1:  # pragma: no cover - the row lock makes this unreachable; kept as a guard
            raise Conflict(f"alert {locked.pk} changed meanwhile; reload and try again", field="status")
        locked.status, locked.acknowledged_at = AlertStatus.ACKNOWLEDGED, now
        if locked.incident is not None:
            incidents.record_alert(
                incident=locked.incident,
                source=source,
                at=now,
                message=f"Alert {locked.pk} acknowledged by {_who(actor, source)}: {locked.summary[:300]}",
            )
        audit.record(
            actor=actor,
            source=source,
            action="alert.acknowledge",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
    return locked


def resolve_alert(*, alert: Alert, actor: User | None, source: str) -> Alert:
    """Resolve an open alert; the next trigger with its dedup key opens a new alert. When it was the last open
    alert of an incident that alerts opened, and its integration asks for it, the incident resolves too. A
    resolved alert is a :class:`Conflict` (409)."""
    _require_act(actor, alert)
    with transaction.atomic():
        locked = _lock(alert)
        if locked.status == AlertStatus.RESOLVED:
            raise Conflict(f"alert {locked.pk} is already resolved", field="status")
        before = _snapshot(locked)
        now = clock.now()
        updated = (
            Alert.objects.filter(pk=locked.pk)
            .exclude(status=AlertStatus.RESOLVED)
            .update(status=AlertStatus.RESOLVED, resolved_at=now)
        )
        if updated != 1:  # pragma: no cover - the row lock makes this unreachable; kept as a guard
            raise Conflict(f"alert {locked.pk} changed meanwhile; reload and try again", field="status")
        locked.status, locked.resolved_at = AlertStatus.RESOLVED, now
        if locked.incident is not None:
            incidents.record_alert(
                incident=locked.incident,
                source=source,
                at=now,
                message=f"Alert {locked.pk} resolved by hand by {_who(actor, source)}",
            )
            resolve_incident_when_all_alerts_resolved(
                locked,
                locked.integration,
                actor=None,  # the rule resolves it, whoever may edit the incident; the note names the person
                source=source,
                notes=f"All alerts resolved (the last by hand, by {_who(actor, source)}).",
                wait=True,
            )
        audit.record(
            actor=actor,
            source=source,
            action="alert.resolve",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
    return locked


def move_alerts_on_merge(dup: Incident, keep: Incident, who: str) -> str:
    """The alerts' part of :func:`warroom.incidents.services.merge_incident` (registered in ``apps.py``): the
    duplicate's alerts move to ``keep`` with their counts, a reason naming the merge, no longer counted as having
    opened an incident, and acknowledged if ``keep`` is; later events with their dedup or group keys go to
    ``keep``. Locks them in id order after the incidents (the order of a person's acknowledgement)."""
    moved = list(
        Alert.objects.select_for_update(of=("self",))
        .filter(incident=dup)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not moved:
        return ""
    reason = f"moved here when {dup.ref} was merged into {keep.ref} by {who}; before: "
    Alert.objects.filter(pk__in=moved).update(
        incident=keep, opened_incident=False, group_reason=Concat(Value(reason), F("group_reason"))
    )
    if keep.acknowledged_at is not None:  # as acknowledging ``keep`` did to its own alerts
        Alert.objects.filter(pk__in=moved, status=AlertStatus.TRIGGERED).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=clock.now()
        )
    shown = ", ".join(str(pk) for pk in moved[:20]) + (
        f" and {len(moved) - 20} more" if len(moved) > 20 else ""
    )
    return f"{len(moved)} alert{'s' if len(moved) != 1 else ''} moved: {shown}"


def create_integration_with_key(
    *, service: Service, kind: str, name: str, actor: User | None, source: str, **options: Any
) -> tuple[Integration, NewKey | None]:
    """Create an integration and, unless it is an email integration (whose address is its credential), its
    first key, in one transaction: the console shows the key once, right away. ``options`` are the keyword
    arguments of :func:`warroom.alerts.services.create_integration`."""
    with transaction.atomic():
        integration = services.create_integration(
            service=service, kind=kind, name=name, actor=actor, source=source, **options
        )
        if integration.kind == Kind.EMAIL:
            return integration, None
        new_key = services.create_integration_key(integration=integration, actor=actor, source=source)
    return integration, new_key


def end_maintenance_window(
    *, window: MaintenanceWindow, actor: User | None, source: str
) -> MaintenanceWindow:
    """End a window now: a one-off window ends at this moment; a recurring one stops repeating (its current
    occurrence ends too). A window that has not started yet, or is over, is a :class:`Conflict`: delete it
    instead."""
    now = clock.now()
    if window.starts_at > now:
        raise Conflict("the window has not started yet; delete it instead", field="ends_at")
    if window.recurrence == Recurrence.NONE:
        if window.ends_at <= now:
            raise Conflict("the window is already over", field="ends_at")
        return services.update_maintenance_window(window=window, actor=actor, source=source, ends_at=now)
    if window.repeat_until is not None and window.repeat_until <= now:
        raise Conflict("the window no longer repeats", field="repeat_until")
    return services.update_maintenance_window(window=window, actor=actor, source=source, repeat_until=now)
