"""Engine modules of the incidents app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from warroom.engine import registry
from warroom.incidents import services


@registry.module("incidents.autoclose", order=900)
def autoclose(now: datetime) -> int:
    """Close incidents that have stayed Resolved for ``WARROOM_AUTOCLOSE_DAYS`` days (0 turns this off)."""
    days: int = settings.WARROOM_AUTOCLOSE_DAYS
    if days <= 0:
        return 0
    total = 0
    while True:
        closed = services.close_resolved_incidents(older_than=now - timedelta(days=days), limit=100)
        total += closed
        if closed < 100:
            return total


import warroom.incidents.major_engine  # noqa: E402, F401 (registers incidents.major_updates)
from warroom.incidents import sla_engine  # noqa: E402, F401 (registers incidents.sla)
