"""Integrations and their keys, the raw intake log, and alerts.

Intake only writes :class:`IntakeEvent` rows (status ``pending``); the ``alerts.process`` engine module turns
them into :class:`Alert` rows (dedup) and incidents (grouping). One open alert per (integration, dedup key) is
enforced by a partial unique index.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from warroom.catalog.models import Service
from warroom.incidents.models import Incident

KEY_PREFIX = "wr_ik"
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
SIGNING_SECRET_MAX = 256

#: severity → (impact, urgency) for new incidents, unless an integration overrides it.
DEFAULT_SEVERITY_MAP: dict[str, list[int]] = {
    "critical": [1, 1],
    "error": [2, 1],
    "warning": [2, 2],
    "info": [3, 3],
}


def default_severity_map() -> dict[str, list[int]]:
    return {key: list(value) for key, value in DEFAULT_SEVERITY_MAP.items()}


class Kind(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    WEBHOOK = "webhook", "Generic JSON webhook"
    GRAFANA = "grafana", "Grafana alerting webhook"
    OPSGENIE = "opsgenie", "Opsgenie Alert API"


class Grouping(models.TextChoices):
    ALERT = "alert", "One incident per alert"
    GROUP_KEY = "group_key", "By the upstream group key"
    WINDOW = "window", "All alerts of the service within a time window"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class Action(models.TextChoices):
    TRIGGER = "trigger", "Trigger"
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    RESOLVE = "resolve", "Resolve"
    CHANGE = "change", "Change"


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    REJECTED = "rejected", "Rejected"


class AlertStatus(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Integration(models.Model):
    """Where a monitoring tool sends alerts for one service."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="integrations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    grouping = models.CharField(max_length=16, choices=Grouping.choices, default=Grouping.ALERT)
    window_minutes = models.PositiveIntegerField(default=10)
    severity_map = models.JSONField(default=default_severity_map)
    auto_resolve_incident = models.BooleanField(default=True)
    signing_secret = models.CharField(
        max_length=SIGNING_SECRET_MAX,
        blank=True,
        default="",
        help_text="HMAC-SHA256 secret the sender signs with (Grafana); blank: requests are not signed.",
    )

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="integration_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(grouping__in=Grouping.values), name="integration_grouping_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(window_minutes__gte=1, window_minutes__lte=1440),
                name="integration_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.name} / {self.name}"

    def impact_urgency(self, severity: str) -> tuple[int, int]:
        """(impact, urgency) for a new incident opened by an alert of ``severity``."""
        mapping: dict[str, Any] = self.severity_map or {}
        pair = mapping.get(severity) or DEFAULT_SEVERITY_MAP.get(severity) or DEFAULT_SEVERITY_MAP["warning"]
        return int(pair[0]), int(pair[1])


class IntegrationKey(models.Model):
    """A secret ``wr_ik_...`` key of an integration. Only its HMAC digest is stored."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise the key.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.integration_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Alert(models.Model):
    """One problem reported by monitoring; repeats of its dedup key while open add to ``count``."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=DEDUP_KEY_MAX)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.TRIGGERED)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    summary = models.CharField(max_length=SUMMARY_MAX)
    source = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    group_key = models.TextField(blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    opened_incident = models.BooleanField(
        default=False, help_text="This alert's arrival declared its incident."
    )
    group_reason = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_seen", "-id"]
        indexes = [
            models.Index(fields=["service", "status"]),
            models.Index(fields=["integration", "group_key"]),
            models.Index(fields=["incident", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=~models.Q(status="resolved"),
                name="alert_one_open_per_dedup_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AlertStatus.values), name="alert_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resolved") | models.Q(resolved_at__isnull=False),
                name="alert_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} {self.dedup_key} ({self.status})"


class IntakeEvent(models.Model):
    """One raw event as received (the integration's event log). Rejected requests with a known key are kept
    too, with the reason."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="events")
    key = models.ForeignKey(
        IntegrationKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    dedup_key = models.CharField(max_length=DEDUP_KEY_MAX, blank=True)
    group_key = models.TextField(blank=True)
    fields = models.JSONField(
        default=dict,
        blank=True,
        help_text="The normalised alert fields: summary, severity, source, details, links.",
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING)
    reason = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="intake_event_pending"),
            models.Index(fields=["integration", "received_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EventStatus.values), name="intake_event_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"event {self.pk} {self.action} {self.dedup_key} ({self.status})"
