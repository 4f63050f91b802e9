"""The ITIL incident record and what hangs off it: roles, tasks, watchers, the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.incidents import sla
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.incidents.states import HoldReason, ResolutionCode, State
from warroom.lib.ids import as_id

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


#: how every message about a test incident begins (pages, SLA notices, major-incident notices), so nobody is alarmed
TEST_MARK = "[TEST] "


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
    #: the incident this one was merged into as a duplicate (it was canceled then)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    opened_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    reopen_count = models.PositiveIntegerField(default=0)
    #: opened by a test alert (:func:`warroom.alerts.actions.send_test_alert`): no postmortem is required, no
    #: report counts it, no status page shows it, and its pages say "[TEST]"
    is_test = models.BooleanField(default=False, db_default=False)
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
    def message_mark(self) -> str:
        """:data:`TEST_MARK` for a test incident, else nothing: the start of every message about it."""
        return TEST_MARK if self.is_test else ""

    @property
    def is_open(self) -> bool:
        return self.state in {State.NEW, State.IN_PROGRESS, State.ON_HOLD}


def format_number(number: int) -> str:
    return f"{NUMBER_PREFIX}{number:0{NUMBER_DIGITS}d}"


def parse_number(ref: str) -> int | None:
    """``INC0001042``, ``inc1042`` or ``1042`` → 1042; anything else → None."""
    text = ref.strip().upper()
    text = text.removeprefix(NUMBER_PREFIX)
    return as_id(text) if len(text) <= 12 else None


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


#: What a line is, as a reader of the timeline calls it, where its kind alone says too little: the alert engine
#: and the paging runtime write their lines as LINK (with ``field`` "alert" or "paging"), as do links between
#: incidents and the overdue-update reminders of a major incident; the SLA engine writes FIELD lines. The rows
#: stay as written; only the label shown for them differs (:attr:`TimelineEntry.label`).
LINE_LABELS: dict[tuple[str, str], str] = {
    (EntryKind.LINK, "alert"): "Alert",
    (EntryKind.LINK, "paging"): "Paging",
    (EntryKind.LINK, "child"): "Child incident",
    (EntryKind.LINK, "related"): "Related incident",
    (EntryKind.LINK, "merged"): "Merged incident",
    (EntryKind.LINK, "major_update"): "Update reminder",
    (EntryKind.LINK, "workflow"): "Workflow",
    # the SLA engine's lines (started, 50/75/90 % used, breached, met) are FIELD lines of these fields
    (EntryKind.FIELD, "sla"): "SLA",
    (EntryKind.FIELD, "sla_response"): "SLA",
    (EntryKind.FIELD, "sla_resolution"): "SLA",
}


#: the kinds of line that can trigger a workflow (warroom.automation.runner)
TRIGGER_KINDS = ["created", "field", "state"]


class TimelineEntry(models.Model):
    """An immutable line of the incident's timeline. Never updated, never deleted by Warroom."""

    # The engine writes a line per alert of a storm: no index beyond what reading a timeline and deleting a user
    # need (the (incident, at) index serves the incident key; most lines have no actor).
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline", db_index=False)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["incident", "at"]),
            models.Index(
                fields=["actor"], condition=models.Q(actor__isnull=False), name="timeline_entry_actor"
            ),
            # the workflow runner's look-up of recent events (warroom.automation.runner): the kinds that can
            # trigger a workflow, by time; the alert engine's lines (LINK) are not in it
            models.Index(
                fields=["at", "id"],
                condition=models.Q(kind__in=TRIGGER_KINDS),
                name="timeline_entry_trigger_at",
            ),
        ]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("timeline entries are immutable")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """The line's label in the console: "Alert", "Paging", ... (:data:`LINE_LABELS`), else its kind's."""
        return LINE_LABELS.get((self.kind, self.field)) or str(self.get_kind_display())


