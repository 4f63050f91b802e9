"""Reads of alert-intake data, scoped to what the asking user may see.

Everything here hangs off a service, and a service belongs to a team: integrations, their keys and event log,
alerts, maintenance windows and change events are visible to the members (any role) of the service's team and
to organisation admins. Anything else is a :class:`NotFound`, never a "forbidden" that would confirm it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts.models import (
    Alert,
    AlertStatus,
    ChangeEvent,
    EventStatus,
    IntakeEvent,
    Integration,
    IntegrationKey,
    MaintenanceWindow,
    Severity,
)
from warroom.catalog.models import Service
from warroom.incidents import selectors as incidents
from warroom.incidents.models import Incident
from warroom.lib.errors import NotFound, ValidationFailed
from warroom.lib.ids import as_id

TEXT_MAX = 200


def _team_scope(user: User, prefix: str) -> Q:
    """Rows whose service (reached through ``prefix``) belongs to one of the user's teams."""
    if user.is_org_admin:
        return Q()
    return Q(**{f"{prefix}team_id__in": accounts.team_ids(user)})


def can_act_on_service(user: User, service: Service) -> bool:
    """May acknowledge and resolve the service's alerts: the team's admins, managers and responders."""
    return accounts.can_act_for_team(user, service.team_id)


def can_manage_service(user: User, service: Service) -> bool:
    """May change the service's integrations, keys and maintenance windows: the team's admins and managers."""
    return accounts.can_manage_team(user, service.team_id)


# ---------------------------------------------------------------------------------------------------------------
# integrations and keys


def visible_integrations(user: User) -> QuerySet[Integration]:
    return (
        Integration.objects.select_related("service__team", "heartbeat")
        .filter(_team_scope(user, "service__"))
        # case-insensitive on both databases: SQLite's default collation would put "Zabbix" before "alertmanager"
        .order_by(Lower("service__name"), Lower("name"), "id")
    )


def integrations_of(user: User, service: Service) -> QuerySet[Integration]:
    """The integrations of ``service`` (the caller already fetched it through the catalog selectors)."""
    return visible_integrations(user).filter(service=service).prefetch_related("keys")


def get_integration_for_user_or_404(user: User, *, integration_id: int | str) -> Integration:
    ident = as_id(integration_id)
    if ident is None:
        raise NotFound(f"integration {integration_id!r} not found")
    integration = visible_integrations(user).filter(pk=ident).first()
    if integration is None:
        raise NotFound(f"integration {integration_id} not found")
    return integration


def keys_of(integration: Integration) -> QuerySet[IntegrationKey]:
    """Newest first; revoked keys too (they say when)."""
    return IntegrationKey.objects.filter(integration=integration).order_by("-created_at", "-id")


def get_key_or_404(integration: Integration, *, key_id: int) -> IntegrationKey:
    key = keys_of(integration).select_related("integration__service").filter(pk=key_id).first()
    if key is None:
        raise NotFound(f"key {key_id} not found on integration {integration.pk}")
    return key


def events_of(integration: Integration, *, status: str | None = None) -> QuerySet[IntakeEvent]:
    """The integration's event log, newest first; ``status`` narrows to one of :class:`EventStatus`."""
    events = IntakeEvent.objects.filter(integration=integration).select_related("key").order_by("-id")
    if status:
        if status not in EventStatus.values:
            raise ValidationFailed(
                f"unknown status {status!r}; choose {', '.join(EventStatus.values)}", field="status"
            )
        events = events.filter(status=status)
    return events


# ---------------------------------------------------------------------------------------------------------------
# alerts


def visible_alerts(user: User) -> QuerySet[Alert]:
    return (
        Alert.objects.select_related("service__team", "integration", "incident", "suppressed_by")
        .filter(_team_scope(user, "service__"))
        .order_by("-first_seen", "-id")
    )


