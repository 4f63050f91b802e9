"""The ITIL incident record and what hangs off it: roles, tasks, watchers, the timeline."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.incidents.states import HoldReason, ResolutionCode, State

NUMBER_PREFIX = "INC"
NUMBER_DIGITS = 7


class Category(models.Model):
    """A configurable incident category (e.g. Network, Software); subcategories hang below."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Subcategory(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="subcategories")
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__position", "position", "name"]
        verbose_name_plural = "subcategories"
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="subcategory_unique_name")]

    def __str__(self) -> str:
        return f"{self.category.name} / {self.name}"


class PriorityRule(models.Model):
    """One cell of the priority matrix."""

    impact = models.PositiveSmallIntegerField(choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique_cell"),
            models.CheckConstraint(
                condition=models.Q(
                    impact__gte=1,
                    impact__lte=3,
                    urgency__gte=1,
                    urgency__lte=3,
                    priority__gte=1,
                    priority__lte=5,
                ),
                name="priority_rule_ranges",
            ),
        ]

    def __str__(self) -> str:
        return f"impact {self.impact} × urgency {self.urgency} → P{self.priority}"


class Counter(models.Model):
    """Named counters for human numbers (INC0001042). Incremented under a row lock."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class RoleType(models.Model):
    """A configurable incident role, such as Incident Commander."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Incident(models.Model):
    number = models.BigIntegerField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    services = models.ManyToManyField(Service, related_name="incidents", blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_incidents",
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subcategory = models.ForeignKey(
        Subcategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    impact = models.PositiveSmallIntegerField(choices=Impact.choices, default=Impact.MEDIUM)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices, default=Urgency.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MODERATE)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    hold_reason = models.CharField(max_length=32, choices=HoldReason.choices, blank=True)
    resolution_code = models.CharField(max_length=32, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_incidents",
    )
    is_major = models.BooleanField(default=False)
    is_private = models.BooleanField(default=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    related = models.ManyToManyField("self", symmetrical=True, blank=True)
    opened_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    reopen_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped by every change; for optimistic locking."
    )

    class Meta:
        ordering = ["-opened_at", "-number"]
        indexes = [
            models.Index(fields=["team", "state"]),
            models.Index(fields=["state", "priority"]),
            models.Index(fields=["assignee", "state"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=State.values), name="incident_state_valid"),
            models.CheckConstraint(
                condition=models.Q(
                    impact__gte=1,
                    impact__lte=3,
                    urgency__gte=1,
                    urgency__lte=3,
                    priority__gte=1,
                    priority__lte=5,
                ),
                name="incident_priority_ranges",
            ),
            # On Hold always has a reason, and only On Hold has one.
            models.CheckConstraint(
                condition=(models.Q(state=State.ON_HOLD) & ~models.Q(hold_reason=""))
                | (~models.Q(state=State.ON_HOLD) & models.Q(hold_reason="")),
                name="incident_hold_reason_iff_on_hold",
            ),
            # Resolved and Closed always carry a resolution code.
            models.CheckConstraint(
                condition=~models.Q(state__in=[State.RESOLVED, State.CLOSED]) | ~models.Q(resolution_code=""),
                name="incident_resolution_code_when_resolved",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="incident_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @property
    def ref(self) -> str:
        return format_number(self.number)

    @property
    def is_open(self) -> bool:
        return self.state in {State.NEW, State.IN_PROGRESS, State.ON_HOLD}


def format_number(number: int) -> str:
    return f"{NUMBER_PREFIX}{number:0{NUMBER_DIGITS}d}"


def parse_number(ref: str) -> int | None:
    """``INC0001042``, ``inc1042`` or ``1042`` → 1042; anything else → None."""
    text = ref.strip().upper()
    text = text.removeprefix(NUMBER_PREFIX)
    return int(text) if text.isdigit() and len(text) <= 12 else None


class IncidentRole(models.Model):
    """A role held by one person at a time on one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="roles")
    role_type = models.ForeignKey(RoleType, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="incident_roles"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["role_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "role_type"], name="incident_role_one_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.role_type} on {self.incident_id}: {self.user}"


class Task(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_tasks",
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Watcher(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watching")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "user"], name="watcher_unique")]

    def __str__(self) -> str:
        return f"{self.user} watches {self.incident_id}"


class EntryKind(models.TextChoices):
    CREATED = "created", "Declared"
    FIELD = "field", "Field changed"
    STATE = "state", "State changed"
    NOTE = "note", "Note"
    ROLE = "role", "Role"
    TASK = "task", "Task"
    WATCH = "watch", "Watcher"
    LINK = "link", "Link"


class TimelineEntry(models.Model):
    """An immutable line of the incident's timeline. Never updated, never deleted by Warroom."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("timeline entries are immutable")
        super().save(*args, **kwargs)
