"""Schemas of the alerts API (integrations, keys, the event log, alerts, maintenance windows, change events) and
the functions that turn those rows into JSON.

Input fields whose rules the services check (kind, grouping, severity map, ranges, patterns, which options a
kind takes) are typed loosely on purpose: the service refuses bad values with a 400 naming the field, the same
message the console shows. A value of a JSON type the schema cannot read (``"ten"`` for a number, a string for
a list) is ninja's 422 naming the field, and so are a field the endpoint does not know, ``true`` for a number
and a body that is not a JSON object (naming ``body``): the bodies are :class:`warroom.lib.schema.InputSchema`.
Secrets never leave: an integration says whether it is ``signed``, never its signing secret; a key's secret is
in the answer that made it and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from warroom.accounts.schemas import Paging, UserRef, user_ref
from warroom.alerts import snippets
from warroom.alerts.models import (
    DEFAULT_RATE_LIMIT,
    Alert,
    ChangeEvent,
    IntakeEvent,
    Integration,
    IntegrationKey,
    Kind,
    MaintenanceWindow,
    Recurrence,
)
from warroom.alerts.services import HEARTBEAT_GRACE_DEFAULT, SIGNING_KINDS
from warroom.catalog.schemas import ServiceRef, service_ref
from warroom.incidents.schemas import Ref
from warroom.incidents.states import State
from warroom.lib import clock
from warroom.lib.apitypes import IsoDateTime
from warroom.lib.schema import InputSchema

AlertStatusName = Literal["triggered", "acknowledged", "resolved"]
SeverityName = Literal["critical", "error", "warning", "info"]
EventStatusName = Literal["pending", "processed", "ignored", "rejected"]


# ---------------------------------------------------------------------------------------------------------------
# input


class IntegrationIn(InputSchema):
    service: Ref = Field(description="The service it belongs to: slug or id.")
    kind: str = Field(description=f"One of: {', '.join(Kind.values)}.")
    name: str = Field(description="What sends to it, 1 to 100 characters.")
    grouping: str | None = Field(
        None,
        description="alert, group_key, window or fields; default group_key for alertmanager and grafana, alert for "
        "the others.",
    )
    window_minutes: int = Field(10, description="For grouping=window: 1 to 1440.")
    group_fields: list[str] = Field(
        default_factory=list,
        description="For grouping=fields: label or detail names, e.g. alertname, cluster.",
    )
    severity_map: dict[str, Any] | None = Field(
        None, description='severity → [impact, urgency] for new incidents, e.g. {"warning": [2, 2]}.'
    )
    auto_resolve_incident: bool = True
    signing_secret: str = Field(
        "",
        description="grafana and webhook only: the HMAC-SHA256 secret requests are signed with; never shown.",
    )
    rate_limit_per_minute: int = Field(
        DEFAULT_RATE_LIMIT, description="Requests per minute per key; 0: none."
    )
    field_mapping: dict[str, Any] = Field(
        default_factory=dict, description='webhook only: {"summary": "alert.title", ...} (dotted paths).'
    )
    email_dedup_pattern: str = Field("", description="email only: regular expression over the subject.")
    email_resolve_pattern: str = Field("", description="email only: regular expression over the subject.")
    heartbeat_interval_seconds: int | None = Field(
        None, description="heartbeat only, and required there: expected ping interval (≥ 60)."
    )
    heartbeat_grace_seconds: int = Field(
        HEARTBEAT_GRACE_DEFAULT, description="heartbeat only: how late a ping may be."
    )
    create_key: bool = Field(True, description="Also make the first key and return it once (not for email).")


class IntegrationPatch(InputSchema):
    """Only the fields sent change; the kind and service never do. An option the kind does not read is refused
    unless it is empty or unchanged (see ``IntegrationIn``)."""

    name: str | None = None
    grouping: str | None = None
    window_minutes: int | None = None
    group_fields: list[str] | None = None
    severity_map: dict[str, Any] | None = None
    auto_resolve_incident: bool | None = None
    signing_secret: str | None = Field(None, description='"" removes the secret.')
    rate_limit_per_minute: int | None = None
    field_mapping: dict[str, Any] | None = None
    email_dedup_pattern: str | None = None
    email_resolve_pattern: str | None = None
    heartbeat_interval_seconds: int | None = None
    heartbeat_grace_seconds: int | None = None


class IntegrationQuery(Paging):
    service: str | None = Field(None, description="Service slug or id.")


class EventQuery(Paging):
    status: EventStatusName | None = Field(None, description="Only events with this status.")


class AlertQuery(Paging):
    status: list[AlertStatusName] | None = Field(None, description="Repeatable: ?status=triggered&status=...")
    severity: list[SeverityName] | None = Field(None, description="Repeatable.")
    service: str | None = Field(None, description="Service slug or id.")
    integration: int | None = Field(None, description="Integration id.")
    incident: str | None = Field(None, description="Incident: INC0001042 or 1042.")
    q: str | None = Field(None, max_length=200, description="Text in summary, dedup key or source, or an id.")
    open: bool = Field(False, description="Only triggered and acknowledged alerts.")


class WindowIn(InputSchema):
    title: str
    starts_at: IsoDateTime = Field(description="ISO-8601; times without an offset are local in time_zone.")
    ends_at: IsoDateTime = Field(description="ISO-8601; times without an offset are local in time_zone.")
    recurrence: str = Field(
        "none",
        description=f"One of: {', '.join(Recurrence.values)}; repeats keep the wall clock of time_zone.",
    )
    repeat_until: IsoDateTime | None = Field(None, description="Recurring windows: repeat until then.")
    time_zone: str = Field("UTC", description="IANA time zone the window repeats in, e.g. Europe/Berlin.")


class WindowPatch(InputSchema):
    title: str | None = None
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    recurrence: str | None = None
    repeat_until: IsoDateTime | None = None
    time_zone: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# output


class IntegrationRef(Schema):
    id: int
    name: str
    kind: str


class HeartbeatOut(Schema):
    interval_seconds: int
    grace_seconds: int
    state: str
    last_ping_at: datetime | None
    due_at: datetime | None


class IntegrationOut(Schema):
    id: int
    service: ServiceRef
    kind: str
    kind_label: str
    name: str
    endpoint: str = Field(description="Where to send (email: the address; heartbeat: ends with the key).")
    key_hint: str = Field(description="How the key travels.")
    grouping: str
    window_minutes: int
    group_fields: list[str]
    severity_map: dict[str, list[int]]
    auto_resolve_incident: bool
    signed: bool = Field(
        description="Whether requests must carry an HMAC signature (the secret is not shown); only grafana and "
        "webhook integrations check one."
    )
    rate_limit_per_minute: int
    field_mapping: dict[str, Any]
    email_address: str | None
    email_dedup_pattern: str
    email_resolve_pattern: str
    heartbeat: HeartbeatOut | None
    active_keys: int
    created_at: datetime


class KeyOut(Schema):
    id: int
    integration: int
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    is_active: bool


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The secret. Shown only this once; store it now.")
    endpoint: str = Field(description="Where to send with it (a heartbeat's ping URL includes it).")


class IntegrationCreatedOut(IntegrationOut):
    key: KeyCreatedOut | None = Field(description="The first key (shown once), unless create_key was false.")


class TestAlertIn(InputSchema):
    severity: str = Field(
        "critical", description="critical, error, warning or info: sets the test incident's priority."
    )


class EventOut(Schema):
    id: int
    integration: int
    received_at: datetime
    action: str
    dedup_key: str
    status: str
    reason: str
    processed_at: datetime | None
    alert: int | None
    fields: dict[str, Any]
    payload: dict[str, Any] = Field(description="The raw event as received (size-capped).")
    is_test: bool = Field(description="A test alert sent from Warroom, not by the monitoring tool.")


class IncidentLink(Schema):
    ref: str
    title: str
    state: str
    state_label: str


class WindowRef(Schema):
    id: int
    title: str


class AlertOut(Schema):
    id: int
    service: ServiceRef
    integration: IntegrationRef
    dedup_key: str
    status: str
    severity: str
    summary: str
    source: str
    details: dict[str, Any]
    links: list[Any]
    first_seen: datetime
    started_at: datetime | None = Field(
        description="When the source says the problem began (Alertmanager/Grafana startsAt, PagerDuty"
        " payload.timestamp), at most first_seen; null when it did not say."
    )
    last_seen: datetime
    count: int
    incident: IncidentLink | None = Field(description="The incident it was grouped into, if you may see it.")
    is_test: bool = Field(description="A test alert: its incident is a test, apart from real alerts.")
    opened_incident: bool
    group_reason: str
    suppressed: bool
    suppressed_by: WindowRef | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class AlertDetailOut(AlertOut):
    events: list[EventOut] = Field(description="The raw events that made or changed it, oldest first.")


class WindowOut(Schema):
    id: int
    service: ServiceRef
    title: str
    starts_at: datetime
    ends_at: datetime
    recurrence: str
    repeat_until: datetime | None
    time_zone: str = Field(description="IANA time zone whose wall clock the repeats keep.")
    active: bool = Field(description="Whether it suppresses alerts right now.")
    created_by: UserRef | None
    created_at: datetime


class ChangeOut(Schema):
    id: int
    service: ServiceRef
    integration: IntegrationRef
    summary: str
    source: str
    links: list[Any]
    details: dict[str, Any]
    happened_at: datetime
    received_at: datetime


# ---------------------------------------------------------------------------------------------------------------
# rendering


def integration_ref(integration: Integration) -> dict[str, Any]:
    return {"id": integration.pk, "name": integration.name, "kind": integration.kind}


def _heartbeat(integration: Integration) -> dict[str, Any] | None:
    monitor = getattr(integration, "heartbeat", None) if integration.kind == Kind.HEARTBEAT else None
    if monitor is None:
        return None
    return {
        "interval_seconds": monitor.interval_seconds,
        "grace_seconds": monitor.grace_seconds,
        "state": monitor.state,
        "last_ping_at": monitor.last_ping_at,
        "due_at": monitor.due_at,
    }


def integration_json(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.pk,
        "service": service_ref(integration.service),
        "kind": integration.kind,
        "kind_label": integration.get_kind_display(),
        "name": integration.name,
        "endpoint": snippets.endpoint(integration),
        "key_hint": snippets.key_hint(integration),
        "grouping": integration.grouping,
        "window_minutes": integration.window_minutes,
        "group_fields": list(integration.group_fields or []),
        "severity_map": integration.severity_map,
        "auto_resolve_incident": integration.auto_resolve_incident,
        "signed": bool(integration.signing_secret) and integration.kind in SIGNING_KINDS,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "field_mapping": integration.field_mapping or {},
        "email_address": snippets.endpoint(integration) if integration.kind == Kind.EMAIL else None,
        "email_dedup_pattern": integration.email_dedup_pattern,
        "email_resolve_pattern": integration.email_resolve_pattern,
        "heartbeat": _heartbeat(integration),
        "active_keys": sum(1 for key in integration.keys.all() if key.is_active),
        "created_at": integration.created_at,
    }


def key_json(key: IntegrationKey) -> dict[str, Any]:
    return {
        "id": key.pk,
        "integration": key.integration_id,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
        "is_active": key.is_active,
    }


def key_created_json(key: IntegrationKey, secret: str) -> dict[str, Any]:
    return {**key_json(key), "key": secret, "endpoint": snippets.endpoint(key.integration, secret)}


def event_json(event: IntakeEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "integration": event.integration_id,
        "received_at": event.received_at,
        "action": event.action,
        "dedup_key": event.dedup_key,
        "status": event.status,
        "reason": event.reason,
        "processed_at": event.processed_at,
        "alert": event.alert_id,
        "fields": event.fields or {},
        "payload": event.payload if isinstance(event.payload, dict) else {"raw": event.payload},
        "is_test": event.is_test,
    }


def alert_json(alert: Alert, *, incident_visible: bool) -> dict[str, Any]:
    incident = alert.incident if incident_visible else None
    return {
        "id": alert.pk,
        "service": service_ref(alert.service),
        "integration": integration_ref(alert.integration),
        "dedup_key": alert.dedup_key,
        "status": alert.status,
        "severity": alert.severity,
        "summary": alert.summary,
        "source": alert.source,
        "details": alert.details if isinstance(alert.details, dict) else {"value": alert.details},
        "links": alert.links if isinstance(alert.links, list) else [],
        "first_seen": alert.first_seen,
        "started_at": alert.started_at,
        "last_seen": alert.last_seen,
        "count": alert.count,
        "incident": None
        if incident is None
        else {
            "ref": incident.ref,
            "title": incident.title,
            "state": incident.state,
            "state_label": State(incident.state).label,
        },
        "is_test": alert.is_test,
        "opened_incident": alert.opened_incident,
        "group_reason": alert.group_reason,
        "suppressed": alert.suppressed,
        "suppressed_by": None
        if alert.suppressed_by is None
        else {"id": alert.suppressed_by.pk, "title": alert.suppressed_by.title},
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
    }


def window_json(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": window.pk,
        "service": service_ref(window.service),
        "title": window.title,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "recurrence": window.recurrence,
        "repeat_until": window.repeat_until,
        "time_zone": window.time_zone,
        "active": window.is_active(clock.now()),
        "created_by": user_ref(window.created_by),
        "created_at": window.created_at,
    }


def change_json(change: ChangeEvent) -> dict[str, Any]:
    return {
        "id": change.pk,
        "service": service_ref(change.service),
        "integration": integration_ref(change.integration),
        "summary": change.summary,
        "source": change.source,
        "links": change.links if isinstance(change.links, list) else [],
        "details": change.details if isinstance(change.details, dict) else {"value": change.details},
        "happened_at": change.happened_at,
        "received_at": change.received_at,
    }