# ---------------------------------------------------------------------------------------------------------------
# SLAs (docs/sla.md): business calendars, definitions, and the clocks that run on incidents.


def default_working_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00–17:00."""
    office = [["09:00", "17:00"]]
    return {"mon": office, "tue": office, "wed": office, "thu": office, "fri": office, "sat": [], "sun": []}


def default_pause_reasons() -> list[str]:
    return list(HoldReason.values)


def default_thresholds() -> list[int]:
    return list(sla.DEFAULT_THRESHOLDS)


class BusinessCalendar(models.Model):
    """Weekly working hours in an IANA zone, minus public holidays (``holidays`` package) and custom dates."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA zone, e.g. Europe/London.")
    working_hours = models.JSONField(
        default=default_working_hours,
        help_text='Local [start, end] pairs per weekday: {"mon": [["09:00", "17:00"]], ..., "sun": []}.',
    )
    holiday_country = models.CharField(
        max_length=8, blank=True, help_text="ISO 3166 code whose public holidays do not count (e.g. GB)."
    )
    holiday_subdivision = models.CharField(
        max_length=16, blank=True, help_text="Optional subdivision (e.g. ENG, SCT; US states)."
    )
    custom_holidays = models.JSONField(
        default=list, blank=True, help_text='Extra dates that do not count: ["2026-12-24", ...].'
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            sla.calendar(
                self.time_zone,
                self.working_hours,
                country=self.holiday_country,
                subdivision=self.holiday_subdivision,
                custom_holidays=self.custom_holidays,
            )
        except sla.CalendarError as exc:
            raise ValidationError({exc.field: exc.message}) from None


class SlaDefinition(models.Model):
    """Targets for one priority, optionally narrowed to a service or a team (the most specific wins)."""

    name = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_definitions"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_definitions"
    )
    response_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Business minutes to the first acknowledgement; empty: no response clock.",
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes to resolution; empty: no resolution clock."
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="definitions",
        help_text="Empty: around the clock (24×7).",
    )
    pause_on = models.JSONField(
        default=default_pause_reasons, blank=True, help_text="Hold reasons that pause the clocks."
    )
    warning_thresholds = models.JSONField(
        default=default_thresholds, help_text="Percentages, e.g. [50, 75, 90]."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__gte=1, priority__lte=5), name="sla_def_priority"
            ),
            models.CheckConstraint(
                condition=models.Q(service__isnull=True) | models.Q(team__isnull=True),
                name="sla_def_service_or_team",
            ),
            models.CheckConstraint(
                condition=models.Q(response_minutes__isnull=False)
                | models.Q(resolution_minutes__isnull=False),
                name="sla_def_has_a_target",
            ),
            models.CheckConstraint(
                condition=(models.Q(response_minutes__isnull=True) | models.Q(response_minutes__gte=1))
                & (models.Q(resolution_minutes__isnull=True) | models.Q(resolution_minutes__gte=1)),
                name="sla_def_targets_positive",
            ),
            models.UniqueConstraint(
                fields=["priority", "service"],
                condition=models.Q(is_active=True, service__isnull=False),
                name="sla_def_one_active_per_service",
            ),
            models.UniqueConstraint(
                fields=["priority", "team"],
                condition=models.Q(is_active=True, team__isnull=False),
                name="sla_def_one_active_per_team",
            ),
            models.UniqueConstraint(
                fields=["priority"],
                condition=models.Q(is_active=True, service__isnull=True, team__isnull=True),
                name="sla_def_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.service_id is not None and self.team_id is not None:
            errors["team"] = "a definition applies to a service or to a team, not both"
        if self.response_minutes is None and self.resolution_minutes is None:
            errors["resolution_minutes"] = "give a response target, a resolution target or both"
        for name in ("response_minutes", "resolution_minutes"):
            if getattr(self, name) == 0:
                errors[name] = "a target is at least 1 minute"
        if not isinstance(self.pause_on, list) or any(r not in HoldReason.values for r in self.pause_on):
            errors["pause_on"] = f"a list of hold reasons: {', '.join(HoldReason.values)}"
        try:
            sla.parse_thresholds(self.warning_thresholds)
        except sla.CalendarError as exc:
            errors["warning_thresholds"] = exc.message
        if errors:
            raise ValidationError(errors)

    @property
    def scope(self) -> str:
        if self.service_id is not None:
            return "service"
        return "team" if self.team_id is not None else "all"


class ClockKind(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


LIVE_CLOCK_STATES = (ClockState.RUNNING, ClockState.PAUSED)
STOPPED_CLOCK_STATES = (ClockState.MET, ClockState.BREACHED, ClockState.CANCELLED)


class SlaClock(models.Model):
    """One SLA clock on one incident. It keeps the terms it started with (target, calendar, pause reasons,
    thresholds), so editing a definition changes only clocks started afterwards. Business time used so far is
    ``elapsed`` plus, while running, the business time since ``running_since``."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sla_clocks")
    definition = models.ForeignKey(
        SlaDefinition, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    kind = models.CharField(max_length=16, choices=ClockKind.choices)
    state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.RUNNING)
    name = models.CharField(max_length=100, help_text="The definition's name when the clock started.")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target = models.DurationField()
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clocks",
        help_text="Empty: around the clock (24×7).",
    )
    pause_on = models.JSONField(default=list, blank=True)
    thresholds = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    elapsed = models.DurationField(default=timedelta(0))
    running_since = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    warnings_sent = models.JSONField(default=list, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["incident_id", "kind", "started_at", "id"]
        indexes = [models.Index(fields=["state", "next_check_at"], name="sla_clock_due")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ClockKind.values), name="sla_clock_kind"),
            models.CheckConstraint(condition=models.Q(state__in=ClockState.values), name="sla_clock_state"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        state=ClockState.RUNNING,
                        running_since__isnull=False,
                        paused_since__isnull=True,
                        stopped_at__isnull=True,
                    )
                    | models.Q(
                        state=ClockState.PAUSED,
                        running_since__isnull=True,
                        paused_since__isnull=False,
                        stopped_at__isnull=True,
                    )
                    | models.Q(
                        state__in=STOPPED_CLOCK_STATES,
                        running_since__isnull=True,
                        paused_since__isnull=True,
                        stopped_at__isnull=False,
                    )
                ),
                name="sla_clock_state_fields",
            ),
            # One clock of each kind per incident counts; replaced ones are cancelled.
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=~models.Q(state=ClockState.CANCELLED),
                name="sla_clock_one_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} SLA on {self.incident_id}: {self.state}"


# ---------------------------------------------------------------------------------------------------------------
# Major incidents (docs/incidents.md, "Major incidents"): who hears of them, and the update rhythm.


def default_update_minutes() -> dict[str, int]:
    """Minutes between updates per priority: P1 every 30, P2 every 60; other priorities have no rhythm."""
    return {"1": 30, "2": 60}


class MajorIncidentSettings(models.Model):
    """The one settings row (``pk=1``): the major-incident group (a team, extra people, or both) and the
    update rhythm per priority."""

    group_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Every active member of this team hears of promotions and demotions.",
    )
    group_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="People who hear of them too."
    )
    update_minutes = models.JSONField(
        default=default_update_minutes,
        help_text='Minutes between updates per priority, e.g. {"1": 30, "2": 60}; a missing priority: none.',
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "major incident settings"
        verbose_name_plural = "major incident settings"

    def __str__(self) -> str:
        return "Major incident settings"


class MajorUpdateRhythm(models.Model):
    """The update rhythm of one major incident: when it became major, the last update the engine saw, and the
    due instant it last reminded for (so each overdue period is reminded once, also across restarts)."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="major_rhythm")
    started_at = models.DateTimeField()
    last_update_at = models.DateTimeField()
    reminded_due_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"update rhythm of {self.incident_id}"
