"""Audit rows for console sessions: ``user.sign_in`` and ``user.sign_out`` (console and admin site alike), with
the client's address as the sign-in throttle sees it. API tokens authenticate each request and are not
sessions: their use shows as ``last_used_at`` on the token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from warroom.accounts.models import User
from warroom.accounts.signin import address_of
from warroom.audit import services as audit


def _record(action: str, request: HttpRequest | None, user: Any) -> None:
    if not isinstance(user, User):
        return  # signing out without being signed in
    audit.record(actor=user, source="web", action=action, obj=user, after={"address": address_of(request)})


def on_sign_in(sender: Any, *, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    _record("user.sign_in", request, user)


def on_sign_out(sender: Any, *, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    _record("user.sign_out", request, user)
