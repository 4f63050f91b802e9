"""Heartbeats: a job pings its URL at least every ``interval``; when ``interval + grace`` pass without a ping,
the engine module ``alerts.heartbeats`` raises an alert through the monitor's integration, and the next ping
resolves it. A job can also report failure at once with ``/fail``.

Endpoints (``GET``, ``POST`` or ``HEAD``; no CSRF, senders are machines with keys; answers are plain text):

* ``/integrations/heartbeat/<key>`` or ``/integrations/heartbeat`` with ``Authorization: Bearer <key>``: a ping.
* ``/integrations/heartbeat/<key>/fail`` or ``/integrations/heartbeat/fail`` with the header: a failure. The
  first 4 KB of a POST body (the job's output) are kept in the alert's details.

Answers: 200 ``OK`` only after the ping has committed; 401 no key; 404 an unknown or revoked key (one answer for
both); 400 a key of another kind of integration (kept in its event log as rejected); 405 another method.

States of a monitor (:class:`~warroom.alerts.models.HeartbeatState`):

* ``new``: never pinged. It never alerts: a monitor created before its job is deployed stays quiet until the
  job's first ping.
* ``up``: pinged; ``due_at`` = last ping + interval + grace. When ``due_at <= now`` the engine marks it ``down``
  and stores a trigger event.
* ``down``: missed, or the job reported failure. A ping stores a resolve event and moves it ``up``.

Every state change and the intake event that follows from it commit together, in one transaction, under the
monitor's row lock; the events go through ``alerts.process`` (dedup key ``heartbeat``) like any other intake,
so dedup, grouping, maintenance windows and incident auto-resolve apply unchanged. Plain pings of an ``up``
monitor write no event (only the monitor row), so a job pinging every minute does not fill the event log.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from warroom.alerts.intake import PROCESS, bearer_key
from warroom.alerts.models import (
    SUMMARY_MAX,
    Action,
    EventStatus,
    HeartbeatMonitor,
    HeartbeatState,
    IntakeEvent,
    Integration,
    IntegrationKey,
    Kind,
    Severity,
)
from warroom.alerts.services import authenticate_key
from warroom.engine import registry, wake
from warroom.lib import clock

log = logging.getLogger("warroom.alerts.heartbeat")

#: The dedup key of every heartbeat alert: one open alert per monitor (its integration).
DEDUP_KEY = "heartbeat"
#: The severity of a missed or failed heartbeat (impact/urgency follow the integration's ``severity_map``).
SEVERITY = Severity.ERROR
SOURCE = "heartbeat"
OUTPUT_KEEP = 4096
USER_AGENT_KEEP = 255
BATCH = 200
MAX_BATCHES = 50
METHODS = ("GET", "HEAD", "POST")
_PATH_KEY = re.compile(r"^(/integrations/heartbeat/)(?!fail(?:/|$))[^/]+")

View = Callable[..., HttpResponse]


# ---------------------------------------------------------------------------------------------------------------
# the engine module


@registry.module("alerts.heartbeats", order=5)
def heartbeats(now: datetime) -> int:
    """Mark every ``up`` monitor whose ``due_at`` has passed ``down`` and store its trigger event, in batches
    (before ``alerts.process``, so the alert opens in the same cycle); returns how many were raised."""
    total = 0
    for _ in range(MAX_BATCHES):
        raised = raise_missed(now, limit=BATCH)
        total += raised
        if raised < BATCH:
            break
    return total


def raise_missed(now: datetime, *, limit: int) -> int:
    """One batch in one transaction: lock up to ``limit`` due monitors ``FOR UPDATE SKIP LOCKED`` (a monitor
    another engine or a ping holds is left to them), move each ``up`` → ``down`` with a compare-and-set, and
    insert one trigger event per monitor moved. A crash before commit leaves them ``up`` and due: redone next
    cycle. Returns how many were raised."""
    with transaction.atomic():
        monitors = list(
            HeartbeatMonitor.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("integration")
            .filter(state=HeartbeatState.UP, due_at__lte=now)
            .order_by("due_at", "id")[:limit]
        )
        events = [
            _missed_event(monitor, now)
            for monitor in monitors
            if HeartbeatMonitor.objects.filter(
                pk=monitor.pk, state=HeartbeatState.UP, due_at__lte=now
            ).update(state=HeartbeatState.DOWN)
        ]
        IntakeEvent.objects.bulk_create(events)
    for event in events:
        log.info("heartbeat of integration %s missed: alert raised", event.integration_id)
    return len(events)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "never"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _monitor_facts(monitor: HeartbeatMonitor) -> dict[str, Any]:
    return {
        "interval_seconds": monitor.interval_seconds,
        "grace_seconds": monitor.grace_seconds,
        "last_ping_at": _iso(monitor.last_ping_at),
        "due_at": _iso(monitor.due_at),
    }


def _missed_event(monitor: HeartbeatMonitor, now: datetime) -> IntakeEvent:
    integration = monitor.integration
    summary = (
        f"Heartbeat {integration.name} missed: no ping since {_when(monitor.last_ping_at)} "
        f"(expected every {monitor.interval_seconds} s + grace {monitor.grace_seconds} s)"
    )
    facts = _monitor_facts(monitor)
    return IntakeEvent(
        integration=integration,
        key=None,
        received_at=now,
        action=Action.TRIGGER,
        dedup_key=DEDUP_KEY,
        fields={
            "summary": summary[:SUMMARY_MAX],
            "severity": SEVERITY,
            "source": SOURCE,
            "details": {"heartbeat": "missed", **facts},
            "links": [],
        },
        payload={"heartbeat": "missed", **facts},
        status=EventStatus.PENDING,
    )


# ---------------------------------------------------------------------------------------------------------------
# pings


@dataclass(frozen=True)
class Ping:
    """What one request says: a ping or a failure, with what is kept of it."""

    failed: bool
    method: str
    user_agent: str = ""
    output: str = ""

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"heartbeat": "fail" if self.failed else "ping", "method": self.method}
        if self.user_agent:
            payload["user_agent"] = self.user_agent
        if self.output:
            payload["output"] = self.output
        return payload


def receive(secret: str, ping: Ping) -> tuple[int, str]:
    """Authenticate ``secret`` and apply ``ping`` to its monitor in one transaction; returns (status, text)
    after the commit."""
    with transaction.atomic():
        key = authenticate_key(secret)
        if key is None:
            return 404, "unknown or revoked key"
        integration = key.integration
        if integration.kind != Kind.HEARTBEAT:
            message = f"this key belongs to a {integration.get_kind_display()} integration, not a heartbeat"
            _reject(key, ping, message)
            return 400, message
        monitor = HeartbeatMonitor.objects.select_for_update().filter(integration=integration).first()
        if monitor is None:
            message = "this heartbeat integration has no monitor"
            _reject(key, ping, message)
            return 400, message
        apply_ping(monitor=monitor, key=key, ping=ping, now=clock.now())
    return 200, "OK"


def apply_ping(*, monitor: HeartbeatMonitor, key: IntegrationKey | None, ping: Ping, now: datetime) -> None:
    """Inside the caller's transaction, with ``monitor`` locked: record the ping and store the event its state
    change calls for. A ping moves the monitor ``up`` (a resolve event if it was ``down``); a failure moves it
    ``down`` with a trigger event (again each time: repeats add to the open alert)."""
    was = monitor.state
    due = now + timedelta(seconds=monitor.interval_seconds + monitor.grace_seconds)
    state = HeartbeatState.DOWN if ping.failed else HeartbeatState.UP
    HeartbeatMonitor.objects.filter(pk=monitor.pk).update(state=state, last_ping_at=now, due_at=due)
    integration = monitor.integration
    if ping.failed:
        event = _event(key, integration, now, Action.TRIGGER, ping)
        summary = f"Heartbeat {integration.name} failed: the job reported failure"
        first_line = ping.output.strip().splitlines()[0].strip() if ping.output.strip() else ""
        if first_line:
            summary += f": {first_line[:300]}"
        details: dict[str, Any] = {"heartbeat": "fail", **_monitor_facts(monitor)}
        if ping.output:
            details["output"] = ping.output
        event.fields = {
            "summary": summary[:SUMMARY_MAX],
            "severity": SEVERITY,
            "source": SOURCE,
            "details": details,
            "links": [],
        }
        event.save()
        wake.soon(PROCESS)
        log.info("heartbeat of integration %s reported failure: alert raised", integration.pk)
    elif was == HeartbeatState.DOWN:
        _event(key, integration, now, Action.RESOLVE, ping).save()
        wake.soon(PROCESS)
        log.info("heartbeat of integration %s is back: alert resolved", integration.pk)


def _event(
    key: IntegrationKey | None, integration: Integration, now: datetime, action: str, ping: Ping
) -> IntakeEvent:
    return IntakeEvent(
        integration=integration,
        key=key,
        received_at=now,
        action=action,
        dedup_key=DEDUP_KEY,
        payload=ping.payload(),
        status=EventStatus.PENDING,
    )


def _reject(key: IntegrationKey, ping: Ping, message: str) -> None:
    IntakeEvent.objects.create(
        integration=key.integration,
        key=key,
        received_at=clock.now(),
        payload=ping.payload(),
        status=EventStatus.REJECTED,
        reason=f"HTTP 400: {message}"[:4000],
    )


# ---------------------------------------------------------------------------------------------------------------
# the views


def redacted(path: str) -> str:
    """``path`` with the key replaced by ``…`` (``/fail`` is kept)."""
    return _PATH_KEY.sub(r"\1…", path)


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(text if status == 200 else text + "\n", status=status, content_type="text/plain")


def _quiet(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Keep keys out of the logs: mark the response logged and log refusals with the key redacted."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    if response.status_code >= 400:
        log.info("heartbeat %s %s -> %d", request.method, redacted(request.path), response.status_code)
    return response


def heartbeat_view(view: View) -> View:
    """GET, POST or HEAD; no CSRF; no request-wide transaction; every answer kept out of Django's request log."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in METHODS:
            return _quiet(request, HttpResponseNotAllowed(METHODS))
        return _quiet(request, view(request, *args, **kwargs))

    return csrf_exempt(transaction.non_atomic_requests(wrapped))


def _output(request: HttpRequest) -> str:
    """The first ``OUTPUT_KEEP`` bytes of a POST body as text (NULs dropped: PostgreSQL JSON cannot hold them)."""
    if request.method != "POST":
        return ""
    try:
        raw = request.read(OUTPUT_KEEP)
    except RawPostDataException:  # something already read the body
        raw = request.body[:OUTPUT_KEEP]
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


def _handle(request: HttpRequest, key: str | None, *, failed: bool) -> HttpResponse:
    secret = key or bearer_key(request)
    if not secret:
        return _text(
            401, "send the key in the path (/integrations/heartbeat/<key>) or as Authorization: Bearer"
        )
    ping = Ping(
        failed=failed,
        method=str(request.method),
        user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_KEEP],
        output=_output(request) if failed else "",
    )
    status, text = receive(secret, ping)
    return _text(status, text)


@heartbeat_view
def heartbeat_ping(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``GET|POST|HEAD /integrations/heartbeat[/<key>]``: the job is alive."""
    return _handle(request, key, failed=False)


@heartbeat_view
def heartbeat_fail(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """``GET|POST|HEAD /integrations/heartbeat[/<key>]/fail``: the job failed; raises the alert at once."""
    return _handle(request, key, failed=True)
