"""The intake endpoints: validate, insert the raw event(s), commit, answer. Nothing else happens here: the
``alerts.process`` engine module deduplicates and groups.

Answers (documented in ``docs/integrations/``):

* 202 only after the event rows have committed;
* 400 invalid body (naming the field), 413 over 512 KB, 415 not ``application/json``;
* 401 no key at all; 404 a key that is unknown or revoked (the same answer for both, so nothing is revealed
  about which keys exist). PagerDuty-style endpoints answer in PagerDuty's body shape;
* 503 with ``Retry-After`` when the commit failed (nothing was stored; served by the intake fast path,
  :mod:`warroom.alerts.fastpath`, which runs these views with a group commit).

When the key is known, a refused request is kept in the integration's event log as ``rejected`` with the reason.
Keys that travel in the path are never written to the log: Django's own request logging is switched off for
these responses and replaced by a line with the key redacted.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import SuspiciousOperation
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from warroom.alerts.models import (
    DEDUP_KEY_MAX,
    SUMMARY_MAX,
    Action,
    ChangeEvent,
    EventStatus,
    IntakeEvent,
    Integration,
    IntegrationKey,
    Kind,
    Severity,
)
from warroom.alerts.ratelimit import LIMITER
from warroom.alerts.services import authenticate_key
from warroom.engine import wake
from warroom.lib import chunked, clock, jsontext
from warroom.lib.ids import as_id

log = logging.getLogger("warroom.alerts.intake")

#: The engine module that deduplicates and groups intake events (warroom.alerts.engine): stored events wake it.
PROCESS = "alerts.process"

MAX_BODY = 512 * 1024
PAYLOAD_KEEP = 64 * 1024
RAW_KEEP = 4096
MAX_DEPTH = 64  # levels of nested objects and lists in a body (real senders use fewer than 10)
SOURCE_MAX = 255
GROUP_KEY_MAX = 4096
_SEVERITIES = frozenset(Severity.values)
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]*\+)?json$")
_PATH_KEY = re.compile(r"^(/integrations/[^/]+/).+$")

Errors = list[tuple[str, str]]
GROUP_KEY_INDEXED = 500


def stored_group_key(value: str) -> str:
    """Group keys are indexed; a very long one is stored as its SHA-256 (still stable per group)."""
    if len(value) <= GROUP_KEY_INDEXED:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


@dataclass
class BadRequest(Exception):
    """A request refused before any alert field was looked at."""

    status: int
    errors: Errors
    raw: str = ""


@dataclass
class Parsed:
    """The events one request turns into (several for an Alertmanager group)."""

    events: list[IntakeEvent] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------------
# reading the body


def has_body(request: HttpRequest) -> bool:
    """Whether the request says it carries a body (a non-zero Content-Length, or chunks)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0 or chunked.is_chunked(request)
    except ValueError:
        return True  # an unreadable Content-Length: read_body answers for it


def read_body(request: HttpRequest) -> bytes:
    """The raw body, or :class:`BadRequest` (413 or 415). Signatures are checked over these bytes."""
    content_type = (request.content_type or "").strip().lower()
    if not _JSON_TYPE.match(content_type):
        raise BadRequest(
            415, [("content-type", f"Content-Type must be application/json (got {content_type!r})")]
        )
    return _capped_body(request)


def _capped_body(request: HttpRequest) -> bytes:
    """The raw body, at most :data:`MAX_BODY` bytes, or :class:`BadRequest` (413)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        raise BadRequest(413, [("body", f"the body is larger than {MAX_BODY // 1024} KB")])
    body = (
        chunked.read_chunked(request, MAX_BODY) if chunked.is_chunked(request) else request.read(MAX_BODY + 1)
    )
    if len(body) > MAX_BODY:
        raise BadRequest(413, [("body", f"the body is larger than {MAX_BODY // 1024} KB")])
    return body


def _too_deep(data: dict[str, Any]) -> bool:
    """Whether ``data`` nests deeper than ``MAX_DEPTH``. The databases cap the depth of what they store (SQLite's
    JSON functions at 1,000 levels), and a body that can never be stored must be refused here, not answered 503
    (which the sender would retry for ever). Only containers are visited: a few per alert."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            below.extend(child for child in children if isinstance(child, dict | list))
        if not below:
            return False
        level = below
    return True


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, or :class:`BadRequest` (413, 415 or 400)."""
    return parse_json(read_body(request))


def _raw(body: bytes) -> str:
    """What the event log keeps of a body it could not read: its first ``RAW_KEEP`` bytes as text."""
    return body[:RAW_KEEP].decode("utf-8", errors="replace").replace("\x00", "")


def _utf8(body: bytes) -> str:
    """``body`` as text, or :class:`BadRequest` (400) naming the first byte that is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            400, [("body", f"the body is not valid UTF-8 (byte {exc.start})")], _raw(body)
        ) from None


