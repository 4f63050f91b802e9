"""People's contact methods and notification rules, the outbox of messages and their delivery attempts.

The outbox is the paging path's source of truth: a message is a row, inserted in the same transaction as the
escalation step that caused it, and moved by the ``notify.send`` engine module through
``pending → sending → sent | failed`` (or ``cancelled`` / ``bundled``). See docs/notifications.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from warroom.lib.sealed import SealedJSONField


class Kind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"
    NTFY = "ntfy", "ntfy push"
    WEBHOOK = "webhook", "Webhook"


class Urgency(models.TextChoices):
    HIGH = "high", "High urgency"
    LOW = "low", "Low urgency"


class ContactMethod(models.Model):
    """Somewhere a person can be reached. Used for notifications only once verified and while not disabled.

    ``value`` holds the plain address (email, phone number, Slack channel id), ``display`` what may be shown to
    anyone who may see the method, ``secret`` credentials and secret URLs (webhook URLs, tokens, signing
    secrets), which the API and console never return.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=320, blank=True)
    display = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)
    secret = SealedJSONField(default=dict, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # the current verification code (only its HMAC), its expiry and the wrong guesses against it
    code_digest = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["user_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="contact_method_unique_name"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in Kind]), name="contact_method_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}: {self.display})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_usable(self) -> bool:
        """Verified and not disabled: notifications may go here."""
        return self.verified_at is not None and not self.disabled


class NotificationRule(models.Model):
    """One rung of a person's ladder: for ``urgency``, notify ``contact_method`` ``delay_minutes`` after the
    page starts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    urgency = models.CharField(max_length=8, choices=Urgency.choices)
    delay_minutes = models.PositiveIntegerField(default=0)
    working_hours_only = models.BooleanField(
        default=False,
        help_text="Low urgency only: hold the notification until the person's working hours (if they set any).",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["user_id", "urgency", "delay_minutes", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact_method", "urgency", "delay_minutes"], name="notification_rule_unique_rung"
            ),
            models.CheckConstraint(
                condition=models.Q(urgency__in=[u.value for u in Urgency]),
                name="notification_rule_urgency_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(delay_minutes__lte=1440), name="notification_rule_delay_range"
            ),
            models.CheckConstraint(
                condition=models.Q(working_hours_only=False) | models.Q(urgency="low"),
                name="notification_rule_working_hours_low_only",
            ),
        ]

    def __str__(self) -> str:
        held = " (working hours only)" if self.working_hours_only else ""
        return f"{self.urgency}: {self.contact_method} after {self.delay_minutes} min{held}"


class WorkingHours(models.Model):
    """A person's weekly working window, in their own IANA zone: on each day in ``days`` (a bit mask, bit 0 =
    Monday … bit 6 = Sunday) from ``start`` to ``end`` local time; an ``end`` at or before ``start`` runs past
    midnight. Low-urgency rules marked ``working_hours_only`` wait for it (see ``notify.working_hours``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    time_zone = models.CharField(max_length=64)
    days = models.PositiveSmallIntegerField(help_text="Bit mask: 1 = Monday … 64 = Sunday.")
    start = models.TimeField()
    end = models.TimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__gte=1, days__lte=127), name="working_hours_days_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"working hours of user {self.user_id}"


class ShiftReminder(models.IntegerChoices):
    """How long before each of their on-call shifts a person is reminded of it (minutes); 0 is never."""

    OFF = 0, "Off"
    MINUTES_15 = 15, "15 minutes before"
    HOUR_1 = 60, "1 hour before"
    HOURS_4 = 240, "4 hours before"
    DAY_1 = 1440, "1 day before"


