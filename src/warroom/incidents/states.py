"""The incident state machine, as an explicit table of allowed transitions.

::

    New ──► In Progress ◄──► On Hold
     │          │               │
     ├──────────┴───────┬───────┤
     ▼                  ▼       ▼
  Canceled          Resolved ──► Closed
                        │
                        └──► In Progress (reopen)

Closed and Canceled are final.
"""

from __future__ import annotations

from django.db import models


class State(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In Progress"
    ON_HOLD = "on_hold", "On Hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting caller"
    AWAITING_CHANGE = "awaiting_change", "Awaiting change"
    AWAITING_PROBLEM = "awaiting_problem", "Awaiting problem"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"


class ResolutionCode(models.TextChoices):
    PERMANENT_FIX = "permanent_fix", "Solved (permanently)"
    WORKAROUND = "workaround", "Solved (workaround)"
    NOT_REPRODUCIBLE = "not_reproducible", "Not solved (not reproducible)"
    TOO_COSTLY = "too_costly", "Not solved (too costly)"
    RESOLVED_BY_CALLER = "resolved_by_caller", "Resolved by caller"
    DUPLICATE = "duplicate", "Duplicate"


#: (from, to) → the verb of that move. Anything not listed is refused.
TRANSITIONS: dict[tuple[State, State], str] = {
    (State.NEW, State.IN_PROGRESS): "start",
    (State.NEW, State.ON_HOLD): "hold",
    (State.NEW, State.RESOLVED): "resolve",
    (State.NEW, State.CANCELED): "cancel",
    (State.IN_PROGRESS, State.ON_HOLD): "hold",
    (State.IN_PROGRESS, State.RESOLVED): "resolve",
    (State.IN_PROGRESS, State.CANCELED): "cancel",
    (State.ON_HOLD, State.IN_PROGRESS): "resume",
    (State.ON_HOLD, State.RESOLVED): "resolve",
    (State.ON_HOLD, State.CANCELED): "cancel",
    (State.RESOLVED, State.IN_PROGRESS): "reopen",
    (State.RESOLVED, State.CLOSED): "close",
}

#: Verb → target state (each verb always leads to the same state).
VERBS: dict[str, State] = {verb: to for (_from, to), verb in TRANSITIONS.items()}

OPEN_STATES = frozenset({State.NEW, State.IN_PROGRESS, State.ON_HOLD})
FINAL_STATES = frozenset({State.CLOSED, State.CANCELED})


def allowed_targets(state: str) -> list[State]:
    """The states reachable in one move from ``state``, in table order."""
    return [to for (frm, to) in TRANSITIONS if frm == state]


def is_allowed(frm: str, to: str) -> bool:
    return (State(frm), State(to)) in TRANSITIONS if frm in State.values and to in State.values else False


def refusal(frm: str, to: str) -> str:
    """The message shown when a move is not allowed."""
    frm_label, to_label = State(frm).label, State(to).label
    if frm == to:
        return f"the incident is already {frm_label}"
    targets = allowed_targets(frm)
    if not targets:
        return f"cannot move from {frm_label} to {to_label}: {frm_label} is final"
    allowed = ", ".join(t.label for t in targets)
    return f"cannot move from {frm_label} to {to_label}; from {frm_label} the incident can go to {allowed}"
