"""Engine module ``alerts.process``: turns pending intake events into alerts (dedup) and incidents (grouping).

Events are taken oldest first in batches ``FOR UPDATE SKIP LOCKED``, one transaction per batch, so a crash
redoes the whole batch and two engines never take the same event. Dedup follows PagerDuty: a trigger with the
dedup key of an open alert of the same integration adds to it; after a resolve the key opens a new alert;
acknowledge/resolve for a key with no open alert is ignored and logged on the event.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from warroom.accounts.models import User
from warroom.alerts.grouping import fields_group_key
from warroom.alerts.models import Action, Alert, AlertStatus, EventStatus, Grouping, IntakeEvent, Integration
from warroom.alerts.services import active_maintenance
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.incidents.services import TITLE_MAX
from warroom.incidents.states import OPEN_STATES, ResolutionCode, State

log = logging.getLogger("warroom.alerts.engine")

BATCH = 200
MAX_BATCHES = 50  # at most 10,000 events per cycle, so one module never holds the cycle for long
SOURCE = "engine"


@registry.module("alerts.process", order=10)
def process(now: datetime) -> int:
    """Process pending intake events, oldest first, up to ``MAX_BATCHES`` batches; returns how many."""
    total = 0
    for _ in range(MAX_BATCHES):
        done = process_batch(now, limit=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def process_batch(now: datetime, *, limit: int) -> int:
    with transaction.atomic():
        events = list(
            IntakeEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("integration__service__team")
            .filter(status=EventStatus.PENDING)
            .order_by("id")[:limit]
        )
        # Arrival order matters (the first alert of a window opens the incident). Two engines working side by
        # side can therefore deadlock on each other's alerts; the batch is then redone (see _apply_safely).
        for event in events:
            _apply_safely(event, now)
    return len(events)


def _apply_safely(event: IntakeEvent, now: datetime) -> None:
    """Apply one event in a savepoint. An event that cannot be applied because of what it says is marked
    ignored with the error, so one bad event never blocks the queue; a transient database error aborts the
    batch instead, so no event is lost."""
    try:
        try:
            with transaction.atomic():
                status, reason, alert = _apply(event, now)
        except IntegrityError:
            # Another engine opened an alert with this dedup key between our look-up and our insert (the
            # partial unique index refused the second one). Its alert is committed now: apply again to it.
            with transaction.atomic():
                status, reason, alert = _apply(event, now)
    except (OperationalError, InterfaceError):
        # Transient (a deadlock with another engine, a lost connection): never drop the event. The whole batch
        # rolls back and is taken again next cycle.
        raise
    except Exception as exc:
        log.exception("intake event %s could not be processed", event.pk)
        status, reason, alert = (
            EventStatus.IGNORED,
            f"error while processing: {type(exc).__name__}: {exc}",
            None,
        )
    IntakeEvent.objects.filter(pk=event.pk).update(
        status=status, reason=reason[:4000], processed_at=now, alert=alert
    )


def _open_alert(event: IntakeEvent) -> Alert | None:
    return (
        Alert.objects.select_for_update(of=("self",))
        .filter(integration_id=event.integration_id, dedup_key=event.dedup_key)
        .exclude(status=AlertStatus.RESOLVED)
        .first()
    )


def _apply(event: IntakeEvent, now: datetime) -> tuple[str, str, Alert | None]:
    alert = _open_alert(event)
    if event.action == Action.TRIGGER:
        if alert is not None:
            Alert.objects.filter(pk=alert.pk).update(count=alert.count + 1, last_seen=event.received_at)
            return (
                EventStatus.PROCESSED,
                f"added to open alert {alert.pk} (seen {alert.count + 1} times)",
                alert,
            )
        alert = _new_alert(event)
        return EventStatus.PROCESSED, f"opened alert {alert.pk}; {alert.group_reason}", alert
    if alert is None:
        return (
            EventStatus.IGNORED,
            f"no open alert with dedup key {event.dedup_key!r}: nothing to {event.action}",
            None,
        )
    if event.action == Action.ACKNOWLEDGE:
        if alert.status == AlertStatus.ACKNOWLEDGED:
            return EventStatus.PROCESSED, f"alert {alert.pk} was already acknowledged", alert
        Alert.objects.filter(pk=alert.pk).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=event.received_at
        )
        return EventStatus.PROCESSED, f"acknowledged alert {alert.pk}", alert
    Alert.objects.filter(pk=alert.pk).update(
        status=AlertStatus.RESOLVED, resolved_at=event.received_at, last_seen=event.received_at
    )
    reason = f"resolved alert {alert.pk}"
    if alert.incident_id is not None:
        reason += _after_resolve(alert, event.integration)
    return EventStatus.PROCESSED, reason, alert


def _new_alert(event: IntakeEvent) -> Alert:
    integration = event.integration
    fields = event.fields
    alert = Alert.objects.create(
        integration=integration,
        service=integration.service,
        dedup_key=event.dedup_key,
        status=AlertStatus.TRIGGERED,
        severity=fields.get("severity") or "warning",
        summary=fields.get("summary") or event.dedup_key,
        source=fields.get("source") or "",
        details=fields.get("details") or {},
        links=fields.get("links") or [],
        first_seen=event.received_at,
        last_seen=event.received_at,
        group_key=event.group_key,
    )
    if integration.grouping == Grouping.FIELDS:
        alert.group_key, _ = fields_group_key(
            list(integration.group_fields), alert.summary, alert.source, alert.severity, alert.details
        )
        alert.save(update_fields=["group_key"])
    window = active_maintenance(integration.service_id, alert.first_seen)
    if window is not None:
        alert.suppressed = True
        alert.suppressed_by = window
        alert.group_reason = f"suppressed by maintenance window {window.pk} ({window.title}): no incident"
        alert.save(update_fields=["suppressed", "suppressed_by", "group_reason"])
        return alert
    _group(alert, integration)
    return alert


def _group_target(alert: Alert, integration: Integration) -> tuple[Incident | None, str]:
    """The open incident ``alert`` joins, with the reason; or (None, reason) for a new incident."""
    if integration.grouping == Grouping.FIELDS:
        # the alert's group key was set from the chosen fields when it was created (see _new_alert)
        sibling = (
            Alert.objects.filter(
                integration=integration,
                group_key=alert.group_key,
                incident__state__in=OPEN_STATES,
                suppressed=False,
            )
            .exclude(pk=alert.pk)
            .select_related("incident")
            .order_by("-first_seen", "-id")
            .first()
        )
        _, described = fields_group_key(
            list(integration.group_fields), alert.summary, alert.source, alert.severity, alert.details
        )
        if sibling is not None and sibling.incident is not None:
            return sibling.incident, f"same {described} as alert {sibling.pk}"
        return None, f"first alert with {described}: new incident"
    if integration.grouping == Grouping.GROUP_KEY:
        if not alert.group_key:
            return None, "grouping by group key, but the alert has none: new incident"
        sibling = (
            Alert.objects.filter(
                integration=integration, group_key=alert.group_key, incident__state__in=OPEN_STATES
            )
            .exclude(pk=alert.pk)
            .select_related("incident")
            .order_by("-first_seen", "-id")
            .first()
        )
        if sibling is not None and sibling.incident is not None:
            return sibling.incident, f"same group key {alert.group_key!r} as alert {sibling.pk}"
        return None, f"first alert of group key {alert.group_key!r}: new incident"
    if integration.grouping == Grouping.WINDOW:
        since = alert.first_seen - timedelta(minutes=integration.window_minutes)
        opener = (
            Alert.objects.filter(
                service=alert.service,
                opened_incident=True,
                first_seen__gte=since,
                incident__state__in=OPEN_STATES,
            )
            .exclude(pk=alert.pk)
            .select_related("incident")
            .order_by("-first_seen", "-id")
            .first()
        )
        if opener is not None and opener.incident is not None:
            return opener.incident, (
                f"within {integration.window_minutes} min of alert {opener.pk}, which opened the incident"
            )
        return (
            None,
            f"no open incident of the service in the last {integration.window_minutes} min: new incident",
        )
    return None, "one incident per alert"


def _title(summary: str) -> str:
    title = " ".join(summary.split()) or "Alert"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _group(alert: Alert, integration: Integration) -> None:
    incident, reason = _group_target(alert, integration)
    service = integration.service
    if incident is None:
        impact, urgency = integration.impact_urgency(alert.severity)
        incident = incidents.declare_incident(
            actor=None,
            source=SOURCE,
            title=_title(alert.summary),
            team=service.team,
            services=[service],
            impact=impact,
            urgency=urgency,
            reporter=None,
            opened_at=alert.first_seen,
        )
        alert.opened_incident = True
        verb = "opened this incident"
    else:
        verb = "joined this incident"
    alert.incident = incident
    alert.group_reason = reason
    alert.save(update_fields=["incident", "opened_incident", "group_reason"])
    incidents.record_alert(
        incident=incident,
        source=SOURCE,
        at=alert.first_seen,
        message=(
            f"Alert {alert.pk} ({alert.severity}) from {integration.name} {verb}: {alert.summary[:300]} "
            f"— {reason}"
        ),
    )


def _after_resolve(alert: Alert, integration: Integration) -> str:
    """The engine's side of a resolve from the source: a timeline line, then the auto-resolve rule."""
    if alert.incident_id is None:
        return ""
    incident = Incident.objects.filter(pk=alert.incident_id).first()
    if incident is None:
        return ""
    incidents.record_alert(
        incident=incident, source=SOURCE, message=f"Alert {alert.pk} resolved: {alert.summary[:300]}"
    )
    return resolve_incident_when_all_alerts_resolved(
        alert, integration, actor=None, source=SOURCE, notes="All alerts resolved at the source."
    )


