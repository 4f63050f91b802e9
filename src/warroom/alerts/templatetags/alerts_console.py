"""Template filters and panels of the alert pages: badge classes, pretty JSON, safe links, and the panels that
the service and incident pages include (``{% service_alerts_panel service %}``, ``{% incident_alerts incident %}``)
so those pages show integrations, maintenance, recent changes and alerts without their views knowing about
alerts."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from warroom.alerts import selectors
from warroom.alerts.forms import LEVELS
from warroom.alerts.models import AlertStatus, EventStatus, Severity
from warroom.catalog.models import Service
from warroom.incidents.models import Incident
from warroom.lib import clock

register = template.Library()

RECENT_CHANGES = 5
PANEL_ALERTS = 10  # the incident page's side column; the panel links to the alert list for the rest

_STATUS: dict[str, str] = {
    AlertStatus.TRIGGERED: "state-new",
    AlertStatus.ACKNOWLEDGED: "state-on_hold",
    AlertStatus.RESOLVED: "state-resolved",
}
_EVENT: dict[str, str] = {
    EventStatus.PENDING: "state-new",
    EventStatus.PROCESSED: "state-resolved",
    EventStatus.IGNORED: "state-closed",
    EventStatus.REJECTED: "state-on_hold",
}
_SEVERITY: dict[str, str] = {
    Severity.CRITICAL: "prio-1",
    Severity.ERROR: "prio-2",
    Severity.WARNING: "prio-3",
    Severity.INFO: "prio-4",
}


@register.filter
def alert_status_class(status: str) -> str:
    return _STATUS.get(status, "state-closed")


@register.filter
def event_status_class(status: str) -> str:
    return _EVENT.get(status, "state-closed")


@register.filter
def severity_class(severity: str) -> str:
    return _SEVERITY.get(severity, "prio-5")


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def safe_href(value: Any) -> str:
    """A link from monitoring, only if it is http(s); anything else (``javascript:``...) becomes empty."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.inclusion_tag("alerts/_service_panel.html", takes_context=True)
def service_alerts_panel(context: template.Context, service: Service) -> dict[str, Any]:
    """Integrations, open alerts, maintenance and recent changes of ``service`` (the service page)."""
    user = context["request"].user
    now = clock.now()
    # active or still to come (a recurring window between its occurrences too), each by its own zone's clock
    windows = [w for w in selectors.windows_of(user, service)[:20] if w.current_or_next(now) is not None]
    return {
        "service": service,
        "integration_count": selectors.integrations_of(user, service).count(),
        "open_alerts": selectors.filter_alerts(
            user, selectors.AlertFilter(service=str(service.pk), open_only=True)
        ).count(),
        "windows": windows,
        "active_windows": {w.pk for w in windows if w.is_active(now)},
        "now": now,
        "changes": list(selectors.changes_of(user, service)[:RECENT_CHANGES]),
    }


@register.inclusion_tag("alerts/_incident_alerts.html", takes_context=True)
def incident_alerts(context: template.Context, incident: Incident) -> dict[str, Any]:
    """The first ``PANEL_ALERTS`` alerts grouped into ``incident`` (the incident page), and how many there are:
    a storm's incident holds thousands, and the panel links to the alert list for all of them."""
    user = context["request"].user
    alerts = list(selectors.alerts_of_incident(user, incident)[:PANEL_ALERTS])
    total = (
        len(alerts) if len(alerts) < PANEL_ALERTS else selectors.alerts_of_incident(user, incident).count()
    )
    return {"incident": incident, "alerts": alerts, "total": total}


@register.filter
def level(value: Any) -> str:
    """An impact or urgency as the forms name it: ``1`` → ``High``."""
    return LEVELS.get(value, str(value)) if isinstance(value, int) else str(value)


@register.simple_tag
def incident_alerts_url(incident: Incident) -> str:
    """The Alerts page narrowed to every alert of ``incident``, whatever their status: where the incident page's
    alert panel and its folded storm timeline send a reader for the alerts they leave out."""
    return f"{reverse('web:alert-list')}?{urlencode({'incident': incident.ref, 'status': 'all'})}"
