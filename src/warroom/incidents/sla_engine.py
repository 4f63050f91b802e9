"""Engine module ``incidents.sla``: SLA warnings and breaches, exactly once (see :func:`sla_services.advance_clocks`).

It runs before ``notify.send`` (order 500), so the notifications it queues go out in the same cycle.
"""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.incidents import sla_services


@registry.module("incidents.sla", order=400)
def sla_clocks(now: datetime) -> int:
    """Announce every threshold and breach that running clocks have reached by ``now``."""
    return sla_services.run_engine(now)
