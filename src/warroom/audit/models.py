"""The append-only audit log.

Append-only holds in the database, not only here: triggers (migration ``0003_append_only``) refuse every UPDATE
and DELETE of an audit row on PostgreSQL and SQLite, and TRUNCATE on PostgreSQL, with an
:class:`~django.db.IntegrityError` saying "audit events are append-only". Only emptying the whole database with
``flush`` (what the test suite does between tests) gets past them (:mod:`warroom.audit.guard`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    WEB = "web", "Web console"
    API = "api", "REST API"
    CLI = "cli", "CLI"
    ENGINE = "engine", "Engine"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """One write, by whom, through what, with the object's state before and after. Never updated.

    ``team`` is the team of the object (see :func:`warroom.audit.services.record`).
    ``actor_email`` and ``actor_name`` are the actor's as they were when the row was written, so the row says who
    acted without the user row. The actor is PROTECTed: deleting a person who acted is refused (people are
    deactivated, never deleted), since SET_NULL would have to UPDATE the audit rows.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    actor_name = models.CharField(max_length=150, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    #: the team the object belonged to when the row was written (a team's admins read their team's rows), or
    #: null (people, tokens, organisation-wide settings). No database constraint: a team deleted later must
    #: not UPDATE (or forbid) its audit rows.
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["team", "at"], name="audit_event_team_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit events are append-only")
