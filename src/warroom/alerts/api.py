"""REST routes for alert intake: integrations and their keys, the integration's event log, alerts (with
acknowledge and resolve by hand), maintenance windows and a service's change events.

Every object is fetched through :mod:`warroom.alerts.selectors` (or the catalog's for services), so another
team's integration, alert or window is a 404 whatever the route (a service named in the body of ``POST
/integrations`` that you cannot see is a 400 naming ``service``). Writes go through :mod:`warroom.alerts.services` and
:mod:`warroom.alerts.actions`, which check rights: integrations, keys and maintenance windows need a team admin
or manager (403 otherwise); acknowledging and resolving alerts a responder.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Body, Query, Router, Status

from warroom.accounts.models import User
from warroom.accounts.schemas import Page, Paging, caller, known_filter, lookup, paginate, source_of
from warroom.alerts import actions, selectors, services
from warroom.alerts.models import Alert, MaintenanceWindow
from warroom.alerts.schemas import (
    AlertDetailOut,
    AlertOut,
    AlertQuery,
    ChangeOut,
    EventOut,
    EventQuery,
    IntegrationCreatedOut,
    IntegrationIn,
    IntegrationOut,
    IntegrationPatch,
    IntegrationQuery,
    KeyCreatedOut,
    KeyOut,
    TestAlertIn,
    WindowIn,
    WindowOut,
    WindowPatch,
    alert_json,
    change_json,
    event_json,
    integration_json,
    key_created_json,
    key_json,
    window_json,
)
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors as incidents
from warroom.lib import instants, wallclock, zones
from warroom.lib.errors import NotFound, ValidationFailed

router = Router(tags=["alerts"])

_INTEGRATION_OPTIONS = (
    "grouping",
    "window_minutes",
    "group_fields",
    "severity_map",
    "auto_resolve_incident",
    "signing_secret",
    "rate_limit_per_minute",
    "field_mapping",
    "email_dedup_pattern",
    "email_resolve_pattern",
    "heartbeat_interval_seconds",
    "heartbeat_grace_seconds",
)


#: A maintenance window's times and whether a local reading in a repeated hour means its first or last pass.
WINDOW_TIMES: dict[str, Literal["first", "last"]] = {
    "starts_at": "first",
    "ends_at": "last",
    "repeat_until": "last",
}


def _window_times(changes: dict[str, Any], time_zone: str) -> dict[str, Any]:
    """``changes`` with the window's times as aware instants: a time without an offset is local in ``time_zone``
    (validated here so that the 400 names ``time_zone``), by the house DST rules (starts take the first pass of
    a repeated hour, ends the last; a time in a spring-forward gap moves to the change)."""
    zone = ZoneInfo(zones.clean(time_zone))
    placed = dict(changes)
    for name, ambiguous in WINDOW_TIMES.items():
        value = placed.get(name)
        if isinstance(value, datetime) and value.tzinfo is None:
            if not instants.local_in_range(value):
                earliest, latest = instants.EARLIEST, instants.LATEST
                raise ValidationFailed(
                    f"{name} must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d} in {time_zone}",
                    field=name,
                )
            placed[name] = wallclock.local_to_utc(value, zone, ambiguous=ambiguous)
    return placed


def _body_service(user: User, key: str | int) -> Service:
    return lookup("service", partial(catalog.get_service_for_user_or_404, user, key=key))


def _alert(user: User, alert: Alert) -> dict[str, Any]:
    return alert_json(alert, incident_visible=selectors.incident_visible(user, alert.incident_id))


# ---------------------------------------------------------------------------------------------------------------
# integrations and keys


@router.get("/integrations", response=Page[IntegrationOut], summary="List integrations")
def list_integrations(request: HttpRequest, query: Query[IntegrationQuery]) -> dict[str, Any]:
    """The integrations of your teams' services (organisation admins: all). ``service`` narrows to one."""
    user = caller(request)
    rows = selectors.visible_integrations(user).prefetch_related("keys")
    if query.service:
        rows = rows.filter(
            service=lookup("service", partial(catalog.get_service_for_user_or_404, user, key=query.service))
        )
    return paginate(rows, query, integration_json)


@router.post("/integrations", response={201: IntegrationCreatedOut}, summary="Create an integration")
def create_integration(request: HttpRequest, payload: IntegrationIn) -> Status[dict[str, Any]]:
    """Team admins and managers. With ``create_key`` (the default) the answer carries the first key, shown this
    once; an email integration has no key (its address is the credential). An option the kind does not read
    (``services.OPTION_KINDS``: the signing secret is for grafana and webhook, the rate limit for the keyed
    kinds, the field mapping for webhook, the patterns for email, interval and grace for heartbeat) is a 400
    naming it, unless it has its empty value."""
    user = caller(request)
    service = _body_service(user, payload.service)
    options = payload.dict(include=set(_INTEGRATION_OPTIONS))
    if payload.create_key:
        integration, new_key = actions.create_integration_with_key(
            service=service,
            kind=payload.kind,
            name=payload.name,
            actor=user,
            source=source_of(request),
            **options,
        )
    else:
        integration = services.create_integration(
            service=service,
            kind=payload.kind,
            name=payload.name,
            actor=user,
            source=source_of(request),
            **options,
        )
        new_key = None
    fresh = selectors.get_integration_for_user_or_404(user, integration_id=integration.pk)
    data = integration_json(fresh)
    data["key"] = key_created_json(new_key.key, new_key.secret) if new_key is not None else None
    return Status(201, data)