def parse_json(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, or :class:`BadRequest` (400)."""
    raw = _raw(body)
    text = _utf8(body)
    try:
        data = jsontext.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(400, [("body", f"the body is not valid JSON: {exc}")], raw) from None
    if not isinstance(data, dict):
        raise BadRequest(400, [("body", "the body must be a JSON object")], raw)
    if _too_deep(data):
        raise BadRequest(
            400, [("body", f"the body nests objects and lists deeper than {MAX_DEPTH} levels")], raw
        )
    refused = jsontext.unstorable(text, data)
    if refused:
        raise BadRequest(400, [("body", refused)], raw)
    return data


def header_key(request: HttpRequest, scheme: str) -> str:
    """The credentials of an ``Authorization: <scheme> <credentials>`` header, or "" for another scheme."""
    given, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if given.lower() == scheme.lower() else ""


def bearer_key(request: HttpRequest) -> str:
    return header_key(request, "Bearer")


# ---------------------------------------------------------------------------------------------------------------
# field checks


def _text(
    data: dict[str, Any], name: str, errors: Errors, *, label: str, limit: int, required: bool = False
) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.append((label, f"{label} is required"))
        return ""
    if not isinstance(value, str):
        errors.append((label, f"{label} must be a string"))
        return ""
    if required and not value.strip():
        errors.append((label, f"{label} must not be blank"))
    if len(value) > limit:
        errors.append((label, f"{label} is at most {limit} characters (got {len(value)})"))
    return value


def _links(value: Any, errors: Errors, *, label: str = "links") -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append((label, f"{label} must be a list of {{href, text}} objects"))
        return []
    links: list[dict[str, str]] = []
    for index, item in enumerate(value[:50]):
        href = item.get("href") if isinstance(item, dict) else None
        text = item.get("text", "") if isinstance(item, dict) else ""
        if not isinstance(href, str) or not href or not isinstance(text, str):
            errors.append((f"{label}[{index}]", f"{label}[{index}] needs href (a string) and optional text"))
            continue
        links.append({"href": href[:LINK_MAX], "text": text[:1024]})
    return links


def _object(data: dict[str, Any], name: str, errors: Errors, *, label: str) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append((label, f"{label} must be an object"))
        return {}
    return value


def _event(
    *,
    action: str,
    dedup_key: str,
    group_key: str = "",
    fields: dict[str, Any] | None = None,
    payload: dict[str, Any],
    status: str = EventStatus.PENDING,
    reason: str = "",
) -> IntakeEvent:
    return IntakeEvent(
        action=action,
        dedup_key=dedup_key,
        group_key=group_key,
        fields=fields or {},
        payload=payload,
        status=status,
        reason=reason,
    )


# ---------------------------------------------------------------------------------------------------------------
# the formats


def parse_pagerduty(data: dict[str, Any], errors: Errors) -> Parsed:
    """PagerDuty Events API v2 alert event (``/v2/enqueue``)."""
    action = data.get("event_action")
    if action not in (Action.TRIGGER, Action.ACKNOWLEDGE, Action.RESOLVE):
        errors.append(("event_action", "event_action must be one of trigger, acknowledge, resolve"))
    dedup_key = _text(data, "dedup_key", errors, label="dedup_key", limit=DEDUP_KEY_MAX)
    if action in (Action.ACKNOWLEDGE, Action.RESOLVE) and not dedup_key:
        errors.append(("dedup_key", f"dedup_key is required for event_action {action}"))
    links = _links(data.get("links"), errors)
    fields: dict[str, Any] = {}
    if action == Action.TRIGGER:
        payload = data.get("payload")
        if not isinstance(payload, dict):
            errors.append(("payload", "payload is required (an object) for event_action trigger"))
            payload = {}
        summary = _text(payload, "summary", errors, label="payload.summary", limit=SUMMARY_MAX, required=True)
        source = _text(payload, "source", errors, label="payload.source", limit=SOURCE_MAX, required=True)
        severity = payload.get("severity")
        if not isinstance(severity, str) or severity not in _SEVERITIES:
            errors.append(
                ("payload.severity", "payload.severity must be one of critical, error, warning, info")
            )
        for name in ("timestamp", "component", "group", "class"):
            _text(payload, name, errors, label=f"payload.{name}", limit=SUMMARY_MAX)
        timestamp = payload.get("timestamp")
        if isinstance(timestamp, str) and timestamp.strip() and parse_timestamp(timestamp) is None:
            errors.append(("payload.timestamp", "payload.timestamp must be an ISO 8601 date-time"))
        for name in ("client", "client_url"):
            _text(data, name, errors, label=name, limit=2048)
        details = {
            name: payload[name]
            for name in ("timestamp", "component", "group", "class", "custom_details")
            if payload.get(name) is not None
        }
        details.update({name: data[name] for name in ("client", "client_url", "images") if data.get(name)})
        fields = {
            "summary": summary,
            "severity": severity,
            "source": source,
            "details": details,
            "links": links,
        }
        dedup_key = dedup_key or uuid.uuid4().hex
    parsed = Parsed(answer={"status": "success", "message": "Event processed", "dedup_key": dedup_key})
    if not errors:
        parsed.events.append(_event(action=str(action), dedup_key=dedup_key, fields=fields, payload=data))
    return parsed


def parse_pagerduty_change(data: dict[str, Any], errors: Errors) -> Parsed:
    """PagerDuty change event (``/v2/change/enqueue``): recorded, never pages."""
    payload = data.get("payload")
    if not isinstance(payload, dict):
        errors.append(("payload", "payload is required (an object)"))
        payload = {}
    summary = _text(payload, "summary", errors, label="payload.summary", limit=SUMMARY_MAX, required=True)
    source = _text(payload, "source", errors, label="payload.source", limit=SOURCE_MAX)
    timestamp = _text(payload, "timestamp", errors, label="payload.timestamp", limit=64)
    if timestamp and parse_timestamp(timestamp) is None:
        errors.append(("payload.timestamp", "payload.timestamp must be an ISO 8601 date-time"))
    details = _object(payload, "custom_details", errors, label="payload.custom_details")
    links = _links(data.get("links"), errors)
    parsed = Parsed(answer={"status": "success", "message": "Change event processed"})
    if not errors:
        parsed.events.append(
            _event(
                action=Action.CHANGE,
                dedup_key="",
                fields={
                    "summary": summary,
                    "source": source,
                    "links": links,
                    "details": details,
                    "timestamp": timestamp,
                },
                payload=data,
                status=EventStatus.PROCESSED,
                reason="change event: recorded, never pages",
            )
        )
    return parsed


_AM_SEVERITY = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "error": "error",
    "err": "error",
    "high": "error",
    "major": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "minor": "warning",
    "info": "info",
    "low": "info",
    "none": "info",
}


@dataclass
class GroupAlert:
    """The checked identity fields of one alert of an Alertmanager or Grafana group."""

    alert: dict[str, Any]
    status: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, Any]


LINK_MAX = 2048


def _link(href: Any, text: str) -> dict[str, str] | None:
    """A link to show with the alert, or None for an empty URL or one longer than ``LINK_MAX`` (a long PromQL
    expression makes a long ``generatorURL``; Alertmanager does not retry a refused group, so such a URL is kept
    only in the raw payload rather than failing the whole group)."""
    if not isinstance(href, str) or not href or len(href) > LINK_MAX:
        return None
    return {"href": href, "text": text}


def _group_alert(alert: Any, index: int, errors: Errors, urls: tuple[str, ...]) -> GroupAlert | None:
    """Check the fields Alertmanager and Grafana alerts share (status, fingerprint, labels, annotations, times
    and the URL fields ``urls``)."""
    label = f"alerts[{index}]"
    if not isinstance(alert, dict):
        errors.append((label, f"{label} must be an object"))
        return None
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        errors.append((f"{label}.status", f"{label}.status must be firing or resolved"))
    fingerprint = _text(
        alert, "fingerprint", errors, label=f"{label}.fingerprint", limit=DEDUP_KEY_MAX, required=True
    )
    labels = alert.get("labels")
    if not isinstance(labels, dict) or any(not isinstance(v, str) for v in labels.values()):
        errors.append((f"{label}.labels", f"{label}.labels must be an object of strings"))
        labels = {}
    annotations = _object(alert, "annotations", errors, label=f"{label}.annotations")
    for name in ("startsAt", "endsAt"):
        _text(alert, name, errors, label=f"{label}.{name}", limit=2048)
    for name in urls:  # any length: a long one is kept in the raw payload and left out of the links (_link)
        _text(alert, name, errors, label=f"{label}.{name}", limit=MAX_BODY)
    if errors:
        return None
    return GroupAlert(alert, str(status), fingerprint, labels, annotations)


def _group_member(alert: dict[str, Any], group: dict[str, Any], group_text: str) -> jsontext.Encoded:
    """The raw payload kept for one alert of a group notification, ``{"alert": …, "group": …}``, with its JSON
    text. The group's part of the text is made once per request (``group_text``), not once per alert: for a
    batch of 100 alerts that saves ~15 µs of the web process's CPU an alert (measured)."""
    text = '{"alert": ' + json.dumps(alert, ensure_ascii=False) + ', "group": ' + group_text + "}"
    return jsontext.Encoded({"alert": alert, "group": group}, text)


def _am_alert(
    alert: Any, index: int, group: dict[str, Any], group_text: str, errors: Errors
) -> IntakeEvent | None:
    checked = _group_alert(alert, index, errors, ("generatorURL",))
    if checked is None:
        return None
    status, fingerprint, labels, annotations = (
        checked.status,
        checked.fingerprint,
        checked.labels,
        checked.annotations,
    )
    note = annotations.get("summary") or annotations.get("description") or labels.get("alertname")
    summary = note if isinstance(note, str) and note.strip() else f"Alertmanager alert {fingerprint}"
    external = group.get("externalURL") if isinstance(group.get("externalURL"), str) else ""
    source = labels.get("instance") or labels.get("job") or external or "alertmanager"
    links = [
        link
        for link in (_link(alert.get("generatorURL"), "Source"), _link(external, "Alertmanager"))
        if link is not None
    ]
    details = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": alert.get("startsAt", ""),
        "endsAt": alert.get("endsAt", ""),
        "receiver": group.get("receiver", ""),
    }
    fields = {
        "summary": summary[:SUMMARY_MAX],
        "severity": _AM_SEVERITY.get(str(labels.get("severity", "")).lower(), Severity.WARNING),
        "source": str(source)[:SOURCE_MAX],
        "details": details,
        "links": links,
    }
    return _event(
        action=Action.TRIGGER if status == "firing" else Action.RESOLVE,
        dedup_key=fingerprint,
        group_key=stored_group_key(str(group.get("groupKey", ""))),
        fields=fields,
        payload=_group_member(alert, group, group_text),
    )


