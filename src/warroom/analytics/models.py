"""The reports' summary rows: per UTC day, the sums the reports add up (docs/adr/0007-report-summaries.md).

Analytics only reads the other apps' tables; these rows are its own cache of them, rebuilt day by day by the
``analytics.summarize`` engine module (:mod:`warroom.analytics.rollup`) whenever something of that day changed.
Ids of teams, services, categories, integrations and users are plain numbers, not foreign keys: a summary never
holds up a delete, and a day is rebuilt from the live rows anyway.

A cell of incidents, pages or alerts is keyed by what the reports filter and group on. An incident on several
services has one cell row per service; exactly one of them is its *primary* row, so sums over primary rows count
each incident once, and sums over one service's rows count each of its incidents once.
"""

from __future__ import annotations

from django.db import models


class SummaryState(models.Model):
    """The one row (pk 1) of watermarks: how far the summaries have looked at each source table."""

    incidents_until = models.DateTimeField(null=True, blank=True, help_text="Incidents updated up to here.")
    alert_id = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    audit_id = models.BigIntegerField(default=0)
    page_id = models.BigIntegerField(default=0)
    reviews_until = models.DateTimeField(
        null=True, blank=True, help_text="Postmortems and action items updated up to here."
    )
    swept_at = models.DateTimeField(
        null=True, blank=True, help_text="When today and yesterday were last redone."
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="analytics_state_single_row")]

    def __str__(self) -> str:
        return "report summary watermarks"


class DirtyDay(models.Model):
    """A UTC day whose summaries must be rebuilt."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"dirty {self.day}"


class IncidentCell(models.Model):
    """Incidents opened on ``day`` with these keys: counts and sums of seconds (means are sum ÷ count)."""

    day = models.DateField()
    team_id = models.BigIntegerField()
    priority = models.PositiveSmallIntegerField()
    service_id = models.BigIntegerField(null=True, blank=True, help_text="Null: the incident has no service.")
    is_private = models.BooleanField(default=False)
    primary = models.BooleanField(default=True)
    incidents = models.IntegerField(default=0, help_text="Not cancelled.")
    cancelled = models.IntegerField(default=0)
    acked = models.IntegerField(default=0)
    ack_seconds = models.FloatField(default=0)
    resolved = models.IntegerField(default=0)
    resolve_seconds = models.FloatField(default=0)
    detected = models.IntegerField(default=0)
    detect_seconds = models.FloatField(default=0)
    first_opened = models.DateTimeField(null=True, blank=True)
    last_opened = models.DateTimeField(null=True, blank=True)
    response_met = models.IntegerField(
        default=0, help_text="Stopped SLA clocks only; live ones are read live."
    )
    response_breached = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    resolution_breached = models.IntegerField(default=0)
    #: resolved (or closed) incidents, and of those: with a published postmortem (their own, or their major
    #: incident's covering its children), one in review, a draft
    reviewable = models.IntegerField(default=0)
    pm_published = models.IntegerField(default=0)
    pm_in_review = models.IntegerField(default=0)
    pm_draft = models.IntegerField(default=0)
    #: action items of the resolved incidents (directly or through their postmortems); overdue is read live
    ai_total = models.IntegerField(default=0)
    ai_done = models.IntegerField(default=0)
    ai_done_on_time = models.IntegerField(default=0)
    ai_wont_do = models.IntegerField(default=0)
    ai_open = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "team_id"], name="analytics_icell_day")]

    def __str__(self) -> str:
        return f"incidents {self.day} team {self.team_id} P{self.priority} service {self.service_id}"


class CategoryCell(models.Model):
    """Incidents (not cancelled) opened on ``day`` per category (null: none)."""

    day = models.DateField()
    team_id = models.BigIntegerField()
    priority = models.PositiveSmallIntegerField()
    category_id = models.BigIntegerField(null=True, blank=True)
    is_private = models.BooleanField(default=False)
    incidents = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "team_id"], name="analytics_ccell_day")]

    def __str__(self) -> str:
        return f"categories {self.day} team {self.team_id} category {self.category_id}"


class AlertCell(models.Model):
    """Alerts first seen on ``day`` per integration (its service and that service's team), by the priority of
    their incident (0: no incident)."""

    day = models.DateField()
    integration_id = models.BigIntegerField()
    service_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    priority = models.PositiveSmallIntegerField(default=0)
    alerts = models.IntegerField(default=0)
    triggers = models.IntegerField(default=0)
    suppressed = models.IntegerField(default=0)
    on_incidents = models.IntegerField(default=0)
    #: alerts that were the first of their incident: summed, they count each incident once
    first_of_incident = models.IntegerField(default=0)
    unacted = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "team_id"], name="analytics_acell_day")]

    def __str__(self) -> str:
        return f"alerts {self.day} integration {self.integration_id}"


class FlapCell(models.Model):
    """A dedup key that flapped on ``day``: its alerts that day and how many of them closed a burst."""

    day = models.DateField()
    integration_id = models.BigIntegerField()
    service_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    priority = models.PositiveSmallIntegerField(default=0)
    dedup_key = models.CharField(max_length=255)
    alerts = models.IntegerField(default=0)
    flaps = models.IntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day", "team_id"], name="analytics_fcell_day")]

    def __str__(self) -> str:
        return f"flaps {self.day} {self.integration_id} {self.dedup_key}"


class PageCell(models.Model):
    """Pages sent on ``day`` to one person, keyed by their incident like :class:`IncidentCell`. Working hours
    and night are judged with the person's settings when the day was summarized."""

    day = models.DateField()
    user_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    priority = models.PositiveSmallIntegerField()
    service_id = models.BigIntegerField(null=True, blank=True)
    is_private = models.BooleanField(default=False)
    primary = models.BooleanField(default=True)
    pages = models.IntegerField(default=0)
    unreachable = models.IntegerField(default=0)
    #: pages of a person who had working hours (only those are judged in or outside them)
    judged = models.IntegerField(default=0)
    outside_hours = models.IntegerField(default=0)
    night = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "team_id"], name="analytics_pcell_day")]

    def __str__(self) -> str:
        return f"pages {self.day} user {self.user_id}"
