"""Learning from incidents: postmortems (sections, key events, 5 whys, contributing factors, reviewers,
comments, amendments), action items with their reminder log, and problem records (known errors when they carry a
workaround). Configuration: postmortem templates, the contributing-factor taxonomy and the postmortem policy.

Every row here is team-owned through its ``team`` (or its postmortem's team); reads go through
:mod:`warroom.reviews.selectors`, writes through :mod:`warroom.reviews.services`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib.ids import as_id
from warroom.reviews.states import ActionItemPriority, ActionItemStatus, PostmortemStatus, ProblemStatus

PROBLEM_PREFIX = "PRB"
PROBLEM_DIGITS = 7


# ---------------------------------------------------------------------------------------------------------------
# configuration


class PostmortemTemplate(models.Model):
    """Markdown sections a new postmortem starts with: ``sections`` is ``[{"key", "title", "hint"}, ...]``."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    sections = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="pm_template_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class FactorCategory(models.Model):
    """One entry of the contributing-factor taxonomy (change, capacity, dependency ...)."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "factor categories"

    def __str__(self) -> str:
        return self.name


class PostmortemPolicy(models.Model):
    """The organisation's one policy row (pk 1): which priorities need a postmortem when they resolve."""

    required_priorities = models.JSONField(default=list, help_text="Priorities (1-5) that need a postmortem.")
    template = models.ForeignKey(
        PostmortemTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_days = models.PositiveSmallIntegerField(
        default=5, help_text="A required postmortem is due this many days after the incident resolves."
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "postmortem policy"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="pm_policy_single_row")]

    def __str__(self) -> str:
        return "Postmortem policy"


# ---------------------------------------------------------------------------------------------------------------
# postmortems


class Postmortem(models.Model):
    """The review of one incident (a major incident's covers its children too)."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="postmortems")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT)
    template = models.ForeignKey(
        PostmortemTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    covers_children = models.BooleanField(
        default=False, help_text="Include the child incidents (alerts, services, people) in the facts."
    )
    required = models.BooleanField(default=False, help_text="Created because the policy requires it.")
    due_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the impact stopped, if before the resolution (the author's)."
    )
    detection_notes = models.TextField(blank=True)
    response_notes = models.TextField(blank=True)
    timeline_customized = models.BooleanField(
        default=False, help_text="The author picked key events; before that the default picks apply."
    )
    facts = models.JSONField(null=True, blank=True, help_text="The facts, frozen when published.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PostmortemStatus.values), name="pm_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PostmortemStatus.PUBLISHED) | models.Q(published_at__isnull=False),
                name="pm_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Postmortem of {self.incident_id}: {self.title}"

    @property
    def ref(self) -> str:
        """The postmortem is addressed by its incident's number."""
        return self.incident.ref

    @property
    def is_published(self) -> bool:
        return self.status == PostmortemStatus.PUBLISHED


class PostmortemSection(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=50)
    title = models.CharField(max_length=120)
    hint = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["postmortem", "key"], name="pm_section_unique_key")]

    def __str__(self) -> str:
        return self.title


class PostmortemReviewer(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["postmortem", "user"], name="pm_reviewer_unique")]

    def __str__(self) -> str:
        return f"{self.user} reviews {self.postmortem_id}"


class PostmortemComment(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    body = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.postmortem_id}"


class KeyEvent(models.Model):
    """A line of the postmortem's own timeline: an incident timeline entry the author picked (``entry``), or a
    backdated event the author added (no ``entry``). Never a write to the incident's timeline."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="key_events")
    entry = models.ForeignKey(
        TimelineEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "entry"],
                condition=models.Q(entry__isnull=False),
                name="pm_key_event_unique_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.text[:40]}"

    @property
    def is_manual(self) -> bool:
        return self.entry_id is None


class FiveWhy(models.Model):
    """One link of the "5 whys" chain; ``position`` orders the chain from the symptom to the root."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveIntegerField()
    question = models.CharField(max_length=500, blank=True)
    answer = models.TextField()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "5 whys step"

    def __str__(self) -> str:
        return f"why {self.position}: {self.answer[:40]}"


class ContributingFactor(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="factors")
    category = models.ForeignKey(FactorCategory, on_delete=models.PROTECT, related_name="+")
    description = models.TextField()
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.description[:40]}"


class Amendment(models.Model):
    """A change to a published postmortem: why, by whom, and each changed field's text before and after."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="amendments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField()
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"amendment {self.pk} of {self.postmortem_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("amendments are immutable")
        super().save(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# problems


class Problem(models.Model):
    """An ITIL problem: the unknown cause of one or more incidents. With a workaround it is a known error."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="problems")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    services = models.ManyToManyField(Service, related_name="problems", blank=True)
    incidents = models.ManyToManyField(Incident, related_name="problems", blank=True)
    status = models.CharField(max_length=24, choices=ProblemStatus.choices, default=ProblemStatus.NEW)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    known_error_at = models.DateTimeField(
        null=True, blank=True, help_text="When a workaround was first documented (it became a known error)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ProblemStatus.values), name="problem_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(workaround="") | models.Q(known_error_at__isnull=False),
                name="problem_known_error_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @property
    def ref(self) -> str:
        return format_problem_ref(self.pk)

    @property
    def is_known_error(self) -> bool:
        return bool(self.workaround.strip())


def format_problem_ref(pk: int) -> str:
    return f"{PROBLEM_PREFIX}{pk:0{PROBLEM_DIGITS}d}"


def parse_problem_ref(ref: str) -> int | None:
    """``PRB0000042``, ``prb42`` or ``42`` → 42; anything else → None."""
    text = ref.strip().upper().removeprefix(PROBLEM_PREFIX)
    return as_id(text) if len(text) <= 12 else None


# ---------------------------------------------------------------------------------------------------------------
# action items


class ActionItem(models.Model):
    """Follow-up work from a postmortem, an incident or a problem, tracked until done."""

    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="action_items")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    due_date = models.DateField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        choices=ActionItemPriority.choices, default=ActionItemPriority.MEDIUM
    )
    status = models.CharField(max_length=16, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN)
    postmortem = models.ForeignKey(
        Postmortem, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items"
    )
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_date", "priority", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["team", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(postmortem__isnull=False)
                | models.Q(incident__isnull=False)
                | models.Q(problem__isnull=False),
                name="action_item_linked",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ActionItemStatus.values), name="action_item_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__gte=1, priority__lte=3), name="action_item_priority_range"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=["done", "wont_do"], completed_at__isnull=False)
                    | (~models.Q(status__in=["done", "wont_do"]) & models.Q(completed_at__isnull=True))
                ),
                name="action_item_completed_iff_finished",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS)


class ActionItemReminder(models.Model):
    """One overdue reminder of one action item on one (UTC) day: the row that makes reminders once a day."""

    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    created_at = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0, help_text="Outbox rows the reminder produced.")
    skipped = models.TextField(blank=True, help_text="Why some or all of the owner's methods were skipped.")

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["action_item", "day"], name="action_item_reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"reminder of {self.action_item_id} on {self.day}"