def _group_parsed(events: list[IntakeEvent | None]) -> Parsed:
    """A group notification's events, its firing alerts before its resolved ones.

    Alertmanager and Grafana send the whole state of a group at once, ordered by labels, not by status. Applied
    in that order, a resolved alert that came first could resolve the group's incident (its last open alert)
    and a firing one after it open a new incident, although the group never stopped firing. Firing first, the
    firing alerts join the open incident and the resolved ones then leave it open."""
    found = [event for event in events if event is not None]
    found.sort(key=lambda event: event.action != Action.TRIGGER)  # stable: label order within each part
    return Parsed(events=found, answer={"status": "success", "events": len(found)})


def parse_alertmanager(data: dict[str, Any], errors: Errors) -> Parsed:
    """Alertmanager webhook payload version 4: one event per alert of the group."""
    if data.get("version") != "4":
        errors.append(("version", 'version must be "4" (the Alertmanager webhook payload version)'))
    _text(data, "groupKey", errors, label="groupKey", limit=GROUP_KEY_MAX, required=True)
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        errors.append(("alerts", "alerts must be a list"))
        alerts = []
    if errors:
        return Parsed()
    group = {name: value for name, value in data.items() if name != "alerts"}
    group_text = json.dumps(group, ensure_ascii=False)
    events = [_am_alert(alert, index, group, group_text, errors) for index, alert in enumerate(alerts)]
    if errors:
        return Parsed()
    return _group_parsed(events)


