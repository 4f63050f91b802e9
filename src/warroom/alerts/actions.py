"""Writes the console, API and CLI need beyond :mod:`warroom.alerts.services`: a person acknowledging or
resolving an alert by hand, an integration created with its first key, a maintenance window ended now, a test
alert sent through an integration.

Monitoring changes alerts through intake events that the engine applies; a person changes them here, with the
same effect: the alert row is locked and moved with a compare-and-set, its incident gets a timeline line, and a
resolve runs the engine's own auto-resolve rule (:func:`warroom.alerts.engine.resolve_incident_when_all_alerts_resolved`), so an
incident opened by alerts resolves when its last alert does, whoever resolved it. One transaction each, with
the audit row.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts import intake, services
from warroom.alerts.engine import resolve_incident_when_all_alerts_resolved
from warroom.alerts.models import (
    SUMMARY_MAX,
    Action,
    Alert,
    AlertStatus,
    EventStatus,
    IntakeEvent,
    Integration,
    Kind,
    MaintenanceWindow,
    Recurrence,
    Severity,
)
from warroom.alerts.services import NewKey
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.engine import wake
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

#: the dedup key of a test alert: this prefix and a random part, so that it never meets another alert's
TEST_KEY_PREFIX = "warroom-test-"
#: the ``source`` field of a test alert
TEST_SOURCE = "Warroom test alert"


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
    ``keep``. Locks them in id order after the incidents (the order of a person's acknowledgement).

    A test incident and a real one are never merged (a :class:`Conflict`, and the merge is rolled back): test
    alerts would land on a real incident, or real ones on a test incident that no report counts."""
    if dup.is_test != keep.is_test:
        test, real = (dup, keep) if dup.is_test else (keep, dup)
        raise Conflict(
            f"{test.ref} is a test incident and {real.ref} is not: a test incident is never merged with a "
            "real one",
            field="into",
        )
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


def summary_of_test_alert(integration: Integration, actor: User | None) -> str:
    """``Test alert from Prometheus prod sent by Bob Responder``: the summary of a test alert, and so the title of
    the test incident it opens."""
    who = actor.display_name if actor is not None else "Warroom"
    return f"Test alert from {integration.name} sent by {who}"[:SUMMARY_MAX]


def send_test_alert(
    *, integration: Integration, actor: User | None, source: str, severity: str = Severity.CRITICAL
) -> IntakeEvent:
    """Send a test alert through ``integration``, to check the whole path before the first real outage.

    Stores what intake stores for a trigger: a pending event of the integration's event log, marked ``is_test``,
    with a dedup key of its own (:data:`TEST_KEY_PREFIX` and a random part), and wakes the engine. The engine
    applies it as any alert (``warroom.alerts.engine``): a maintenance window of the service suppresses it; else it
    opens a test incident of its own (never joining a real one, never joined by a real alert), whose priority
    comes from the integration's severity map for ``severity`` and whose escalation pages whoever is on call,
    with "[TEST]" in the page. Test incidents need no postmortem, count in no report and show on no status page.
    Works the same for every kind of integration (heartbeat and email included): nothing is sent to the
    monitoring tool itself.

    The team's responders, managers and admins may send one; anyone else is a :class:`PermissionDenied` (403).
    A ``severity`` other than critical, error, warning or info is a :class:`ValidationFailed` naming it. Returns
    the stored event (the engine sets its alert)."""
    if actor is not None and not accounts.can_act_for_team(actor, integration.service.team_id):
        raise PermissionDenied(
            "only the team's responders, managers and admins send test alerts", field="integration"
        )
    if severity not in Severity.values:
        raise ValidationFailed(
            f"unknown severity {severity!r}; choose {', '.join(Severity.values)}", field="severity"
        )
    now = clock.now()
    who = _who(actor, source)
    summary = summary_of_test_alert(integration, actor)
    details = {"test": True, "sent_by": who}
    with transaction.atomic():
        event = IntakeEvent.objects.create(
            integration=integration,
            key=None,
            received_at=now,
            action=Action.TRIGGER,
            dedup_key=f"{TEST_KEY_PREFIX}{uuid.uuid4().hex}",
            fields={
                "summary": summary,
                "severity": str(severity),
                "source": TEST_SOURCE,
                "details": details,
                "links": [],
            },
            payload={"test_alert": True, "summary": summary, "severity": str(severity), "sent_by": who},
            status=EventStatus.PENDING,
            is_test=True,
        )
        audit.record(
            actor=actor,
            source=source,
            action="integration.test_alert",
            obj=integration,
            after={"event": event.pk, "dedup_key": event.dedup_key, "severity": str(severity)},
        )
        wake.soon(intake.PROCESS)
    return event
