"""Engine modules of the oncall app."""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.oncall import shift_reminders


@registry.module("oncall.shift_reminders", order=440, every=shift_reminders.RUN_EVERY)
def remind_shifts(now: datetime) -> int:
    """Remind people who asked of their on-call shifts, at most once a minute, before ``notify.send`` runs."""
    return shift_reminders.run(now)
