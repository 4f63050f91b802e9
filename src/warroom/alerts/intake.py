"""The intake endpoints: validate, insert the raw event(s), commit, answer. Nothing else happens here: the
``alerts.process`` engine module deduplicates and groups.

Answers (documented in ``docs/integrations/``):

* 202 only after the event rows have committed;
* 400 invalid body (naming the field), 413 over 512 KB, 415 not ``application/json``;
* 401 no key at all; 404 a key that is unknown or revoked (the same answer for both, so nothing is revealed
  about which keys exist). PagerDuty-style endpoints answer in PagerDuty's body shape.

When the key is known, a refused request is kept in the integration's event log as ``rejected`` with the reason.
Keys that travel in the path are never written to the log: Django's own request logging is switched off for
these responses and replaced by a line with the key redacted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from warroom.alerts.models import (
    DEDUP_KEY_MAX,
    SUMMARY_MAX,
    Action,
    EventStatus,
    IntakeEvent,
    IntegrationKey,
    Kind,
    Severity,
)
from warroom.alerts.services import authenticate_key
from warroom.lib import clock

log = logging.getLogger("warroom.alerts.intake")

MAX_BODY = 512 * 1024
RAW_KEEP = 4096
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, or :class:`BadRequest` (413, 415 or 400)."""
    content_type = (request.content_type or "").strip().lower()
    if not _JSON_TYPE.match(content_type):
        raise BadRequest(
            415, [("content-type", f"Content-Type must be application/json (got {content_type!r})")]
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        raise BadRequest(413, [("body", f"the body is larger than {MAX_BODY // 1024} KB")])
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise BadRequest(413, [("body", f"the body is larger than {MAX_BODY // 1024} KB")])
    raw = body[:RAW_KEEP].decode("utf-8", errors="replace").replace("\x00", "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, [("body", f"the body is not valid UTF-8 (byte {exc.start})")], raw) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(400, [("body", f"the body is not valid JSON: {exc}")], raw) from None
    if not isinstance(data, dict):
        raise BadRequest(400, [("body", "the body must be a JSON object")], raw)
    dumped = json.dumps(data, ensure_ascii=False)
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(
            400, [("body", "the body contains an unpaired UTF-16 surrogate escape")], raw
        ) from None
    if "\\u0000" in dumped:
        raise BadRequest(400, [("body", "the body contains a NUL character (\\u0000)")], raw)
    return data


def bearer_key(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


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
        links.append({"href": href[:2048], "text": text[:1024]})
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
        if severity not in _SEVERITIES:
            errors.append(
                ("payload.severity", "payload.severity must be one of critical, error, warning, info")
            )
        for name in ("timestamp", "component", "group", "class"):
            _text(payload, name, errors, label=f"payload.{name}", limit=SUMMARY_MAX)
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
    links = _links(data.get("links"), errors)
    parsed = Parsed(answer={"status": "success", "message": "Change event processed"})
    if not errors:
        parsed.events.append(
            _event(
                action=Action.CHANGE,
                dedup_key="",
                fields={"summary": summary, "source": source, "links": links},
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


def _am_alert(alert: Any, index: int, group: dict[str, Any], errors: Errors) -> IntakeEvent | None:
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
    for name in ("startsAt", "endsAt", "generatorURL"):
        _text(alert, name, errors, label=f"{label}.{name}", limit=2048)
    if errors:
        return None
    note = annotations.get("summary") or annotations.get("description") or labels.get("alertname")
    summary = note if isinstance(note, str) and note.strip() else f"Alertmanager alert {fingerprint}"
    external = group.get("externalURL") if isinstance(group.get("externalURL"), str) else ""
    source = labels.get("instance") or labels.get("job") or external or "alertmanager"
    links = []
    if isinstance(alert.get("generatorURL"), str) and alert["generatorURL"]:
        links.append({"href": alert["generatorURL"], "text": "Source"})
    if external:
        links.append({"href": external, "text": "Alertmanager"})
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
        payload={"alert": alert, "group": group},
    )


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
    events = [_am_alert(alert, index, group, errors) for index, alert in enumerate(alerts)]
    if errors:
        return Parsed()
    found = [event for event in events if event is not None]
    return Parsed(events=found, answer={"status": "success", "events": len(found)})


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
        if severity not in _SEVERITIES:
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


Parser = Callable[[dict[str, Any], Errors], Parsed]
View = Callable[..., HttpResponse]


# ---------------------------------------------------------------------------------------------------------------
# writing and answering


def _log_rejected(key: IntegrationKey, payload: dict[str, Any], errors: Errors, status: int) -> None:
    reason = f"HTTP {status}: " + "; ".join(message for _, message in errors)
    IntakeEvent.objects.create(
        integration=key.integration,
        key=key,
        received_at=clock.now(),
        payload=payload,
        status=EventStatus.REJECTED,
        reason=reason[:4000],
    )


def _store(key: IntegrationKey, events: list[IntakeEvent]) -> None:
    now = clock.now()
    for event in events:
        event.integration = key.integration
        event.key = key
        event.received_at = now
        if event.status == EventStatus.PROCESSED:
            event.processed_at = now
    IntakeEvent.objects.bulk_create(events)


@dataclass
class Outcome:
    status: int
    errors: Errors = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)


def _accept(key: IntegrationKey, kind: str, data: dict[str, Any], parser: Parser, key_field: str) -> Outcome:
    """Inside the request's transaction: check the key's kind, parse, store the events or log the refusal."""
    if key.integration.kind != kind:
        errors = [(key_field, f"this key belongs to a {key.integration.get_kind_display()} integration")]
        _log_rejected(key, data, errors, 400)
        return Outcome(400, errors)
    errors = []
    parsed = parser(data, errors)
    if errors:
        _log_rejected(key, data, errors, 400)
        return Outcome(400, errors)
    _store(key, parsed.events)
    return Outcome(202, answer=parsed.answer)


def _intake(
    secret: str, kind: str, data: dict[str, Any] | BadRequest, parser: Parser, key_field: str
) -> Outcome:
    """Authenticate and store one request in one transaction; the outcome is returned after the commit."""
    with transaction.atomic():
        key = authenticate_key(secret)
        if key is None:
            return Outcome(404, [(key_field, f"{key_field} is not an active integration key")])
        if isinstance(data, BadRequest):
            _log_rejected(key, {"raw": data.raw}, data.errors, data.status)
            return Outcome(data.status, data.errors)
        outcome = _accept(key, kind, data, parser, key_field)
    return outcome


def redacted(path: str) -> str:
    """``path`` with a key in it replaced by ``…``."""
    return _PATH_KEY.sub(r"\1…", path)


def _quiet(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Keep keys out of the logs: mark the response logged and log it with any path key redacted."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    if response.status_code >= 400:
        log.info("intake %s %s -> %d", request.method, redacted(request.path), response.status_code)
    return response


def _pd_answer(outcome: Outcome) -> JsonResponse:
    if outcome.status == 202:
        return JsonResponse(outcome.answer, status=202)
    return JsonResponse(
        {
            "status": "invalid event" if outcome.status == 400 else "error",
            "message": "Event object is invalid" if outcome.status == 400 else _STATUS_TEXT[outcome.status],
            "errors": [message for _, message in outcome.errors],
        },
        status=outcome.status,
    )


_STATUS_TEXT = {
    400: "Bad request",
    401: "Missing integration key",
    404: "Unknown or revoked integration key",
    413: "Request entity too large",
    415: "Unsupported media type",
}


def _json_answer(outcome: Outcome) -> JsonResponse:
    if outcome.status == 202:
        return JsonResponse(outcome.answer, status=202)
    body = {
        "detail": outcome.errors[0][1] if len(outcome.errors) == 1 else _STATUS_TEXT[outcome.status],
        "code": {400: "invalid", 401: "unauthorized", 404: "not_found", 413: "too_large", 415: "unsupported"}[
            outcome.status
        ],
        "errors": [{"field": name, "message": message} for name, message in outcome.errors],
    }
    response = JsonResponse(body, status=outcome.status)
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
    405 included, kept out of Django's request log (which would print a key in the path)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return _quiet(request, HttpResponseNotAllowed(["POST"]))
        return _quiet(request, view(request, *args, **kwargs))

    return csrf_exempt(transaction.non_atomic_requests(wrapped))


@intake_view
def pagerduty_enqueue(request: HttpRequest) -> HttpResponse:
    """``POST /v2/enqueue``: PagerDuty Events API v2, key in ``routing_key``."""
    return _pd_view(parse_pagerduty, request)


@intake_view
def pagerduty_change(request: HttpRequest) -> HttpResponse:
    """``POST /v2/change/enqueue``: PagerDuty change events, recorded and never paging."""
    return _pd_view(parse_pagerduty_change, request)


def _keyed_view(kind: str, parser: Parser, request: HttpRequest, key: str | None) -> HttpResponse:
    secret = key or bearer_key(request)
    try:
        data: dict[str, Any] | BadRequest = read_json(request)
    except BadRequest as exc:
        data = exc
    if not secret:
        outcome = Outcome(
            401, [("authorization", "send the key as Authorization: Bearer <key> or in the path")]
        )
    else:
        outcome = _intake(secret, kind, data, parser, "key")
    return _json_answer(outcome)


@intake_view
def alertmanager(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``POST /integrations/alertmanager[/<key>]``: Alertmanager webhook payload version 4."""
    return _keyed_view(Kind.ALERTMANAGER, parse_alertmanager, request, key)


@intake_view
def webhook(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``POST /integrations/webhook[/<key>]``: the generic JSON webhook."""
    return _keyed_view(Kind.WEBHOOK, parse_webhook, request, key)