class ShiftReminderSetting(models.Model):
    """A person's "Before my on-call shifts" setting: ``minutes_before`` one of :class:`ShiftReminder`. No row is
    the default, off. The ``oncall.shift_reminders`` engine module sends the reminders (docs/oncall.md)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="shift_reminder"
    )
    minutes_before = models.PositiveIntegerField(choices=ShiftReminder.choices, default=ShiftReminder.OFF)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes_before__in=ShiftReminder.values),
                name="shift_reminder_minutes_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"shift reminders of user {self.user_id}: {self.get_minutes_before_display()}"


class Category(models.TextChoices):
    NOTIFICATION = "notification", "Notification"
    VERIFICATION = "verification", "Verification code"
    TEST = "test", "Test message"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    BUNDLED = "bundled", "Bundled into another message"


#: states a message never leaves
FINAL_STATUSES = frozenset({Status.SENT, Status.FAILED, Status.CANCELLED, Status.BUNDLED})


class Failure(models.TextChoices):
    NONE = "", "—"
    PERMANENT = "permanent", "The provider refused it"
    EXHAUSTED = "exhausted", "Every retry failed"
    UNKNOWN = "unknown", "Outcome unknown (not resent: at most once)"
    UNUSABLE = "unusable", "The contact method cannot be used"


class Message(models.Model):
    """One message to one contact method: the outbox row.

    ``dedup_key`` is unique: the same logical message is inserted once however often its producer runs.
    ``delivery_id`` is fixed at insert and sent with every attempt, so receivers can drop repeats.
    ``next_attempt_at`` is when the sender may take it (the rule's delay, a backoff, a throttle);
    ``lease_until`` is set while ``sending``: past it, the channel's delivery policy decides (see
    ``warroom.integrations.base``). ``group`` lets the producer cancel what is still pending (an acknowledged
    incident's later rungs).
    """

    # The keys' own indexes are left out where a composite index below starts with the key (every index is
    # written on every insert, and on every status change: docs/performance.md, "Escalation").
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_messages", db_index=False
    )
    contact_method = models.ForeignKey(
        ContactMethod,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=200, help_text="The contact method as it was shown, for the log.")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.NOTIFICATION)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.HIGH)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=300, unique=True)
    group = models.CharField(max_length=200, blank=True, db_index=True)
    delivery_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure = models.CharField(max_length=16, choices=Failure.choices, default=Failure.NONE, blank=True)
    due_at = models.DateTimeField(help_text="When the rule said to send it.")
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    bundle_count = models.PositiveIntegerField(
        default=1, help_text="How many notifications this one carries."
    )
    bundled_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="bundled", db_index=False
    )
    provider_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    note = models.CharField(
        max_length=300, blank=True, help_text="Why it waits (throttled) or was cancelled."
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=models.Q(status="pending"), name="notify_msg_due"
            ),
            models.Index(
                fields=["lease_until"], condition=models.Q(status="sending"), name="notify_msg_leased"
            ),
            models.Index(fields=["contact_method", "status"], name="notify_msg_contact_status"),
            models.Index(fields=["user", "-created_at"], name="notify_msg_user_recent"),
            models.Index(
                fields=["bundled_into"],
                condition=models.Q(bundled_into__isnull=False),
                name="notify_msg_bundled_into",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in Status]), name="notify_msg_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sending") | models.Q(lease_until__isnull=False),
                name="notify_msg_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.target}: {self.subject} ({self.status})"


class Outcome(models.TextChoices):
    IN_FLIGHT = "in_flight", "In flight"
    SENT = "sent", "Sent"
    TRANSIENT = "transient", "Failed, will retry"
    PERMANENT = "permanent", "Failed permanently"
    UNKNOWN = "unknown", "Outcome unknown"
    LEASE_EXPIRED = "lease_expired", "The sender stopped before recording a result"
    RELEASED = "released", "Given back before sending"


class DeliveryAttempt(models.Model):
    """One call to a channel for one message (or a lease that expired before its result was recorded)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_attempts")
    contact_method = models.ForeignKey(
        ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="delivery_attempts"
    )
    number = models.PositiveIntegerField()
    delivery_id = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    counts_for_throttle = models.BooleanField(default=True)

    class Meta:
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="delivery_attempt_unique_number"),
        ]
        indexes = [models.Index(fields=["contact_method", "started_at"], name="notify_attempt_throttle")]

    def __str__(self) -> str:
        return f"attempt {self.number} of message {self.message_id}: {self.outcome}"
