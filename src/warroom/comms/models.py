"""Stakeholder communication.

* :class:`StatusUpdate`: what the incident team tells stakeholders (status, message, audience, components).
* :class:`UpdateTemplate`: pre-filled messages per update status.
* :class:`Subscription`: an internal follower of a service, a team or one incident (email or signed webhook).
* :class:`StatusPage` → :class:`ComponentGroup` → :class:`Component` (linked to services), with
  :class:`ComponentStatusPeriod` (the history behind the uptime bars), :class:`Maintenance` (scheduled work) and
  :class:`PageSubscriber` (people and machines outside Warroom who follow a page).
* :class:`Delivery`: the subscriber outbox, the notify outbox's design (dedup key, stable delivery id, lease,
  retries) for recipients that are addresses, not Warroom users.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.incidents.models import Incident
from warroom.lib.sealed import SealedJSONField


class UpdateStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class Audience(models.TextChoices):
    INTERNAL = "internal", "Internal"
    PUBLIC = "public", "Public"
    BOTH = "both", "Internal and public"


#: audiences whose updates may appear on a status page or its feeds
PUBLIC_AUDIENCES = (Audience.PUBLIC, Audience.BOTH)
#: audiences whose updates reach internal subscribers
INTERNAL_AUDIENCES = (Audience.INTERNAL, Audience.BOTH)


class ComponentStatus(models.TextChoices):
    """Worst last: the order is the severity order (``SEVERITY``)."""

    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


SEVERITY = {status: rank for rank, status in enumerate(ComponentStatus.values)}


class StatusMode(models.TextChoices):
    MANUAL = "manual", "Set by hand"
    DERIVED = "derived", "Derived from open incidents of the linked services"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    SECRET_LINK = "secret_link", "Private: anyone with the secret link"
    SIGNED_IN = "signed_in", "Private: signed-in Warroom users"


class RecipientKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Signed webhook"


def recipient_key(kind: str, address: str) -> str:
    """What makes two addresses of a kind one recipient: an email address whatever its case, a URL as typed."""
    return address.lower() if kind == RecipientKind.EMAIL else address


class UpdateTemplate(models.Model):
    """A message that pre-fills the update form for one status; ``team`` None = every team's default."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=UpdateStatus.choices)
    name = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["status", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "status", "name"], name="comms_template_unique_name"),
            models.CheckConstraint(
                condition=models.Q(status__in=UpdateStatus.values), name="comms_template_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class StatusPage(models.Model):
    """A status page. ``team`` owns it (its admins edit it); its components may link any services."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="status_pages")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    #: HMAC of the secret link's token (``lib.tokens``): shown once when made, rotated by making a new one
    secret_digest = models.CharField(max_length=64, blank=True)
    logo_url = models.URLField(blank=True)
    brand_color = models.CharField(max_length=7, default="#1f6feb", help_text="#rrggbb")
    #: [{"label": "Support", "url": "https://..."}]
    footer_links = models.JSONField(default=list, blank=True)
    history_days = models.PositiveSmallIntegerField(default=90)
    #: changes (to a new random value) with everything the page shows; keys its cached renderings
    content_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visibility__in=Visibility.values), name="comms_page_visibility_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ComponentGroup(models.Model):
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["page", "name"], name="comms_group_unique_name")]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A thing stakeholders recognise ("API", "Checkout"). ``status`` is the current one: set by hand
    (``manual``) or kept by the engine from the open incidents of ``services`` (``derived``)."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    services = models.ManyToManyField(Service, blank=True, related_name="status_components")
    status_mode = models.CharField(max_length=8, choices=StatusMode.choices, default=StatusMode.DERIVED)
    status = models.CharField(
        max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    status_changed_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "name"], name="comms_component_unique_name"),
            models.CheckConstraint(
                condition=models.Q(status__in=ComponentStatus.values), name="comms_component_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status_mode__in=StatusMode.values), name="comms_component_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ComponentStatusPeriod(models.Model):
    """One stretch of one status: a component's history, written with every change of ``Component.status``
    (the open period has ``ended_at`` None; exactly one per component)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="periods")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["component", "started_at", "id"]
        indexes = [models.Index(fields=["component", "started_at"], name="comms_period_component_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["component"], condition=models.Q(ended_at__isnull=True), name="comms_period_one_open"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="comms_period_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component_id} {self.status} from {self.started_at}"


class MaintenanceState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Maintenance(models.Model):
    """Scheduled work announced on a page. While ``in_progress`` its components show under maintenance, and
    intake treats the window as a maintenance window of the components' services (``alert_windows``)."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="maintenances")
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    components = models.ManyToManyField(Component, blank=True, related_name="maintenances")
    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=MaintenanceState.choices, default=MaintenanceState.SCHEDULED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    #: the intake maintenance windows made for the components' services
    alert_windows = models.ManyToManyField("alerts.MaintenanceWindow", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-scheduled_start", "-id"]
        indexes = [models.Index(fields=["state", "scheduled_start"], name="comms_maint_state_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scheduled_end__gt=models.F("scheduled_start")),
                name="comms_maint_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=MaintenanceState.values), name="comms_maint_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class StatusUpdate(models.Model):
    """One stakeholder update on an incident. Append-only: a correction is a new update."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    status = models.CharField(max_length=16, choices=UpdateStatus.choices)
    message = models.TextField()
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.INTERNAL)
    components = models.ManyToManyField(Component, blank=True, related_name="updates")
    #: the component status this update sets for its components on the status pages (blank = leave them)
    component_status = models.CharField(max_length=24, choices=ComponentStatus.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["incident", "-created_at"], name="comms_update_incident_recent"),
            models.Index(fields=["audience", "-created_at"], name="comms_update_audience_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=UpdateStatus.values), name="comms_update_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(audience__in=Audience.values), name="comms_update_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status} ({self.audience})"


class Subscription(models.Model):
    """An internal follower: exactly one of ``service``, ``team``, ``incident``; delivered by email or signed
    webhook. Made by a signed-in user (no double opt-in: Warroom knows who asked)."""

    kind = models.CharField(max_length=8, choices=RecipientKind.choices)
    address = models.CharField(max_length=500, help_text="An email address or an https URL.")
    #: the webhook's signing secret (``{"signing_secret": ...}``), shown once
    secret = SealedJSONField(default=dict, blank=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(service__isnull=False, team__isnull=True, incident__isnull=True)
                    | models.Q(service__isnull=True, team__isnull=False, incident__isnull=True)
                    | models.Q(service__isnull=True, team__isnull=True, incident__isnull=False)
                ),
                name="comms_subscription_one_target",
            ),
            *(
                models.UniqueConstraint(
                    fields=["kind", "address", target],
                    condition=models.Q(**{f"{target}__isnull": False}),
                    name=f"comms_subscription_unique_{target}",
                )
                for target in ("service", "team", "incident")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.address}"


