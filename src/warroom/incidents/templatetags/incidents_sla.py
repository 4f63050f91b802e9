"""``{% sla_clocks incident %}``: the live SLA clocks panel of the incident page, rendered server-side (the
panel then refreshes itself through htmx). The incident page's view does not need to know about SLAs."""

from __future__ import annotations

from typing import Any

from django import template

from warroom.incidents.models import Incident
from warroom.incidents.sla_views import panel_context
from warroom.lib import clock

register = template.Library()

_STATUS_BADGE = {
    "running": "state-in_progress",
    "warning": "prio-3",
    "paused": "state-on_hold",
    "breached": "prio-1",
    "met": "state-resolved",
    "cancelled": "state-canceled",
}


@register.filter
def sla_badge(status: str) -> str:
    return _STATUS_BADGE.get(status, "state-closed")


@register.inclusion_tag("incidents/sla/_clocks.html")
def sla_clocks(incident: Incident) -> dict[str, Any]:
    """The incident is the one the page shows, so the viewer may see it."""
    return panel_context(incident, clock.now())