@router.get("/integrations/{integration_id}", response=IntegrationOut, summary="Get an integration")
def get_integration(request: HttpRequest, integration_id: int) -> dict[str, Any]:
    user = caller(request)
    return integration_json(selectors.get_integration_for_user_or_404(user, integration_id=integration_id))


@router.patch("/integrations/{integration_id}", response=IntegrationOut, summary="Change an integration")
def update_integration(
    request: HttpRequest, integration_id: int, payload: IntegrationPatch
) -> dict[str, Any]:
    """Only the fields sent change. ``signing_secret: ""`` removes the secret. A body that is not a JSON object is
    a 422 naming ``body``; an option the kind does not read a 400 naming it, unless empty or unchanged."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    changes = payload.dict(exclude_unset=True)
    services.update_integration(integration=integration, actor=user, source=source_of(request), **changes)
    return integration_json(selectors.get_integration_for_user_or_404(user, integration_id=integration_id))


@router.get(
    "/integrations/{integration_id}/keys", response=list[KeyOut], summary="List an integration's keys"
)
def list_keys(request: HttpRequest, integration_id: int) -> list[dict[str, Any]]:
    """Newest first, revoked ones too. Only prefixes: secrets are never shown again."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    return [key_json(key) for key in selectors.keys_of(integration)]


@router.post("/integrations/{integration_id}/keys", response={201: KeyCreatedOut}, summary="Make a key")
def create_key(request: HttpRequest, integration_id: int) -> Status[dict[str, Any]]:
    """A new key, shown this once. Older keys keep working until revoked (rotation)."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    new_key = services.create_integration_key(integration=integration, actor=user, source=source_of(request))
    return Status(201, key_created_json(new_key.key, new_key.secret))


@router.delete("/integrations/{integration_id}/keys/{key_id}", response=KeyOut, summary="Revoke a key")
def revoke_key(request: HttpRequest, integration_id: int, key_id: int) -> dict[str, Any]:
    """Requests with the key are refused from now on. Revoking twice is a 409."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    key = selectors.get_key_or_404(integration, key_id=key_id)
    return key_json(services.revoke_integration_key(key=key, actor=user, source=source_of(request)))


@router.post(
    "/integrations/{integration_id}/test-alert", response={202: EventOut}, summary="Send a test alert"
)
def send_test_alert(
    request: HttpRequest, integration_id: int, payload: Body[TestAlertIn | None] = None
) -> Status[dict[str, Any]]:
    """Check the whole path: a test alert through this integration opens a test incident of its own that pages
    whoever is on call ("[TEST]"), needs no postmortem and counts in no report (docs/alerts.md). Answers the
    stored event (202: the engine applies it)."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    event = actions.send_test_alert(
        integration=integration,
        actor=user,
        source=source_of(request),
        severity=payload.severity if payload is not None else "critical",
    )
    return Status(202, event_json(event))


@router.get("/integrations/{integration_id}/events", response=Page[EventOut], summary="Read the event log")
def list_events(request: HttpRequest, integration_id: int, query: Query[EventQuery]) -> dict[str, Any]:
    """Everything the integration received, newest first: processed, ignored and rejected events with the reason,
    and those still pending for the engine."""
    user = caller(request)
    integration = selectors.get_integration_for_user_or_404(user, integration_id=integration_id)
    return paginate(selectors.events_of(integration, status=query.status), query, event_json)


# ---------------------------------------------------------------------------------------------------------------
# alerts


@router.get("/alerts", response=Page[AlertOut], summary="List alerts")
def list_alerts(request: HttpRequest, query: Query[AlertQuery]) -> dict[str, Any]:
    """The alerts of your teams' services, newest first, narrowed by any of the filters."""
    user = caller(request)
    incident = (
        lookup("incident", partial(incidents.get_incident_for_user_or_404, user, ref=query.incident))
        if query.incident
        else None
    )
    if query.service:
        known_filter("service", partial(catalog.get_service_for_user_or_404, user, key=query.service.strip()))
    if query.integration is not None:
        known_filter(
            "integration",
            partial(selectors.get_integration_for_user_or_404, user, integration_id=query.integration),
        )
    flt = selectors.AlertFilter(
        status=list(query.status) if query.status else None,
        severity=list(query.severity) if query.severity else None,
        service=query.service,
        integration=query.integration,
        incident=incident,
        text=query.q,
        open_only=query.open,
    )
    rows = selectors.filter_alerts(user, flt)
    on_page = [
        pk
        for pk in rows[query.offset : query.offset + query.limit].values_list("incident_id", flat=True)
        if pk
    ]
    visible = set(incidents.visible_incidents(user).filter(pk__in=on_page).values_list("pk", flat=True))
    return paginate(
        rows, query, lambda alert: alert_json(alert, incident_visible=alert.incident_id in visible)
    )


