"""On-call schedules: a team's schedule in an IANA time zone, its layers (rotations with participants and
restrictions), overrides, and the secret calendar feeds that publish it.

The rows only hold data; :mod:`warroom.oncall.rotation` computes who is on call from them (see
:mod:`warroom.oncall.selectors` for the translation) and :mod:`warroom.oncall.services` makes every change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from warroom.accounts.models import Team

#: All seven days, as the bit mask a :class:`Restriction` stores (bit 0 = Monday ... bit 6 = Sunday).
ALL_DAYS = 0b1111111


class Schedule(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Europe/London.")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="oncall_schedule_unique_name_per_team"),
        ]

    def __str__(self) -> str:
        return self.name


class RotationKind(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    CUSTOM = "custom", "Custom"


class LengthUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"


class Layer(models.Model):
    """A rotation: participants take turns in shifts of ``shift_length`` units (hours, days or weeks by kind).

    ``starts_on`` + ``starts_at`` is the wall-clock start in the schedule's zone (naive on purpose: the schedule's
    zone gives it meaning, and changing the zone keeps the wall-clock values). Higher ``priority`` wins.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    priority = models.PositiveIntegerField()
    rotation_kind = models.CharField(max_length=8, choices=RotationKind.choices, default=RotationKind.WEEKLY)
    shift_length = models.PositiveIntegerField(
        default=1, help_text="Hours (hourly), days (daily), weeks (weekly), or custom_unit s (custom)."
    )
    custom_unit = models.CharField(max_length=8, choices=LengthUnit.choices, default=LengthUnit.DAYS)
    handoff_time = models.TimeField(help_text="Local time of day day-based shifts change hands.")
    starts_on = models.DateField()
    starts_at = models.TimeField()
    created_at = models.DateTimeField()
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="LayerMember", related_name="oncall_layers"
    )

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "priority"], name="oncall_layer_unique_priority"),
            models.CheckConstraint(
                condition=models.Q(shift_length__gte=1, shift_length__lte=8760),
                name="oncall_layer_length_range",
            ),
            models.CheckConstraint(
                condition=models.Q(rotation_kind__in=[k.value for k in RotationKind]),
                name="oncall_layer_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(custom_unit__in=[u.value for u in LengthUnit]),
                name="oncall_layer_unit_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} / {self.name}"


class LayerMember(models.Model):
    """A participant's place in a layer's rotation. One person may appear at several positions."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="oncall_layer_member_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.layer} #{self.position}: {self.user}"


class Restriction(models.Model):
    """The layer only puts someone on call inside these windows: ``start_time``-``end_time`` (local) starting on
    each weekday set in ``days`` (bit 0 = Monday); an end at or before the start runs into the next day."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="restrictions")
    days = models.PositiveSmallIntegerField(default=ALL_DAYS)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["layer", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__gte=1, days__lte=ALL_DAYS), name="oncall_restriction_days_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.layer}: {self.start_time:%H:%M}-{self.end_time:%H:%M} ({self.days:07b})"


class Override(models.Model):
    """``user`` is on call from ``start`` to ``end`` (UTC) in place of ``replaces``, or in addition if empty."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["schedule", "end"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="oncall_override_order"
            ),
            models.CheckConstraint(
                condition=~models.Q(user=models.F("replaces")), name="oncall_override_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.user} {self.start:%Y-%m-%d %H:%M}-{self.end:%Y-%m-%d %H:%M}"


class FeedKind(models.TextChoices):
    SCHEDULE = "schedule", "One schedule"
    PERSONAL = "personal", "My shifts"


class CalendarFeed(models.Model):
    """A secret iCal URL. Only an HMAC of the secret is stored (see :mod:`warroom.lib.tokens`).

    ``schedule`` feeds publish one schedule's final shifts; ``personal`` feeds publish ``user``'s own shifts
    across the schedules they can see. Either kind works only while ``user`` is active and may see what it shows.
    """

    kind = models.CharField(max_length=10, choices=FeedKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=FeedKind.SCHEDULE, schedule__isnull=False)
                    | models.Q(kind=FeedKind.PERSONAL, schedule__isnull=True)
                ),
                name="oncall_feed_kind_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} feed of {self.user} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


class EscalationPolicy(models.Model):
    """Who to page, in what order, for a team's services: ordered steps, each paging its targets and then waiting
    ``delay_minutes`` before the next; after the last step the policy starts over ``repeat`` more times."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="escalation_policies")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="How many times to run the steps again.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="oncall_policy_unique_name_per_team"),
            models.CheckConstraint(condition=models.Q(repeat__lte=20), name="oncall_policy_repeat_range"),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """Step ``order`` (0-based) of a policy: page its targets, then wait ``delay_minutes``."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField(default=15)

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="oncall_step_unique_order"),
            models.CheckConstraint(
                condition=models.Q(delay_minutes__gte=1, delay_minutes__lte=1440),
                name="oncall_step_delay_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} step {self.order + 1}"


class TargetKind(models.TextChoices):
    USER = "user", "Person"
    SCHEDULE = "schedule", "Schedule (whoever is on call)"
    TEAM = "team", "Whole team"


class StepTarget(models.Model):
    """One target of a step: a person, a schedule (whoever is on call when the step fires) or a whole team
    (its admins, managers and responders)."""

    step = models.ForeignKey(EscalationStep, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=10, choices=TargetKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["step", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=TargetKind.USER, user__isnull=False, schedule__isnull=True, team__isnull=True
                    )
                    | models.Q(
                        kind=TargetKind.SCHEDULE, user__isnull=True, schedule__isnull=False, team__isnull=True
                    )
                    | models.Q(
                        kind=TargetKind.TEAM, user__isnull=True, schedule__isnull=True, team__isnull=False
                    )
                ),
                name="oncall_target_one_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step}: {self.kind} {self.user_id or self.schedule_id or self.team_id}"


class ServicePolicy(models.Model):
    """The escalation policy that pages for a service's incidents."""

    service = models.OneToOneField(
        "catalog.Service", on_delete=models.CASCADE, related_name="escalation", primary_key=True
    )
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="services")

    def __str__(self) -> str:
        return f"{self.service_id} → {self.policy}"
