"""The states of postmortems, problems and action items, with their transition tables.

Postmortem::

    Draft ──submit──► In review ──publish──► Published ──amend──► Published (with an amendment record)
      ▲                   │
      └─request changes───┘

Problem (ITIL problem management)::

    New ──► Assessed ──► Root cause analysis ──► Fix in progress ──► Resolved ──► Closed
     │         │   └──────────────────────────────►─┘  │    ▲            │
     │         │                 ▲  └──────────────────┘    │            │
     │         │                 └───────(reinvestigate / reopen)────────┘
     └─────────┴───────────────────► Closed (duplicate, rejected, accepted as a known error)

Closed is final. Anything not in :data:`PROBLEM_TRANSITIONS` is refused.
"""

from __future__ import annotations

from django.db import models


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class ProblemStatus(models.TextChoices):
    NEW = "new", "New"
    ASSESSED = "assessed", "Assessed"
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", "Root cause analysis"
    FIX_IN_PROGRESS = "fix_in_progress", "Fix in progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


#: (from, to) → the verb of that move. Anything not listed is refused.
PROBLEM_TRANSITIONS: dict[tuple[ProblemStatus, ProblemStatus], str] = {
    (ProblemStatus.NEW, ProblemStatus.ASSESSED): "assess",
    (ProblemStatus.NEW, ProblemStatus.CLOSED): "close",
    (ProblemStatus.ASSESSED, ProblemStatus.ROOT_CAUSE_ANALYSIS): "investigate",
    (ProblemStatus.ASSESSED, ProblemStatus.FIX_IN_PROGRESS): "start fix",
    (ProblemStatus.ASSESSED, ProblemStatus.CLOSED): "close",
    (ProblemStatus.ROOT_CAUSE_ANALYSIS, ProblemStatus.FIX_IN_PROGRESS): "start fix",
    (ProblemStatus.ROOT_CAUSE_ANALYSIS, ProblemStatus.CLOSED): "close",
    (ProblemStatus.FIX_IN_PROGRESS, ProblemStatus.RESOLVED): "resolve",
    (ProblemStatus.FIX_IN_PROGRESS, ProblemStatus.ROOT_CAUSE_ANALYSIS): "reinvestigate",
    (ProblemStatus.RESOLVED, ProblemStatus.CLOSED): "close",
    (ProblemStatus.RESOLVED, ProblemStatus.ROOT_CAUSE_ANALYSIS): "reopen",
}

#: Moves that need a documented root cause first.
NEEDS_ROOT_CAUSE = frozenset({ProblemStatus.FIX_IN_PROGRESS, ProblemStatus.RESOLVED})

OPEN_PROBLEM_STATES = frozenset(
    {
        ProblemStatus.NEW,
        ProblemStatus.ASSESSED,
        ProblemStatus.ROOT_CAUSE_ANALYSIS,
        ProblemStatus.FIX_IN_PROGRESS,
    }
)


def problem_targets(status: str) -> list[ProblemStatus]:
    """The statuses reachable in one move from ``status``, in table order."""
    return [to for (frm, to) in PROBLEM_TRANSITIONS if frm == status]


def problem_refusal(frm: str, to: str) -> str:
    """The message shown when a problem cannot move from ``frm`` to ``to``."""
    frm_label, to_label = ProblemStatus(frm).label, ProblemStatus(to).label
    if frm == to:
        return f"the problem is already {frm_label}"
    targets = problem_targets(frm)
    if not targets:
        return f"cannot move from {frm_label} to {to_label}: {frm_label} is final"
    allowed = ", ".join(t.label for t in targets)
    return f"cannot move from {frm_label} to {to_label}; from {frm_label} the problem can go to {allowed}"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


#: Action items still to be done: the ones that can be overdue.
OPEN_ITEM_STATES = frozenset({ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS})


class ActionItemPriority(models.IntegerChoices):
    HIGH = 1, "High"
    MEDIUM = 2, "Medium"
    LOW = 3, "Low"
