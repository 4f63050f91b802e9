"""What a person leaves behind when they are deactivated: open incidents assigned to them, schedules and
escalation policies that still name them, escalations that would page them.

``accounts`` is the root of the app dependency chain and imports none of the apps that know these things, so
they register a check here from their ``AppConfig.ready`` (:func:`register`). Deactivating still succeeds
whatever the checks find; the API's answer, the Django admin and ``warroom user deactivate`` show the findings
so the admin can hand the work over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from warroom.accounts.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeftBehind:
    """One thing that still counts on the person. ``kind`` says what it is (``incident``, ``schedule``,
    ``escalation_policy``, ``escalation``...), ``name`` which one (``INC0001042 Checkout down``), ``detail``
    why it matters (``assigned to them, still open``)."""

    kind: str
    name: str
    detail: str = ""

    @property
    def message(self) -> str:
        return f"{self.name}: {self.detail}" if self.detail else self.name


#: A check maps the person to what they leave behind; it only reads.
Check = Callable[[User], Iterable[LeftBehind]]

_CHECKS: list[Check] = []


def register(check: Check) -> None:
    """Add ``check`` to what :func:`left_behind` asks (once, however often ``ready`` runs)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def unregister(check: Check) -> None:
    """Take ``check`` out again (tests)."""
    if check in _CHECKS:
        _CHECKS.remove(check)


def left_behind(user: User) -> list[LeftBehind]:
    """Everything the registered checks find for ``user``, in registration order. A check that fails is
    logged and skipped: the deactivation it follows has already happened and must still be answered."""
    found: list[LeftBehind] = []
    for check in list(_CHECKS):
        try:
            found.extend(check(user))
        except Exception:
            log.exception("deactivation check %r failed for user %s", check, user.pk)
    return found