class PageSubscriber(models.Model):
    """Someone outside Warroom following a status page, optionally only some components. An email subscriber
    counts only once ``confirmed_at`` is set (double opt-in); a webhook subscriber is stored, confirmed, only after
    its endpoint answered the subscription challenge. Only confirmed subscribers receive anything."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    kind = models.CharField(max_length=8, choices=RecipientKind.choices)
    address = models.CharField(max_length=500)
    secret = SealedJSONField(default=dict, blank=True)
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "kind", "address"], name="comms_page_subscriber_unique"),
            # an email address is one subscriber whatever its case (``Ops@Example.com`` is ``ops@example.com``)
            models.UniqueConstraint(
                "page",
                Lower("address"),
                condition=models.Q(kind="email"),
                name="comms_page_subscriber_email_ci",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.address} on {self.page_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: ``Delivery.dedup_key`` of a message to a status page's subscriber starts with this.
PAGE_SUBSCRIBER_KEY_PREFIX = "statuspage:"


class Delivery(models.Model):
    """One message to one subscriber address: the subscriber outbox row (same rules as ``notify.Message``:
    ``dedup_key`` unique so a producer that runs twice inserts once; ``delivery_id`` fixed and sent with every
    attempt; leased while ``sending``; email and webhooks are at least once)."""

    kind = models.CharField(max_length=8, choices=RecipientKind.choices)
    address = models.CharField(max_length=500)
    secret = SealedJSONField(default=dict, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    #: channel context: the JSON a webhook carries, links an email shows (unsubscribe, incident page)
    context = models.JSONField(default=dict, blank=True)
    #: what the message is to its channel: a webhook's ``type`` is ``warroom.<category>`` (a stakeholder update,
    #: or a workflow's call, ``automation.runner``)
    category = models.CharField(max_length=32, default="stakeholder_update", db_default="stakeholder_update")
    dedup_key = models.CharField(max_length=300, unique=True)
    delivery_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    update = models.ForeignKey(
        StatusUpdate, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    maintenance = models.ForeignKey(
        Maintenance, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="comms_delivery_due",
            ),
            models.Index(
                fields=["lease_until"], condition=models.Q(status="sending"), name="comms_delivery_leased"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="comms_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sending") | models.Q(lease_until__isnull=False),
                name="comms_delivery_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address}: {self.subject} ({self.status})"

    @property
    def to_page_subscriber(self) -> bool:
        """A message to a status page's (public) subscriber rather than to an internal subscription."""
        return self.dedup_key.startswith(PAGE_SUBSCRIBER_KEY_PREFIX)
