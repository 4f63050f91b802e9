"""Engine module ``paging.escalate``: start escalations of incidents that should page, advance due ones."""

from __future__ import annotations

from datetime import datetime

from warroom.engine import registry
from warroom.paging import services


@registry.module("paging.escalate", order=300, exclusive=False, wake=True)
def escalate(now: datetime) -> int:
    """Runs before ``notify.send`` (500), so pages enqueued this cycle go out in the same cycle."""
    return services.run(now)
