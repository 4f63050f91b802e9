"""``{% major_panel %}``: the major-incident card of the incident page (promote / demote, the update rhythm,
children, and resolving a parent with its open children). The incident page's view does not need to know
about major incidents: the tag reads ``incident``, ``can_edit`` and ``children`` from the page's context."""

from __future__ import annotations

from typing import Any

from django import template

from warroom.incidents import major
from warroom.incidents.states import ResolutionCode
from warroom.lib import clock

register = template.Library()


@register.inclusion_tag("incidents/major/_card.html", takes_context=True)
def major_panel(context: template.Context) -> dict[str, Any]:
    incident = context["incident"]
    children = list(context.get("children") or [])
    open_children = [c for c in children if c.is_open]
    rhythm = major.rhythm_view(incident, clock.now())
    return {
        "incident": incident,
        "every_minutes": int(rhythm.interval.total_seconds() // 60) if rhythm and rhythm.interval else None,
        "can_edit": context.get("can_edit", False),
        "rhythm": rhythm,
        "children": children,
        "open_children": open_children,
        "resolution_codes": ResolutionCode.choices,
        "form": context.get("major_resolve_form"),
        "csrf_token": context.get("csrf_token"),
    }