_GRAFANA_LINKS = (
    ("generatorURL", "Alert rule"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("silenceURL", "Silence"),
)


def _grafana_alert(
    alert: Any, index: int, group: dict[str, Any], group_text: str, errors: Errors
) -> IntakeEvent | None:
    checked = _group_alert(alert, index, errors, tuple(name for name, _ in _GRAFANA_LINKS))
    if checked is None:
        return None
    labels, annotations = checked.labels, checked.annotations
    note = annotations.get("summary") or labels.get("alertname")
    summary = note if isinstance(note, str) and note.strip() else f"Grafana alert {checked.fingerprint}"
    severity = labels.get("severity", "").lower()
    links = [
        link for name, text in _GRAFANA_LINKS if (link := _link(checked.alert.get(name), text)) is not None
    ]
    details = {
        "labels": labels,
        "annotations": annotations,
        **{
            name: checked.alert[name]
            for name in ("startsAt", "endsAt", "values", "valueString", "imageURL", "ruleUID")
            if checked.alert.get(name) not in (None, "")
        },
        "receiver": group.get("receiver", ""),
        "orgId": group.get("orgId"),
    }
    fields = {
        "summary": summary[:SUMMARY_MAX],
        "severity": severity if isinstance(severity, str) and severity in _SEVERITIES else Severity.WARNING,
        "source": str(labels.get("instance") or labels.get("grafana_folder") or "grafana")[:SOURCE_MAX],
        "details": details,
        "links": links,
    }
    return _event(
        action=Action.TRIGGER if checked.status == "firing" else Action.RESOLVE,
        dedup_key=checked.fingerprint,
        group_key=stored_group_key(str(group.get("groupKey", ""))),
        fields=fields,
        payload=_group_member(checked.alert, group, group_text),
    )


def parse_grafana(data: dict[str, Any], errors: Errors) -> Parsed:
    """Grafana alerting webhook, version 1: one event per alert of the group."""
    if data.get("version") != "1":
        errors.append(("version", 'version must be "1" (the Grafana alerting webhook version)'))
    _text(data, "groupKey", errors, label="groupKey", limit=GROUP_KEY_MAX, required=True)
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        errors.append(("alerts", "alerts must be a list"))
        alerts = []
    if errors:
        return Parsed()
    group = {name: value for name, value in data.items() if name != "alerts"}
    group_text = json.dumps(group, ensure_ascii=False)
    events = [_grafana_alert(alert, index, group, group_text, errors) for index, alert in enumerate(alerts)]
    if errors:
        return Parsed()
    return _group_parsed(events)


GRAFANA_SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
GRAFANA_TIMESTAMP_HEADERS = ("X-Grafana-Alerting-Signature-Timestamp", "X-Grafana-Alert-Signature-Timestamp")
REPLAY_WINDOW = timedelta(minutes=5)


def _first_header(request: HttpRequest, names: tuple[str, ...]) -> str:
    for name in names:
        value = request.headers.get(name, "").strip()
        if value:
            return value
    return ""


def grafana_signature_errors(request: HttpRequest, body: bytes, integration: Integration) -> Errors:
    """Check Grafana's optional HMAC when the integration has a signing secret: hex HMAC-SHA256 of the body,
    or of ``"<unix seconds>:" + body`` when the timestamp header is sent (then at most 5 minutes off)."""
    secret = integration.signing_secret
    if not secret:
        return []
    signature = _first_header(request, GRAFANA_SIGNATURE_HEADERS)
    if not signature:
        return [("signature", "the signature header X-Grafana-Alerting-Signature is missing")]
    message = body
    timestamp = _first_header(request, GRAFANA_TIMESTAMP_HEADERS)
    if timestamp:
        if as_id(timestamp) is None or len(timestamp) > 12:
            return [("signature", "the signature timestamp must be Unix seconds")]
        age = abs(clock.now().timestamp() - int(timestamp))
        if age > REPLAY_WINDOW.total_seconds():
            return [("signature", "the signature timestamp is more than 5 minutes off (a replay?)")]
        message = timestamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", errors="replace")):
        return [("signature", "the signature does not match the body")]
    return []


OPSGENIE_MESSAGE_MAX = 130
OPSGENIE_ALIAS_MAX = 512
OPSGENIE_DESCRIPTION_MAX = 15000
_OPSGENIE_PRIORITY = {
    "P1": Severity.CRITICAL,
    "P2": Severity.ERROR,
    "P3": Severity.WARNING,
    "P4": Severity.INFO,
    "P5": Severity.INFO,
}


def opsgenie_dedup_key(alias: str) -> str:
    """Opsgenie aliases may be 512 characters; longer than a dedup key, one is kept as its SHA-256."""
    if len(alias) <= DEDUP_KEY_MAX:
        return alias
    return "sha256:" + hashlib.sha256(alias.encode()).hexdigest()


def _opsgenie_answer(request_id: str) -> dict[str, Any]:
    return {"result": "Request will be processed", "took": 0.0, "requestId": request_id}


def parse_opsgenie_create(request_id: str, data: dict[str, Any], errors: Errors) -> Parsed:
    """Opsgenie ``POST /v2/alerts``: ``alias`` is the dedup key (the request id when absent)."""
    message = _text(data, "message", errors, label="message", limit=OPSGENIE_MESSAGE_MAX, required=True)
    alias = _text(data, "alias", errors, label="alias", limit=OPSGENIE_ALIAS_MAX)
    description = _text(data, "description", errors, label="description", limit=OPSGENIE_DESCRIPTION_MAX)
    source = _text(data, "source", errors, label="source", limit=SOURCE_MAX)
    entity = _text(data, "entity", errors, label="entity", limit=512)
    for name in ("user", "note"):
        _text(data, name, errors, label=name, limit=OPSGENIE_DESCRIPTION_MAX)
    priority = data.get("priority", "P3")
    if not isinstance(priority, str) or priority not in _OPSGENIE_PRIORITY:
        errors.append(("priority", "priority must be one of P1, P2, P3, P4, P5"))
    details = _object(data, "details", errors, label="details")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(tag, str) for tag in tags):
        errors.append(("tags", "tags must be a list of strings"))
    for name in ("responders", "visibleTo", "actions"):
        if not isinstance(data.get(name, []), list):
            errors.append((name, f"{name} must be a list"))
    parsed = Parsed(answer=_opsgenie_answer(request_id))
    if errors:
        return parsed
    extra = {
        name: data[name]
        for name in ("entity", "user", "note", "responders", "visibleTo", "actions")
        if data.get(name) not in (None, "", [])
    }
    fields = {
        "summary": message,
        "severity": _OPSGENIE_PRIORITY[str(priority)],
        "source": source or entity or "opsgenie",
        "details": {
            "description": description,
            "priority": priority,
            "details": details,
            "tags": tags,
            "alias": alias,
            "requestId": request_id,
            **extra,
        },
        "links": [],
    }
    parsed.events.append(
        _event(
            action=Action.TRIGGER,
            dedup_key=opsgenie_dedup_key(alias or request_id),
            fields=fields,
            payload=data,
        )
    )
    return parsed


def parse_opsgenie_follow_up(
    action: str, identifier: str, identifier_type: str, request_id: str, data: dict[str, Any], errors: Errors
) -> Parsed:
    """Opsgenie ``POST /v2/alerts/{identifier}/close|acknowledge``. ``identifierType=alias`` finds the alert by
    its alias; ``id`` by the ``requestId`` answered when an alert without alias was created (that is its dedup key
    in Warroom). ``tiny`` ids are not supported."""
    if "\x00" in identifier or "\x00" in identifier_type:  # %00 in the path or query: nothing to store it as
        errors.append(("identifier", "the identifier and identifierType must not contain a NUL character"))
        return Parsed(answer=_opsgenie_answer(request_id))
    if identifier_type not in ("alias", "id"):
        errors.append(
            (
                "identifierType",
                f"identifierType={identifier_type} is not supported: Warroom finds Opsgenie alerts by alias, or "
                "by id (the requestId answered when an alert without alias was created)",
            )
        )
    if not identifier.strip() or len(identifier) > OPSGENIE_ALIAS_MAX:
        errors.append(("identifier", f"the alias is 1 to {OPSGENIE_ALIAS_MAX} characters"))
    for name in ("user", "source", "note"):
        _text(data, name, errors, label=name, limit=OPSGENIE_DESCRIPTION_MAX)
    parsed = Parsed(answer=_opsgenie_answer(request_id))
    if not errors:
        parsed.events.append(
            _event(
                action=action,
                dedup_key=opsgenie_dedup_key(identifier),
                payload={"identifier": identifier, "identifierType": identifier_type, "body": data},
            )
        )
    return parsed


def parse_webhook(data: dict[str, Any], errors: Errors) -> Parsed:
    """The generic JSON webhook (fields in ``docs/integrations/webhook.md``)."""
    action = data.get("action", Action.TRIGGER)
    if action not in (Action.TRIGGER, Action.ACKNOWLEDGE, Action.RESOLVE):
        errors.append(("action", "action must be one of trigger, acknowledge, resolve"))
    dedup_key = _text(data, "dedup_key", errors, label="dedup_key", limit=DEDUP_KEY_MAX)
    if action in (Action.ACKNOWLEDGE, Action.RESOLVE) and not dedup_key:
        errors.append(("dedup_key", f"dedup_key is required for action {action}"))
    group_key = _text(data, "group_key", errors, label="group_key", limit=GROUP_KEY_MAX)
    fields: dict[str, Any] = {}
    if action == Action.TRIGGER:
        summary = _text(data, "summary", errors, label="summary", limit=SUMMARY_MAX, required=True)
        severity = data.get("severity", Severity.WARNING)
        if not isinstance(severity, str) or severity not in _SEVERITIES:
            errors.append(("severity", "severity must be one of critical, error, warning, info"))
        source = _text(data, "source", errors, label="source", limit=SOURCE_MAX)
        details = _object(data, "details", errors, label="details")
        links = _links(data.get("links"), errors)
        fields = {
            "summary": summary,
            "severity": severity,
            "source": source,
            "details": details,
            "links": links,
        }
        dedup_key = dedup_key or uuid.uuid4().hex
    parsed = Parsed(answer={"status": "success", "dedup_key": dedup_key})
    if not errors:
        parsed.events.append(
            _event(
                action=str(action),
                dedup_key=dedup_key,
                group_key=stored_group_key(group_key),
                fields=fields,
                payload=data,
            )
        )
    return parsed


