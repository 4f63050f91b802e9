"""Engine modules of stakeholder communication.

``comms.deliver`` sends the subscriber outbox (:mod:`warroom.comms.outbox`). It is not exclusive
(docs/adr/0006): every batch takes its rows ``FOR UPDATE SKIP LOCKED`` and records results with a
compare-and-set on (status, attempt number), so several engines share the outbox without sending a row twice
(beyond the at-least-once resend of an expired lease, which carries the same delivery id).
"""

from __future__ import annotations

from datetime import datetime

from warroom.comms import outbox
from warroom.engine import registry


@registry.module("comms.deliver", order=510, exclusive=False)
def deliver(now: datetime) -> int:
    """Expire leases, then lease, send and record due subscriber deliveries; returns how many rows moved."""
    return outbox.run(now)


from warroom.comms import status_engine  # noqa: E402, F401 (registers comms.status_pages)
