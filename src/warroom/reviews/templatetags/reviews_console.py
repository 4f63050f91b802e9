"""Template filters of the review pages, and the panel the incident page includes
(``{% incident_reviews incident %}``): its postmortem, and the known errors that match it, workaround inline."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from warroom.accounts import selectors as accounts
from warroom.incidents.models import Incident
from warroom.incidents.states import State
from warroom.reviews import search, selectors
from warroom.reviews.facts import format_duration
from warroom.reviews.models import ActionItem
from warroom.reviews.states import PostmortemStatus, ProblemStatus

register = template.Library()

_PM_STATUS: dict[str, str] = {
    PostmortemStatus.DRAFT: "state-new",
    PostmortemStatus.IN_REVIEW: "state-on_hold",
    PostmortemStatus.PUBLISHED: "state-resolved",
}
_PROBLEM_STATUS: dict[str, str] = {
    ProblemStatus.NEW: "state-new",
    ProblemStatus.ASSESSED: "state-in_progress",
    ProblemStatus.ROOT_CAUSE_ANALYSIS: "state-in_progress",
    ProblemStatus.FIX_IN_PROGRESS: "state-on_hold",
    ProblemStatus.RESOLVED: "state-resolved",
    ProblemStatus.CLOSED: "state-closed",
}
_ITEM_STATUS: dict[str, str] = {
    "open": "state-new",
    "in_progress": "state-in_progress",
    "done": "state-resolved",
    "wont_do": "state-closed",
}


@register.filter
def seconds(value: int | None) -> str:
    """A duration in seconds, compactly: ``6m``, ``1h 04m``; ``—`` when unknown."""
    return format_duration(value)


@register.filter
def pm_status_class(status: str) -> str:
    return _PM_STATUS.get(status, "state-closed")


@register.filter
def problem_status_class(status: str) -> str:
    return _PROBLEM_STATUS.get(status, "state-closed")


@register.filter
def item_status_class(status: str) -> str:
    return _ITEM_STATUS.get(status, "state-closed")


@register.filter
def overdue(item: ActionItem, today: date) -> bool:
    return item.is_open and item.due_date is not None and item.due_date < today


@register.inclusion_tag("reviews/_incident_panel.html", takes_context=True)
def incident_reviews(context: template.Context, incident: Incident) -> dict[str, Any]:
    """The postmortem of ``incident`` (or the way to start one) and the known errors that match it."""
    user = context["request"].user
    postmortem = selectors.postmortem_of(user, incident)
    can_start = (
        postmortem is None
        and incident.state != State.CANCELED
        and accounts.can_act_for_team(user, incident.team_id)
        and selectors.covering_postmortem(incident) is None
    )
    return {
        "incident": incident,
        "postmortem": postmortem,
        "can_start": can_start,
        "known_errors": search.known_errors_for_incident(user, incident, limit=3),
        "problems": list(selectors.problems_of_incident(user, incident)[:5]),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("reviews/_known_error_finder.html")
def known_error_finder() -> dict[str, Any]:
    """The declare form's known-error finder (``{% known_error_finder %}``): the known errors that match what is
    typed show up while declaring, before the incident exists."""
    return {}