def _alert_detail(user: User, alert: Alert) -> dict[str, Any]:
    data = _alert(user, alert)
    data["events"] = [event_json(event) for event in selectors.alert_events(alert)]
    return data


@router.get("/alerts/{alert_id}", response=AlertDetailOut, summary="Get an alert")
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """One alert with its grouping reason, suppression and raw events."""
    user = caller(request)
    return _alert_detail(user, selectors.get_alert_for_user_or_404(user, alert_id=alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut, summary="Acknowledge an alert")
def acknowledge_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """Responders and up. An alert that is not triggered is a 409."""
    user = caller(request)
    alert = selectors.get_alert_for_user_or_404(user, alert_id=alert_id)
    actions.acknowledge_alert(alert=alert, actor=user, source=source_of(request))
    return _alert(user, selectors.get_alert_for_user_or_404(user, alert_id=alert_id))


@router.post("/alerts/{alert_id}/resolve", response=AlertOut, summary="Resolve an alert")
def resolve_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """Responders and up. Resolving the last open alert of an incident that alerts opened resolves the incident
    (if its integration auto-resolves). A resolved alert is a 409."""
    user = caller(request)
    alert = selectors.get_alert_for_user_or_404(user, alert_id=alert_id)
    actions.resolve_alert(alert=alert, actor=user, source=source_of(request))
    return _alert(user, selectors.get_alert_for_user_or_404(user, alert_id=alert_id))


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows and change events


def _window(user: User, slug: str, window_id: int) -> MaintenanceWindow:
    """The window, if the user may see it and it belongs to the service in the path."""
    service = catalog.get_service_for_user_or_404(user, key=slug)
    window = selectors.get_window_for_user_or_404(user, window_id=window_id)
    if window.service_id != service.pk:
        raise NotFound(f"maintenance window {window_id} not found")
    return window


@router.get("/services/{slug}/maintenance", response=Page[WindowOut], summary="List maintenance windows")
def list_windows(request: HttpRequest, slug: str, paging: Query[Paging]) -> dict[str, Any]:
    """The service's windows, latest start first."""
    user = caller(request)
    service = catalog.get_service_for_user_or_404(user, key=slug)
    return paginate(selectors.windows_of(user, service), paging, window_json)


@router.post("/services/{slug}/maintenance", response={201: WindowOut}, summary="Plan a maintenance window")
def create_window(request: HttpRequest, slug: str, payload: WindowIn) -> Status[dict[str, Any]]:
    """Team admins and managers. While active, the service's alerts are suppressed (recorded, no incident)."""
    user = caller(request)
    service = catalog.get_service_for_user_or_404(user, key=slug)
    values = _window_times(payload.dict(), payload.time_zone)
    window = services.create_maintenance_window(
        service=service, actor=user, source=source_of(request), **values
    )
    return Status(201, window_json(selectors.get_window_for_user_or_404(user, window_id=window.pk)))


@router.get(
    "/services/{slug}/maintenance/{window_id}", response=WindowOut, summary="Get a maintenance window"
)
def get_window(request: HttpRequest, slug: str, window_id: int) -> dict[str, Any]:
    return window_json(_window(caller(request), slug, window_id))


@router.patch(
    "/services/{slug}/maintenance/{window_id}", response=WindowOut, summary="Change a maintenance window"
)
def update_window(request: HttpRequest, slug: str, window_id: int, payload: WindowPatch) -> dict[str, Any]:
    """Only the fields sent change; e.g. ``{"ends_at": "<now>"}`` ends a window early."""
    user = caller(request)
    window = _window(user, slug, window_id)
    changes = payload.dict(exclude_unset=True)
    zone = changes.get("time_zone", window.time_zone)
    if isinstance(zone, str) and any(name in changes for name in WINDOW_TIMES):
        changes = _window_times(changes, zone)
    services.update_maintenance_window(window=window, actor=user, source=source_of(request), **changes)
    return window_json(selectors.get_window_for_user_or_404(user, window_id=window_id))


@router.delete(
    "/services/{slug}/maintenance/{window_id}", response={204: None}, summary="Delete a maintenance window"
)
def delete_window(request: HttpRequest, slug: str, window_id: int) -> Status[None]:
    """Alerts it suppressed stay suppressed."""
    user = caller(request)
    window = _window(user, slug, window_id)
    services.delete_maintenance_window(window=window, actor=user, source=source_of(request))
    return Status(204, None)


@router.get("/services/{slug}/changes", response=Page[ChangeOut], summary="List a service's changes")
def list_changes(request: HttpRequest, slug: str, paging: Query[Paging]) -> dict[str, Any]:
    """Deploys and other changes reported through ``/v2/change/enqueue``, newest first."""
    user = caller(request)
    service = catalog.get_service_for_user_or_404(user, key=slug)
    return paginate(selectors.changes_of(user, service), paging, change_json)