# ---------------------------------------------------------------------------------------------------------------
# GoAlert's generic API (drop-in): ``POST /api/v2/generic/incoming?token=<key>``, fields in the query string, a
# form or a JSON body (the body wins), ``action=close`` resolves; docs/integrations/goalert.md

GOALERT_DETAILS_MAX = 15000
GOALERT_META_MAX = 50
_FORM_TYPE = "application/x-www-form-urlencoded"
_MULTIPART_TYPE = "multipart/form-data"


def read_goalert(request: HttpRequest) -> dict[str, Any]:
    """GoAlert's parameters, from the query string and the body (JSON or a form; the body's win), with ``meta``
    as a mapping (``meta=key=value`` pairs in a query string or form), or :class:`BadRequest`."""
    params: dict[str, Any] = {}
    meta: dict[str, Any] = {}

    def take(pairs: list[tuple[str, str]], where: str) -> None:
        for name, value in pairs:
            if name == "meta":
                key, sep, text = value.partition("=")
                if not sep or not key:
                    raise BadRequest(
                        400, [("meta", f"meta in the {where} must be key=value (got {value!r})")]
                    )
                meta[key] = text
            else:
                params[name] = value

    take([(name, value) for name in request.GET for value in request.GET.getlist(name)], "query string")
    body = _capped_body(request) if has_body(request) else b""
    content_type = (request.content_type or "").strip().lower()
    if body and _JSON_TYPE.match(content_type):
        data = parse_json(body)
        given = data.pop("meta", None)
        if given is not None and not isinstance(given, dict):
            raise BadRequest(400, [("meta", "meta must be an object of keys and values")])
        meta.update(given or {})
        params.update(data)
    elif body and content_type == _FORM_TYPE:
        take(parse_qsl(_utf8(body), keep_blank_values=True), "form")
    elif body and content_type == _MULTIPART_TYPE:  # curl -F, as GoAlert takes it too
        take(_multipart_fields(request, body), "form")
    elif body:
        raise BadRequest(
            415,
            [
                (
                    "content-type",
                    f"Content-Type must be application/json, {_FORM_TYPE} or {_MULTIPART_TYPE} (got "
                    f"{content_type!r}), or send the fields in the query string",
                )
            ],
        )
    if meta:
        params["meta"] = meta
    return params


def _multipart_fields(request: HttpRequest, body: bytes) -> list[tuple[str, str]]:
    """The fields of a ``multipart/form-data`` body already read (files are left out, as GoAlert leaves them),
    or :class:`BadRequest` (400)."""
    meta = {**request.META, "CONTENT_LENGTH": str(len(body))}
    try:
        fields, _files = MultiPartParser(meta, io.BytesIO(body), request.upload_handlers, "utf-8").parse()
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise BadRequest(400, [("body", f"the multipart form cannot be read: {exc}")], _raw(body)) from None
    return [(name, value) for name, values in fields.lists() for value in values]


def goalert_dedup_key(summary: str, details: str) -> str:
    """GoAlert's default: calls with the same summary and details update the same alert."""
    text = f"{summary}\n{details}" if details else summary
    if len(text) <= DEDUP_KEY_MAX:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def parse_goalert(data: dict[str, Any], errors: Errors) -> Parsed:
    """GoAlert generic API: ``summary`` (required), ``details``, ``dedup``, ``action`` (``close`` resolves),
    ``meta`` (key/value pairs, kept in the alert's details)."""
    action = data.get("action") or ""
    if action not in ("", "close"):
        errors.append(("action", f"action must be close, or left out to raise an alert (got {action!r})"))
    summary = _text(
        data, "summary", errors, label="summary", limit=SUMMARY_MAX, required=not data.get("dedup")
    )
    details = _text(data, "details", errors, label="details", limit=GOALERT_DETAILS_MAX)
    dedup = _text(data, "dedup", errors, label="dedup", limit=DEDUP_KEY_MAX)
    meta = data.get("meta") or {}
    if len(meta) > GOALERT_META_MAX:
        errors.append(("meta", f"at most {GOALERT_META_MAX} meta keys (got {len(meta)})"))
    dedup_key = dedup or goalert_dedup_key(summary, details)
    fields: dict[str, Any] = {}
    if action != "close":
        extra = {"details": details} if details else {}
        fields = {
            "summary": summary,
            "severity": Severity.ERROR,
            "source": "",
            "details": {**extra, **({"meta": meta} if meta else {})},
            "links": [],
        }
    parsed = Parsed(answer={"status": "accepted", "dedup": dedup_key})
    if not errors:
        parsed.events.append(
            _event(
                action=Action.RESOLVE if action == "close" else Action.TRIGGER,
                dedup_key=dedup_key,
                fields=fields,
                payload=data,
            )
        )
    return parsed


WEBHOOK_SIGNATURE_HEADER = "X-Warroom-Signature"
WEBHOOK_TIMESTAMP_HEADER = "X-Warroom-Timestamp"


def webhook_signature_errors(request: HttpRequest, body: bytes, integration: Integration) -> Errors:
    """When the integration has a signing secret, the sender signs ``"<unix seconds>." + body`` with
    HMAC-SHA256 and sends ``X-Warroom-Timestamp: <unix seconds>`` and ``X-Warroom-Signature: sha256=<hex>``; the
    timestamp must be within 5 minutes of Warroom's clock (replays of old requests are refused)."""
    secret = integration.signing_secret
    if not secret:
        return []
    signature = request.headers.get(WEBHOOK_SIGNATURE_HEADER, "").strip()
    timestamp = request.headers.get(WEBHOOK_TIMESTAMP_HEADER, "").strip()
    if not signature or not timestamp:
        return [
            (
                "signature",
                f"this integration requires {WEBHOOK_SIGNATURE_HEADER} and {WEBHOOK_TIMESTAMP_HEADER}",
            )
        ]
    if as_id(timestamp) is None or len(timestamp) > 12:
        return [("signature", f"{WEBHOOK_TIMESTAMP_HEADER} must be Unix seconds")]
    if abs(clock.now().timestamp() - int(timestamp)) > REPLAY_WINDOW.total_seconds():
        return [("signature", f"{WEBHOOK_TIMESTAMP_HEADER} is more than 5 minutes off (a replay?)")]
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", errors="replace")):
        return [("signature", "the signature does not match the body")]
    return []


