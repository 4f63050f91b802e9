"""Engine module ``comms.status_pages``: keeps the status pages true without anyone touching them.

Each cycle, in this order:

1. **Maintenance schedule** — scheduled maintenances whose start has come start (their components show under
   maintenance; subscribers are told), in-progress ones whose end has come complete (components return;
   subscribers are told). Rows are taken ``FOR UPDATE SKIP LOCKED``; each step is a compare-and-set on the
   maintenance's state and its subscriber messages carry a dedup key per subscriber and step, so a step
   happens once, also across crashes and restarts.
2. **Derived statuses** — every derived component is brought to the status its linked services' open incidents
   (and in-progress maintenance) give it (:func:`warroom.comms.page_services.derived_statuses`). A change is a
   compare-and-set on the component's status with its :class:`~warroom.comms.models.ComponentStatusPeriod`
   history written in the same transaction; no change, no write.

Registered by the import in :mod:`warroom.comms.engine`.
"""

from __future__ import annotations

from datetime import datetime

from warroom.comms import page_services
from warroom.engine import registry


@registry.module("comms.status_pages", order=420)
def status_pages(now: datetime) -> int:
    """Advance due maintenances, then re-derive component statuses; returns how many things moved."""
    moved = page_services.run_maintenance_schedule(now)
    moved += page_services.refresh_components(now=now)
    return moved
