"""Engine module ``incidents.major_updates``: remind the Communications Lead (else the Incident Commander, else
the assignee) once per overdue period of a major incident's update rhythm (see :func:`major.remind_overdue`).

It runs before ``notify.send`` (order 500), so the reminders it queues go out in the same cycle.
"""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.incidents import major


@registry.module("incidents.major_updates", order=410)
def major_updates(now: datetime) -> int:
    """Remind for every major incident whose next update is overdue at ``now``."""
    return major.run_engine(now)
