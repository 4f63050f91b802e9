"""Integrations and their keys, the raw intake log, and alerts.

Intake only writes :class:`IntakeEvent` rows (status ``pending``); the ``alerts.process`` engine module turns
them into :class:`Alert` rows (dedup) and incidents (grouping). One open alert per (integration, dedup key) is
enforced by a partial unique index.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models

from warroom.catalog.models import Service
from warroom.incidents.models import Incident
from warroom.lib.sealed import SealedTextField
from warroom.lib.wallclock import local_to_utc, wall

KEY_PREFIX = "wr_ik"
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
SIGNING_SECRET_MAX = 256
DEFAULT_RATE_LIMIT = 6000

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
    EMAIL = "email", "Email"
    HEARTBEAT = "heartbeat", "Heartbeat monitor"
    GOALERT = "goalert", "GoAlert generic API"


class Grouping(models.TextChoices):
    ALERT = "alert", "One incident per alert"
    GROUP_KEY = "group_key", "By the upstream group key"
    WINDOW = "window", "All alerts of the service within a time window"
    FIELDS = "fields", "By chosen fields or labels"


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
    signing_secret = SealedTextField(  # at most SIGNING_SECRET_MAX characters (the services check)
        blank=True,
        default="",
        help_text=(
            "HMAC-SHA256 secret the sender signs with (Grafana, generic webhook); blank: requests are not signed."
        ),
    )
    group_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Grouping 'fields': the labels or detail fields whose values make the group (e.g. alertname, "
        "cluster).",
    )
    field_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Generic webhook: where each alert field is found in arbitrary JSON (dotted paths).",
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        default=DEFAULT_RATE_LIMIT,
        help_text="Requests per minute accepted per key; more get 429 with Retry-After. 0: no limit.",
    )
    email_address = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Email: the local part mail is sent to (<address>@<WARROOM_EMAIL_DOMAIN>).",
    )
    email_dedup_pattern = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Email: a regular expression over the subject; its first group (or the whole match) is the "
        "dedup key. Blank: the subject is the dedup key.",
    )
    email_resolve_pattern = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Email: a regular expression over the subject that marks a mail as resolving its alert.",
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

    # No index of a key alone where an index of Meta begins with it: each index costs every insert (see Meta).
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    dedup_key = models.CharField(max_length=DEDUP_KEY_MAX)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.TRIGGERED)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    summary = models.CharField(max_length=SUMMARY_MAX)
    source = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField()
    #: when the source says the problem began (Alertmanager's and Grafana's ``startsAt``, PagerDuty's
    #: ``payload.timestamp``), never after ``first_seen``; what "time to detect" counts from
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    group_key = models.TextField(blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_index=False
    )
    opened_incident = models.BooleanField(
        default=False, help_text="This alert's arrival declared its incident."
    )
    group_reason = models.TextField(blank=True)
    suppressed_by = models.ForeignKey(
        "MaintenanceWindow",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suppressed_alerts",
        help_text="The maintenance window that suppressed this alert (it opened no incident).",
        db_index=False,  # alert_suppressed_by, partial: most alerts have none
    )
    suppressed = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    #: sent from Warroom to check the integration end to end (:func:`warroom.alerts.actions.send_test_alert`):
    #: it opens its own test incident, never joins a real one, is never joined by a real alert (even one with
    #: its dedup key: the open-alert constraint below counts test and real alerts apart) and counts in no report
    is_test = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-first_seen", "-id"]
        # The alerts of a storm are inserted thousands a second and every index costs each insert: an index
        # that begins with a foreign key serves that key's look-ups too (deleting an integration, a service or
        # an incident), so the keys have no index of their own.
        indexes = [
            models.Index(fields=["service", "status"]),
            # Grouping asks for "the newest alert of this group key" and "the newest alert of the service that
            # opened an incident": a LIMIT 1 walk of these instead of reading every alert of the group or service.
            models.Index(
                fields=["integration", "group_key", "-first_seen", "-id"], name="alert_newest_in_group"
            ),
            models.Index(
                fields=["service", "-first_seen", "-id"],
                condition=models.Q(opened_incident=True),
                name="alert_newest_opener",
            ),
            models.Index(fields=["incident", "status"]),
            # the reports (warroom.analytics): alerts first seen in a period; an incident's first alert
            models.Index(fields=["first_seen"], name="alert_first_seen"),
            models.Index(fields=["incident", "first_seen"], name="alert_incident_first_seen"),
            models.Index(
                fields=["suppressed_by"],
                condition=models.Q(suppressed_by__isnull=False),
                name="alert_suppressed_by",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedup_key", "is_test"],
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

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # the (integration, received_at) index of Meta serves it
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
    #: a test alert sent from Warroom (:func:`warroom.alerts.actions.send_test_alert`), never from the sender
    is_test = models.BooleanField(default=False, db_default=False)

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


class Recurrence(models.TextChoices):
    NONE = "none", "Once"
    DAILY = "daily", "Every day"
    WEEKLY = "weekly", "Every week"


class MaintenanceWindow(models.Model):
    """While a window is active, alerts of its service are recorded as suppressed and open no incident.

    ``starts_at``–``ends_at`` is the first occurrence (exact instants). A recurring window repeats it every day or
    week **on the wall clock of** ``time_zone`` until ``repeat_until``: each repeat starts at the same local time
    and lasts the same wall-clock length, whatever DST does in between. The house DST rules apply
    (:mod:`warroom.lib.wallclock`, as on-call restriction windows): a repeat whose local start or end falls in a
    spring-forward gap starts or ends at the change itself; in a repeated (fall-back) hour a start takes the first
    occurrence and an end the last."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="maintenance_windows")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, default=Recurrence.NONE)
    repeat_until = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone whose wall clock the repeats keep."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["service", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(recurrence__in=Recurrence.values), name="maintenance_recurrence_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.service_id})"

    def period(self) -> timedelta | None:
        """The wall-clock distance between repeats (``None``: a one-off window)."""
        if self.recurrence == Recurrence.DAILY:
            return timedelta(days=1)
        if self.recurrence == Recurrence.WEEKLY:
            return timedelta(weeks=1)
        return None

    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)

    def wall_length(self) -> timedelta:
        """How long each occurrence lasts on the wall clock: that of the first one (its real length when the first
        one sits inside a repeated hour and the wall clock reads backwards)."""
        zone = self.zone()
        length = wall(self.ends_at, zone) - wall(self.starts_at, zone)
        return length if length > timedelta(0) else self.ends_at - self.starts_at

    def occurrence(self, n: int) -> tuple[datetime, datetime]:
        """The UTC instants of the ``n``-th occurrence (0: ``starts_at``–``ends_at`` itself), ignoring
        ``repeat_until``."""
        period = self.period()
        if n == 0 or period is None:
            return self.starts_at, self.ends_at
        zone = self.zone()
        local = wall(self.starts_at, zone) + n * period
        return local_to_utc(local, zone), local_to_utc(local + self.wall_length(), zone, ambiguous="last")

    def _index_near(self, at: datetime, period: timedelta) -> int:
        """The occurrence whose local start is the last at or before ``at``'s wall clock (its neighbours may
        hold ``at`` instead, by up to a DST change)."""
        zone = self.zone()
        return (wall(at, zone) - wall(self.starts_at, zone)) // period

    def is_active(self, at: datetime) -> bool:
        """Whether ``at`` falls inside this window or one of its repeats. Pure: no queries (the alert engine calls
        it for every new alert of a service with windows)."""
        if at < self.starts_at:
            return False
        period = self.period()
        if period is None:
            return at < self.ends_at
        if self.repeat_until is not None and at >= self.repeat_until:
            return False
        if self.wall_length() >= period:
            return True
        near = self._index_near(at, period)
        for n in (near + 1, near, near - 1):
            if n >= 0:
                start, end = self.occurrence(n)
                if start <= at < end:
                    return True
        return False

    def current_or_next(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence active at ``at``, else the next one, as UTC instants (an end cut at ``repeat_until``);
        ``None`` when no occurrence is left."""
        period = self.period()
        if period is None:
            return (self.starts_at, self.ends_at) if at < self.ends_at else None
        near = 0 if at < self.starts_at else max(0, self._index_near(at, period) - 1)
        for n in range(near, near + 4):
            start, end = self.occurrence(n)
            if self.repeat_until is not None and start >= self.repeat_until:
                return None
            if end > at:
                return start, end if self.repeat_until is None else min(end, self.repeat_until)
        return None


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # only a row written around the services (they validate) could hold one


class ChangeEvent(models.Model):
    """A change reported by a tool (a deploy, a config push): on the service's timeline, never pages."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="change_events")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="change_events")
    summary = models.CharField(max_length=SUMMARY_MAX)
    source = models.CharField(max_length=255, blank=True)
    links = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    happened_at = models.DateTimeField(help_text="The sender's timestamp, else when it was received.")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-happened_at", "-id"]
        indexes = [models.Index(fields=["service", "happened_at"])]

    def __str__(self) -> str:
        return f"change {self.pk}: {self.summary[:40]}"


class HeartbeatState(models.TextChoices):
    NEW = "new", "Waiting for the first ping"
    UP = "up", "Up"
    DOWN = "down", "Missed"


class HeartbeatMonitor(models.Model):
    """A job that must ping its URL every ``interval`` (plus ``grace``); a missed ping raises an alert through
    its integration, the next ping resolves it."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="heartbeat")
    interval_seconds = models.PositiveIntegerField()
    grace_seconds = models.PositiveIntegerField(default=60)
    state = models.CharField(max_length=8, choices=HeartbeatState.choices, default=HeartbeatState.NEW)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the heartbeat counts as missed: last ping + interval + grace."
    )

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=60, interval_seconds__lte=31 * 86400),
                name="heartbeat_interval_range",
            ),
            models.CheckConstraint(
                condition=models.Q(grace_seconds__lte=31 * 86400), name="heartbeat_grace_range"
            ),
        ]

    def __str__(self) -> str:
        return f"heartbeat {self.integration_id} ({self.state})"