def resolve_incident_when_all_alerts_resolved(
    alert: Alert, integration: Integration, *, actor: User | None, source: str, notes: str
) -> str:
    """Resolve the alert's incident when it was opened by an alert, all its alerts are resolved now and the
    integration asks for it (``auto_resolve_incident``); a person's resolve of the last alert counts the same as
    the source's. Returns what happened, for the event's reason. Runs in the caller's transaction."""
    incident = Incident.objects.filter(pk=alert.incident_id).first() if alert.incident_id else None
    if incident is None:
        return ""
    if not integration.auto_resolve_incident or incident.state not in OPEN_STATES:
        return ""
    if not Alert.objects.filter(incident=incident, opened_incident=True).exists():
        return ""
    if Alert.objects.filter(incident=incident).exclude(status=AlertStatus.RESOLVED).exists():
        return ""
    incidents.transition_incident(
        incident=incident,
        actor=actor,
        source=source,
        to=State.RESOLVED,
        resolution_code=ResolutionCode.RESOLVED_BY_CALLER,
        resolution_notes=notes,
    )
    return f"; all alerts of {incident.ref} resolved: incident resolved"

import warroom.alerts.heartbeat  # noqa: E402, F401  (registers alerts.heartbeats)
from warroom.alerts import retention  # noqa: E402, F401  (registers alerts.retention)