_SEVERITY_WORDS = {
    **{
        word: Severity.CRITICAL
        for word in ("critical", "crit", "fatal", "emergency", "page", "p1", "high", "disaster")
    },
    **{word: Severity.ERROR for word in ("error", "err", "major", "p2", "average")},
    **{word: Severity.WARNING for word in ("warning", "warn", "minor", "p3", "medium")},
    **{
        word: Severity.INFO
        for word in ("info", "information", "informational", "low", "p4", "p5", "ok", "debug")
    },
}
_ACTION_WORDS = {
    **{
        word: Action.TRIGGER
        for word in ("trigger", "triggered", "firing", "alerting", "problem", "open", "down", "fail")
    },
    **{word: Action.ACKNOWLEDGE for word in ("acknowledge", "acknowledged", "ack")},
    **{
        word: Action.RESOLVE
        for word in ("resolve", "resolved", "ok", "closed", "close", "recovery", "up", "normal")
    },
}


def lookup_path(data: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of a dotted path such as ``alert.labels.host`` or ``items.0.name`` in JSON data."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and (index := as_id(part)) is not None and index < len(value):
            value = value[index]
        else:
            return False, None
    return True, value


#: The generic webhook's fields that are text: a mapped number is taken as its text, anything else is refused.
_MAPPED_TEXT = frozenset({"summary", "dedup_key", "source", "group_key", "severity", "action"})


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def map_webhook_fields(integration: Integration, data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """The body in the generic webhook's own fields, read through the integration's field mapping (no mapping:
    the body as sent). Severity and action words from other tools are translated (``firing`` → trigger,
    ``high`` → critical, ...); an unknown word is refused naming the path. Unmapped fields are read from the
    body's top level as usual."""
    mapping: dict[str, str] = integration.field_mapping or {}
    if not mapping:
        return data
    result = {name: value for name, value in data.items() if name not in mapping}
    for name, path in mapping.items():
        found, value = lookup_path(data, path)
        if not found or value is None:
            continue
        if name in _MAPPED_TEXT:
            if isinstance(value, bool):
                value = "true" if value else "false"  # as JSON writes it, not Python's True
            elif isinstance(value, int | float):
                value = str(value)
            elif not isinstance(value, str):
                errors.append(
                    (path, f"{path}: {name} must be a string or a number (got {_json_type(value)})")
                )
                continue
        if name == "severity" and isinstance(value, str):
            word = _SEVERITY_WORDS.get(value.strip().lower())
            if word is None:
                errors.append(
                    (
                        path,
                        f"{path}: {value!r} is not a severity Warroom knows (critical, error, warning, info, ...)",
                    )
                )
                continue
            value = str(word)
        if name == "action" and isinstance(value, str):
            verb = _ACTION_WORDS.get(value.strip().lower())
            if verb is None:
                errors.append(
                    (
                        path,
                        f"{path}: {value!r} is not an action Warroom knows (trigger/firing, resolve/resolved/ok, acknowledge)",
                    )
                )
                continue
            value = str(verb)
        result[name] = value
    return result


Parser = Callable[[dict[str, Any], Errors], Parsed]
Mapper = Callable[[Integration, dict[str, Any], Errors], dict[str, Any]]
Verifier = Callable[[Integration], Errors]
View = Callable[..., HttpResponse]


# ---------------------------------------------------------------------------------------------------------------
# writing and answering


#: Rows written while this holds a list are appended to it instead, as (model, rows): the intake fast path
#: (:mod:`warroom.alerts.fastpath`) collects every request of a group commit and inserts them together.
Rows = list[tuple[type[models.Model], list[Any]]]
ROW_SINK: ContextVar[Rows | None] = ContextVar("intake_row_sink", default=None)


def write_rows(model: type[models.Model], rows: list[Any]) -> None:
    """Insert ``rows`` of ``model`` (or hand them to the group commit collecting them, see ``ROW_SINK``)."""
    sink = ROW_SINK.get()
    if sink is None:
        model._default_manager.bulk_create(rows)
        if wakes_engine(model, rows):
            wake.soon(PROCESS)
    else:
        sink.append((model, rows))


def wakes_engine(model: type[models.Model], rows: list[Any]) -> bool:
    """Whether storing ``rows`` of ``model`` gives the engine work: an event still to process. Rejected and
    ignored events are logged already decided, so a sender whose every event is refused does not wake it."""
    return model is IntakeEvent and any(row.status == EventStatus.PENDING for row in rows)


def _log_rejected(key: IntegrationKey, payload: dict[str, Any], errors: Errors, status: int) -> None:
    reason = (f"HTTP {status}: " + "; ".join(message for _, message in errors)).replace("\x00", "")
    row = IntakeEvent(
        integration=key.integration,
        key=key,
        received_at=clock.now(),
        payload=capped_payload(payload),
        status=EventStatus.REJECTED,
        reason=reason[:4000],
    )
    write_rows(IntakeEvent, [row])


def capped_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Raw payloads are kept up to ``PAYLOAD_KEEP`` bytes of JSON; a bigger one is kept as its first bytes."""
    dumped = jsontext.text_of(payload)
    if len(dumped) <= PAYLOAD_KEEP:
        return payload
    return {"_truncated": True, "_size": len(dumped), "raw": dumped[:PAYLOAD_KEEP]}


def _store(key: IntegrationKey, events: list[IntakeEvent]) -> None:
    now = clock.now()
    changes = []
    for event in events:
        event.integration = key.integration
        event.key = key
        event.received_at = now
        event.payload = capped_payload(event.payload)
        if event.status == EventStatus.PROCESSED:
            event.processed_at = now
        if event.action == Action.CHANGE:
            changes.append(_change(key.integration, event, now))
    write_rows(IntakeEvent, events)
    if changes:
        write_rows(ChangeEvent, changes)


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime (no offset: UTC), or None."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 → +00:00, as PagerDuty's examples write it
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:59-12:00 is past the last UTC date
        return None


def _change(integration: Integration, event: IntakeEvent, now: datetime) -> ChangeEvent:
    """A change event goes on the service's timeline (never pages)."""
    fields = event.fields
    happened = parse_timestamp(fields.get("timestamp") or "")
    return ChangeEvent(
        service_id=integration.service_id,
        integration=integration,
        summary=fields.get("summary", ""),
        source=fields.get("source", ""),
        links=fields.get("links", []),
        details=fields.get("details", {}),
        happened_at=happened if isinstance(happened, datetime) else now,
        received_at=now,
    )


@dataclass
class Outcome:
    status: int
    errors: Errors = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)
    retry_after: int = 0


def _accept(
    key: IntegrationKey,
    kind: str,
    data: dict[str, Any],
    parser: Parser,
    key_field: str,
    *,
    invalid: int = 400,
    mapper: Mapper | None = None,
) -> Outcome:
    """Inside the request's transaction (the signature is checked before): check the key's kind, parse (after
    ``mapper`` translated the body, for a generic webhook with a field mapping), store the events or log the
    refusal (``invalid`` is the status for invalid fields: Opsgenie answers 422)."""
    if key.integration.kind != kind:
        wrong = [
            (key_field, f"this key belongs to {_article(key.integration.get_kind_display())} integration")
        ]
        _log_rejected(key, data, wrong, 400)
        return Outcome(400, wrong)
    errors: Errors = []
    if mapper is not None:
        data = mapper(key.integration, data, errors)
        if errors:
            _log_rejected(key, data, errors, invalid)
            return Outcome(invalid, errors)
    parsed = parser(data, errors)
    if errors:
        _log_rejected(key, data, errors, invalid)
        return Outcome(invalid, errors)
    _store(key, parsed.events)
    return Outcome(202, answer=parsed.answer)


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _intake(
    secret: str,
    kind: str,
    data: dict[str, Any] | BadRequest,
    parser: Parser,
    key_field: str,
    *,
    verify: Verifier | None = None,
    invalid: int = 400,
    mapper: Mapper | None = None,
) -> Outcome:
    """Authenticate and store one request in one transaction; the outcome is returned after the commit.

    Everything after the key look-up is ``decide``; the ``COMMITTER`` in charge runs it: this request's own
    transaction (``commit_here``), or the intake fast path's group commit, which looks the key up and runs
    ``decide`` inside a transaction shared with concurrent requests (:mod:`warroom.alerts.fastpath`)."""

    def decide(key: IntegrationKey) -> Outcome:
        # The signature first: a sender without the secret learns nothing about the body it sent and takes none
        # of the key's rate from the real sender. (A 413 or 415 body was never read, so there is nothing to check
        # a signature against; those keep their own answer.)
        signed = isinstance(data, dict) or data.status == 400
        if verify is not None and signed and key.integration.kind == kind:
            errors = verify(key.integration)
            if errors:
                _log_rejected(key, data if isinstance(data, dict) else {"raw": data.raw}, errors, 401)
                return Outcome(401, errors)
        limited = _rate_limited(key, data)
        if limited is not None:
            return limited
        if isinstance(data, BadRequest):
            _log_rejected(key, {"raw": data.raw}, data.errors, data.status)
            return Outcome(data.status, data.errors)
        return _accept(key, kind, data, parser, key_field, invalid=invalid, mapper=mapper)

    return COMMITTER.get()(secret, key_field, decide)


Decide = Callable[[IntegrationKey], Outcome]
Committer = Callable[[str, str, Decide], Outcome]


def unknown_key(key_field: str) -> Outcome:
    return Outcome(404, [(key_field, f"{key_field} is not an active integration key")])


def commit_here(secret: str, key_field: str, decide: Decide) -> Outcome:
    """Authenticate ``secret`` and run ``decide`` in one transaction of this thread's own connection."""
    with transaction.atomic():
        key = authenticate_key(secret)
        if key is None:
            return unknown_key(key_field)
        return decide(key)


COMMITTER: ContextVar[Committer] = ContextVar("intake_committer", default=commit_here)


def _rate_limited(key: IntegrationKey, data: dict[str, Any] | BadRequest) -> Outcome | None:
    """429 with ``Retry-After`` when the key is over its integration's rate; the first refusal of a streak is
    logged in the event log (not every one, so a runaway sender costs no writes)."""
    rate = key.integration.rate_limit_per_minute
    wait, first = LIMITER.take(key.pk, rate)
    if not wait:
        return None
    errors = [("key", f"over this key's rate of {rate} requests per minute; retry after {wait} s")]
    if first:
        payload = {"raw": data.raw} if isinstance(data, BadRequest) else data
        note = [*errors, ("key", "further refusals until the rate recovers are not logged one by one")]
        _log_rejected(key, payload, note, 429)
    return Outcome(429, errors, retry_after=wait)


def redacted(path: str) -> str:
    """``path`` with a key in it replaced by ``…``."""
    return _PATH_KEY.sub(r"\1…", path)


def _quiet(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Keep keys out of the logs: mark the response logged and log it with any path key redacted."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    if response.status_code >= 400:
        log.info("intake %s %s -> %d", request.method, redacted(request.path), response.status_code)
    return response


def json_response(data: dict[str, Any], status: int) -> HttpResponse:
    """``data`` as JSON with ``status``: the body and headers ``JsonResponse`` gives, at a fraction of its cost
    (the default encoder, no look-up of the charset in the settings). Every intake request ends here, so in a
    storm ``JsonResponse`` was a tenth of the web process's Python time (measured)."""
    return HttpResponse(
        json.dumps(data).encode(), content_type="application/json", charset="utf-8", status=status
    )


def _pd_answer(outcome: Outcome) -> HttpResponse:
    if outcome.status == 202:
        return json_response(outcome.answer, status=202)
    if outcome.status == 429:
        throttled = {
            "status": "throttle event",
            "message": "Requests for this service are arriving too quickly. Please retry later.",
            "errors": [message for _, message in outcome.errors],
        }
        return _with_retry(json_response(throttled, status=429), outcome)
    return json_response(
        {
            "status": "invalid event" if outcome.status == 400 else "error",
            "message": "Event object is invalid" if outcome.status == 400 else _STATUS_TEXT[outcome.status],
            "errors": [message for _, message in outcome.errors],
        },
        status=outcome.status,
    )


def _with_retry(response: HttpResponse, outcome: Outcome) -> HttpResponse:
    if outcome.retry_after:
        response["Retry-After"] = str(outcome.retry_after)
    return response


_STATUS_TEXT = {
    400: "Bad request",
    401: "Missing integration key or bad signature",
    404: "Unknown or revoked integration key",
    413: "Request entity too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
}


def _json_answer(outcome: Outcome) -> HttpResponse:
    if outcome.status == 202:
        return json_response(outcome.answer, status=202)
    body = {
        "detail": outcome.errors[0][1] if len(outcome.errors) == 1 else _STATUS_TEXT[outcome.status],
        "code": {
            400: "invalid",
            401: "unauthenticated",
            404: "not_found",
            413: "too_large",
            415: "unsupported",
            429: "rate_limited",
        }[outcome.status],
        "errors": [{"field": name, "message": message} for name, message in outcome.errors],
    }
    response = _with_retry(json_response(body, status=outcome.status), outcome)
    if outcome.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="warroom-intake"'
    return response


def _pd_view(parser: Parser, request: HttpRequest) -> HttpResponse:
    try:
        data = read_json(request)
    except BadRequest as exc:
        return _pd_answer(Outcome(exc.status, exc.errors))
    secret = data.get("routing_key")
    if not isinstance(secret, str) or not secret:
        errors: Errors = [("routing_key", "routing_key is required (a string)")]
        parser(data, errors)
        return _pd_answer(Outcome(400, errors))
    return _pd_answer(_intake(secret, Kind.PAGERDUTY, data, parser, "routing_key"))


def intake_view(view: View) -> View:
    """POST only, no CSRF (senders are machines with keys), no request-wide transaction, and every answer,
    405 included, kept out of Django's request log (which would print a key in the path).

    The intake fast path (:mod:`warroom.alerts.fastpath`) calls these views without Django's handler and with a
    group commit: a view must reach the database only through ``_intake`` (its ``decide`` and ``write_rows``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            refused = HttpResponseNotAllowed(["POST"], content_type="application/json")
            refused.content = json.dumps(
                {
                    "detail": f"{request.method} is not allowed here: send the event with POST",
                    "code": "method",
                }
            ).encode()
            return _quiet(request, refused)
        return _quiet(request, view(request, *args, **kwargs))

    wrapped.intake_fast_path = True  # type: ignore[attr-defined]  # served by warroom.alerts.fastpath too
    return csrf_exempt(transaction.non_atomic_requests(wrapped))


@csrf_exempt
def no_endpoint(request: HttpRequest) -> HttpResponse:
    """Any other path under ``/v2/`` and ``/integrations/``: a sender's typo or trailing slash gets JSON that
    says so (the path redacted: it may hold a key), not the console's HTML page."""
    path = redacted(request.path)
    answer = json_response(
        {
            "detail": f"no intake endpoint at {path} (no trailing slash; see docs/integrations/)",
            "code": "not_found",
        },
        status=404,
    )
    answer._has_been_logged = True  # type: ignore[attr-defined]  # logged once, below, by us
    log.info("intake %s %s -> 404", request.method, path)
    return answer


@intake_view
def pagerduty_enqueue(request: HttpRequest) -> HttpResponse:
    """``POST /v2/enqueue``: PagerDuty Events API v2, key in ``routing_key``."""
    return _pd_view(parse_pagerduty, request)


@intake_view
def pagerduty_change(request: HttpRequest) -> HttpResponse:
    """``POST /v2/change/enqueue``: PagerDuty change events, recorded and never paging."""
    return _pd_view(parse_pagerduty_change, request)


def _keyed_view(
    kind: str,
    parser: Parser,
    request: HttpRequest,
    key: str | None,
    *,
    verify: Callable[[HttpRequest, bytes, Integration], Errors] | None = None,
    mapper: Mapper | None = None,
) -> HttpResponse:
    secret = key or bearer_key(request)
    body = b""
    try:
        body = read_body(request)
        data: dict[str, Any] | BadRequest = parse_json(body)
    except BadRequest as exc:
        data = exc
    if not secret:
        outcome = Outcome(
            401, [("authorization", "send the key as Authorization: Bearer <key> or in the path")]
        )
    else:
        check = functools.partial(verify, request, body) if verify is not None else None
        outcome = _intake(secret, kind, data, parser, "key", verify=check, mapper=mapper)
    return _json_answer(outcome)


@intake_view
def alertmanager(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``POST /integrations/alertmanager[/<key>]``: Alertmanager webhook payload version 4."""
    return _keyed_view(Kind.ALERTMANAGER, parse_alertmanager, request, key)


@intake_view
def webhook(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``POST /integrations/webhook[/<key>]``: the generic JSON webhook."""
    return _keyed_view(
        Kind.WEBHOOK, parse_webhook, request, key, verify=webhook_signature_errors, mapper=map_webhook_fields
    )


@intake_view
def grafana(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``POST /integrations/grafana[/<key>]``: Grafana alerting webhook version 1, optionally HMAC-signed."""
    return _keyed_view(Kind.GRAFANA, parse_grafana, request, key, verify=grafana_signature_errors)


# ---------------------------------------------------------------------------------------------------------------
# Opsgenie Alert API (drop-in): ``Authorization: GenieKey <key>``, answers in Opsgenie's shape


def _opsgenie_response(outcome: Outcome, request_id: str) -> HttpResponse:
    if outcome.status == 202:
        return json_response(outcome.answer, status=202)
    message = "; ".join(message for _, message in outcome.errors) or _STATUS_TEXT[outcome.status]
    response = json_response(
        {"message": message, "took": 0.0, "requestId": request_id}, status=outcome.status
    )
    _with_retry(response, outcome)
    if outcome.status == 401:
        response["WWW-Authenticate"] = 'GenieKey realm="warroom-intake"'
    return response


def _opsgenie_view(
    request: HttpRequest, parser: Parser, request_id: str, *, optional_body: bool
) -> HttpResponse:
    secret = header_key(request, "GenieKey")
    data: dict[str, Any] | BadRequest
    if optional_body and not has_body(request):
        data = {}
    else:
        try:
            data = read_json(request)
        except BadRequest as exc:
            data = exc
    if not secret:
        outcome = Outcome(401, [("authorization", "send the key as Authorization: GenieKey <key>")])
    else:
        outcome = _intake(secret, Kind.OPSGENIE, data, parser, "GenieKey", invalid=422)
    return _opsgenie_response(outcome, request_id)


@intake_view
def opsgenie_create(request: HttpRequest) -> HttpResponse:
    """``POST /v2/alerts``: Opsgenie create alert; ``alias`` deduplicates."""
    request_id = str(uuid.uuid4())
    parser = functools.partial(parse_opsgenie_create, request_id)
    return _opsgenie_view(request, parser, request_id, optional_body=False)


def _opsgenie_follow_up(request: HttpRequest, identifier: str, action: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    identifier_type = request.GET.get("identifierType", "id")
    parser = functools.partial(parse_opsgenie_follow_up, action, identifier, identifier_type, request_id)
    return _opsgenie_view(request, parser, request_id, optional_body=True)


@intake_view
def opsgenie_close(request: HttpRequest, identifier: str) -> HttpResponse:
    """``POST /v2/alerts/{identifier}/close?identifierType=alias``: resolves the open alert with that alias."""
    return _opsgenie_follow_up(request, identifier, Action.RESOLVE)


@intake_view
def opsgenie_acknowledge(request: HttpRequest, identifier: str) -> HttpResponse:
    """``POST /v2/alerts/{identifier}/acknowledge?identifierType=alias``: acknowledges it."""
    return _opsgenie_follow_up(request, identifier, Action.ACKNOWLEDGE)


# ---------------------------------------------------------------------------------------------------------------
# GoAlert's generic API (drop-in)


@intake_view
def goalert_generic(request: HttpRequest) -> HttpResponse:
    """``POST /api/v2/generic/incoming?token=<key>``: GoAlert's generic API. As GoAlert: 204 without a body, or,
    with ``Accept: application/json``, a JSON answer (202: the alert is made by the engine a moment later, so it
    names the dedup key, not an alert id)."""
    data: dict[str, Any] | BadRequest
    try:
        data = read_goalert(request)
        secret = data.pop("token", "")
    except BadRequest as exc:
        data, secret = exc, request.GET.get("token", "")
    if not isinstance(secret, str) or not secret:
        outcome = Outcome(401, [("token", "send the key as token=<key> in the query string or the body")])
    else:
        outcome = _intake(secret, Kind.GOALERT, data, parse_goalert, "token")
    if outcome.status == 202 and "application/json" not in request.headers.get("Accept", ""):
        return HttpResponse(status=204)
    return _json_answer(outcome)
