"""Workflows: what a team wants done, every time, when something happens to one of its incidents (docs/automation.md).

A workflow is a trigger (an incident is declared, acknowledged, changes priority, becomes major, is resolved or
closed), conditions on the incident (priorities, services) and a playbook of actions, run in this order: tasks
added, roles given, people notified, a webhook called, a line on the timeline. The engine module
``automation.workflows`` runs them (:mod:`warroom.automation.runner`); each run is a :class:`WorkflowRun`, once per
workflow and triggering timeline line.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.comms.models import Delivery
from warroom.incidents.models import Incident
from warroom.integrations.base import elide_url
from warroom.lib.sealed import SealedJSONField


class Trigger(models.TextChoices):
    DECLARED = "declared", "An incident is declared"
    ACKNOWLEDGED = "acknowledged", "An incident is acknowledged"
    PRIORITY = "priority", "An incident's priority changes"
    MAJOR = "major", "An incident becomes major"
    RESOLVED = "resolved", "An incident is resolved"
    CLOSED = "closed", "An incident is closed"


class Urgency(models.TextChoices):
    HIGH = "high", "High (pages through people's high-urgency rules)"
    LOW = "low", "Low"


class Workflow(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    #: conditions: the incident's priority is one of these (empty: any)
    priorities = models.JSONField(default=list, blank=True)
    #: conditions: the incident is about one of these services (none: any)
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    #: actions: task titles added to the incident
    tasks = models.JSONField(default=list, blank=True)
    #: actions: {role type slug: user id}, given when the role is free
    roles = models.JSONField(default=dict, blank=True)
    #: actions: people told (through their own notification rules) with ``message``
    notify_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    notify_urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.HIGH)
    #: the notification's text, and a note on the incident's timeline
    message = models.TextField(blank=True)
    #: actions: an https URL that gets the incident as signed JSON (sent by the subscriber outbox, ``comms.deliver``)
    webhook_url = models.CharField(max_length=500, blank=True)
    #: ``{"signing_secret": …}`` for ``webhook_url`` (sealed at rest; shown once, when made)
    webhook_secret = SealedJSONField(default=dict, blank=True)
    #: the last test call of the webhook someone asked for (its status shows on the workflow's page)
    last_test_call = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    #: not stored: a signing secret the service that saved this workflow has just made, for the one answer that
    #: shows it (``automation.services``)
    revealed_secret: str = ""

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="workflow_unique_name")]
        indexes = [models.Index(fields=["trigger", "enabled"], name="workflow_trigger")]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"

    @property
    def webhook_host(self) -> str:
        """Where the webhook goes, for those who may not see its whole URL (``https://host/…``); "" for none."""
        return elide_url(self.webhook_url) if self.webhook_url else ""


class WorkflowRun(models.Model):
    """One run of a workflow for the timeline line that triggered it; what it did and what it could not do."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    #: the timeline line (``incidents.TimelineEntry``) that triggered it
    entry_id = models.BigIntegerField()
    at = models.DateTimeField()
    done = models.JSONField(default=list)
    failed = models.JSONField(default=list)
    #: the webhook call this run queued, if the workflow has a webhook (its status, attempts and last error)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["workflow", "entry_id"], name="workflow_run_once")]
        indexes = [models.Index(fields=["workflow", "-at"], name="workflow_run_recent")]

    def __str__(self) -> str:
        return f"{self.workflow.name} on {self.incident.ref} at {self.at:%Y-%m-%d %H:%M}"


class SeenEntry(models.Model):
    """A triggering timeline line the runner has looked at (matched or not), so that a line whose transaction
    committed late is still looked at once, and never twice. Deleted once older than the runner's look-back."""

    entry_id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"timeline line {self.entry_id}"


class ScanState(models.Model):
    """The runner's one row: until when it has looked (the start of its last finished pass)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    scanned_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"scanned until {self.scanned_until:%Y-%m-%d %H:%M:%S}"