@dataclass(frozen=True)
class AlertFilter:
    """What the alert list narrows to; ``None`` or empty means "any"."""

    status: list[str] | None = None
    severity: list[str] | None = None
    service: str | None = None
    integration: int | None = None
    incident: Incident | None = None
    text: str | None = None
    open_only: bool = False


def filter_alerts(user: User, flt: AlertFilter) -> QuerySet[Alert]:
    """The visible alerts that match ``flt``, newest first. Unknown statuses or severities match nothing."""
    alerts = visible_alerts(user)
    if flt.open_only:
        alerts = alerts.exclude(status=AlertStatus.RESOLVED)
    if flt.status:
        alerts = alerts.filter(status__in=[s for s in flt.status if s in AlertStatus.values])
    if flt.severity:
        alerts = alerts.filter(severity__in=[s for s in flt.severity if s in Severity.values])
    if flt.service:
        key = flt.service.strip()
        service_id = as_id(key)
        alerts = (
            alerts.filter(service_id=service_id)
            if service_id is not None
            else alerts.filter(service__slug=key)
        )
    if flt.integration is not None:
        alerts = alerts.filter(integration_id=flt.integration)
    if flt.incident is not None:
        alerts = alerts.filter(incident=flt.incident)
    if flt.text:
        text = flt.text.strip()[:TEXT_MAX]
        match = Q(summary__icontains=text) | Q(dedup_key__icontains=text) | Q(source__icontains=text)
        if (ident := as_id(text)) is not None:
            match |= Q(pk=ident)
        alerts = alerts.filter(match)
    return alerts


def get_alert_for_user_or_404(user: User, *, alert_id: int | str) -> Alert:
    ident = as_id(alert_id)
    if ident is None:
        raise NotFound(f"alert {alert_id!r} not found")
    alert = visible_alerts(user).filter(pk=ident).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def alert_events(alert: Alert) -> QuerySet[IntakeEvent]:
    """The raw events that made or changed ``alert``, oldest first."""
    return IntakeEvent.objects.filter(alert=alert).order_by("id")


def visible_incident_ids(user: User, alerts: Iterable[Alert]) -> set[int]:
    """Which of the incidents ``alerts`` joined ``user`` may open (one query for a page of alerts)."""
    ids = {alert.incident_id for alert in alerts if alert.incident_id is not None}
    if not ids:
        return set()
    return set(incidents.visible_incidents(user).filter(pk__in=ids).values_list("pk", flat=True))


def incident_visible(user: User, incident_id: int | None) -> bool:
    """Whether the incident an alert joined may be shown to ``user`` (it may be private)."""
    if incident_id is None:
        return False
    return incidents.visible_incidents(user).filter(pk=incident_id).exists()


def alerts_of_incident(user: User, incident: Incident) -> QuerySet[Alert]:
    """The alerts grouped into ``incident`` that ``user`` may see, oldest first (the incident page)."""
    return visible_alerts(user).filter(incident=incident).order_by("first_seen", "id")


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows and change events


def visible_windows(user: User) -> QuerySet[MaintenanceWindow]:
    return (
        MaintenanceWindow.objects.select_related("service__team", "created_by")
        .filter(_team_scope(user, "service__"))
        .order_by("-starts_at", "-id")
    )


def windows_of(user: User, service: Service) -> QuerySet[MaintenanceWindow]:
    return visible_windows(user).filter(service=service)


def get_window_for_user_or_404(user: User, *, window_id: int | str) -> MaintenanceWindow:
    ident = as_id(window_id)
    if ident is None:
        raise NotFound(f"maintenance window {window_id!r} not found")
    window = visible_windows(user).filter(pk=ident).first()
    if window is None:
        raise NotFound(f"maintenance window {window_id} not found")
    return window


def changes_of(user: User, service: Service) -> QuerySet[ChangeEvent]:
    """The change events of ``service``, newest first."""
    return (
        ChangeEvent.objects.select_related("integration", "service__team")
        .filter(_team_scope(user, "service__"), service=service)
        .order_by("-happened_at", "-id")
    )
