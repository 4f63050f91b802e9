"""What the engine remembers between cycles: one row per module."""

from __future__ import annotations

from django.db import models


class ModuleState(models.Model):
    """Bookkeeping of one engine module: when it last ran, how it went."""

    name = models.CharField(max_length=64, primary_key=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    runs = models.BigIntegerField(default=0)
    items = models.BigIntegerField(default=0, help_text="Rows moved forward since the engine first ran.")

    def __str__(self) -> str:
        return self.name
