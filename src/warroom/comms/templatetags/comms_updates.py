"""The "Updates" card of the incident page: ``{% load comms_updates %}{% incident_updates incident %}``.

``?update_template=<key>`` on the incident page pre-fills the update form from that template (the picker's
GET, which works without JavaScript)."""

from __future__ import annotations

from typing import Any

from django import template

from warroom.comms import views
from warroom.incidents.models import Incident

register = template.Library()

_AUDIENCE_CLASS = {"internal": "state-on_hold", "public": "state-resolved", "both": "state-in_progress"}
_DELIVERY_CLASS = {
    "pending": "state-new",
    "sending": "state-in_progress",
    "sent": "state-resolved",
    "failed": "state-canceled",
    "cancelled": "state-closed",
}


@register.filter
def audience_class(audience: str) -> str:
    return _AUDIENCE_CLASS.get(audience, "state-closed")


@register.filter
def delivery_class(status: str) -> str:
    return _DELIVERY_CLASS.get(status, "state-closed")


@register.inclusion_tag("comms/updates/_card.html", takes_context=True)
def incident_updates(context: template.Context, incident: Incident) -> dict[str, Any]:
    request = context["request"]
    key = str(request.GET.get("update_template", ""))
    return views.card_context(request.user, incident, template_key=key)
