"""Escalation state in rows: one :class:`IncidentEscalation` per incident (the GoAlert ``escalation_policy_state``),
one :class:`Page` per person per step per round (the database's guarantee of "paged once"), and the uses of signed
acknowledge links (single use)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from warroom.incidents.models import Incident
from warroom.oncall.models import EscalationPolicy


class EscalationStatus(models.TextChoices):
    ACTIVE = "active", "Escalating"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    EXHAUSTED = "exhausted", "Exhausted (nobody acknowledged)"
    STOPPED = "stopped", "Stopped"


class IncidentEscalation(models.Model):
    """Where an incident's escalation stands. ``step_index``/``loop`` name the *next* step to page, due at
    ``next_at``. ``epoch`` counts fresh starts (a reopen, a reassignment), so their pages are new pages.
    Either ``policy`` or ``user`` (reassigned to a person) says whom the steps reach."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="escalation")
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.ACTIVE
    )
    epoch = models.PositiveIntegerField(default=0)
    step_index = models.PositiveIntegerField(default=0)
    loop = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    #: who stopped the paging by acknowledging it (None: the system, or a change of the incident's state whose
    #: author the timeline names) and when; kept for "already acknowledged by … at …"
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_at", "id"], condition=models.Q(status="active"), name="paging_escalation_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="active") | models.Q(next_at__isnull=False),
                name="paging_active_has_next_at",
            ),
        ]

    def __str__(self) -> str:
        return f"escalation of {self.incident_id}: {self.status} step {self.step_index} loop {self.loop}"


class Page(models.Model):
    """One person paged by one step of one round: unique, so a redo after a crash or a second engine pages
    nobody twice. ``reachable`` is false when the person had no working way to be notified (``note`` says why)."""

    escalation = models.ForeignKey(IncidentEscalation, on_delete=models.CASCADE, related_name="pages")
    # no index of its own: ``paging_page_once`` starts with it
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    epoch = models.PositiveIntegerField()
    loop = models.PositiveIntegerField()
    step_index = models.PositiveIntegerField()
    via = models.CharField(max_length=200, blank=True)
    reachable = models.BooleanField(default=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        # the on-call report (warroom.analytics): pages sent in a period
        indexes = [models.Index(fields=["at"], name="paging_page_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "epoch", "loop", "step_index", "user"], name="paging_page_once"
            ),
        ]

    def __str__(self) -> str:
        return f"page {self.incident_id} e{self.epoch} l{self.loop} s{self.step_index} → {self.user_id}"


class AckLinkUse(models.Model):
    """A signed acknowledge link that has been used: its nonce, so a second use is refused."""

    nonce = models.CharField(max_length=64, unique=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"ack link {self.nonce[:8]}… used by {self.user_id}"
