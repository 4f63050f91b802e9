"""Engine modules of the reviews app."""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.reviews import reminders


@registry.module("reviews.reminders", order=450)
def remind(now: datetime) -> int:
    """Remind owners of overdue action items, once per item per (UTC) day, before ``notify.send`` runs."""
    return reminders.run(now)
