"""Engine module ``notify.send``: the outbox sender (see :mod:`warroom.notify.sender`)."""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.notify import sender


@registry.module("notify.send", order=500, exclusive=False, wake=True)
def send(now: datetime) -> int:
    """Expire leases, then lease, send and record due messages; returns how many rows moved."""
    return sender.run(now)
