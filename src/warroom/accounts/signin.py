"""The sign-in throttle: too many wrong passwords for one email from one address, and that pair must wait.

Every password sign-in goes through :class:`warroom.accounts.backends.ThrottledModelBackend` (the console's
sign-in page and the Django admin's alike). After :data:`LIMIT` refused attempts for one email address from one
client address within :data:`WINDOW`, the next attempts from there are refused without checking the password
until the oldest of those failures is :data:`WINDOW` old. A successful sign-in clears the pair's failures.

Why the pair and not the email alone: a lock on the email alone would let anyone lock the on-call engineer out
of the console in the middle of an incident by typing wrong passwords. Behind a reverse proxy every client has
the proxy's address, so the pair becomes the email alone (see docs/operations.md). The failures live in the
database (:class:`warroom.accounts.models.SignInFailure`), so every web process sees the same count.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest

from warroom.accounts.models import SignInFailure, User
from warroom.audit import services as audit
from warroom.lib import clock

#: refused attempts for one (email, address) within WINDOW before that pair must wait
LIMIT = 10
WINDOW = timedelta(minutes=15)


def address_of(request: HttpRequest | None) -> str:
    """The client's address as the server saw it (``REMOTE_ADDR``), or "" without a request."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR") or "")[:45]


def _key(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def retry_after(email: str | None, address: str) -> timedelta | None:
    """How long ``email`` must wait before signing in from ``address`` again, or None if it may now."""
    now = clock.now()
    recent = SignInFailure.objects.filter(email=_key(email), address=address, at__gt=now - WINDOW)
    times = list(recent.order_by("-at").values_list("at", flat=True)[:LIMIT])
    if len(times) < LIMIT:
        return None
    return times[-1] + WINDOW - now


def wait_message(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return (
        f"Too many failed sign-ins for this email from your address. Try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}, or ask an organisation admin to check your account."
    )


def record_failure(email: str | None, address: str) -> None:
    """Count one refused attempt (and forget those older than the window). The attempt that reaches the limit
    writes an audit row ``user.sign_in.throttle`` on the user with that email, if there is one."""
    now = clock.now()
    key = _key(email)
    with transaction.atomic():
        SignInFailure.objects.filter(at__lte=now - WINDOW).delete()
        SignInFailure.objects.create(email=key, address=address, at=now)
        if SignInFailure.objects.filter(email=key, address=address).count() != LIMIT:
            return
        user = User.objects.filter(email__iexact=key).first()
        if user is None:
            return
        audit.record(
            actor=None,
            source="web",
            action="user.sign_in.throttle",
            obj=user,
            after={"address": address, "failures": LIMIT, "window_seconds": int(WINDOW.total_seconds())},
        )


def record_success(email: str | None, address: str) -> None:
    SignInFailure.objects.filter(email=_key(email), address=address).delete()
