"""Per contact method throttles: how many notifications may start in a sliding window.

The numbers are per kind of contact method and deliberately conservative for the channels that wake people
(phones), generous for chat, and absent for machine receivers (webhooks take every message, each with its own
delivery id). Verification codes and test messages do not count and are never held back: they have their own
limit (one code per minute per contact method, see ``services.send_verification``).

When more notifications are due for one contact method than its allowance, the sender sends what the
allowance permits and folds the rest into one message that says how many it covers (a *bundle*); when the
allowance is used up, the due messages wait (``note`` says until when) and are bundled once a slot frees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.notify.models import DeliveryAttempt, Outcome


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int

    def describe(self) -> str:
        if self.seconds % 3600 == 0:
            span = "hour" if self.seconds == 3600 else f"{self.seconds // 3600} hours"
        elif self.seconds % 60 == 0:
            span = "minute" if self.seconds == 60 else f"{self.seconds // 60} minutes"
        else:
            span = f"{self.seconds} seconds"
        return f"{self.limit} per {span}"


LIMITS: dict[str, tuple[Window, ...]] = {
    "sms": (Window(1, 60), Window(5, 900)),
    "voice": (Window(1, 120), Window(3, 900)),
    "email": (Window(5, 60), Window(30, 3600)),
    "slack": (Window(10, 60),),
    "teams": (Window(10, 60),),
    "ntfy": (Window(10, 60),),
    "webhook": (),
}


@dataclass(frozen=True)
class Allowance:
    """How many notifications may start now (None: no limit); when none may, when the next one may, and why."""

    free: int | None
    frees_at: datetime | None = None
    reason: str = ""


def allowance(contact_method_id: int, kind: str, now: datetime) -> Allowance:
    windows = LIMITS.get(kind, ())
    if not windows:
        return Allowance(free=None)
    longest = max(w.seconds for w in windows)
    starts = sorted(
        DeliveryAttempt.objects.filter(
            contact_method_id=contact_method_id,
            counts_for_throttle=True,
            started_at__gt=now - timedelta(seconds=longest),
        )
        .exclude(outcome=Outcome.RELEASED)
        .values_list("started_at", flat=True)
    )
    free: int | None = None
    frees_at: datetime | None = None
    reason = ""
    for window in windows:
        recent = [s for s in starts if s > now - timedelta(seconds=window.seconds)]
        left = window.limit - len(recent)
        if left <= 0:
            at = recent[len(recent) - window.limit] + timedelta(seconds=window.seconds)
            if frees_at is None or at > frees_at:
                frees_at, reason = at, window.describe()
        free = left if free is None else min(free, left)
    return Allowance(free=max(free or 0, 0), frees_at=frees_at, reason=reason)


def describe(kind: str) -> str:
    windows = LIMITS.get(kind, ())
    return ", ".join(w.describe() for w in windows) if windows else "no limit"
