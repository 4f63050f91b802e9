"""``/metrics``: the state of the paging path in the Prometheus text format, read from the database on each scrape.

Every figure comes from rows (the engine keeps its state in rows, so any web process can report it): the engine's
:class:`~warroom.engine.models.ModuleState`, active escalations, the notification outbox and pending intake events.
Nothing is kept in process memory, so N web processes behind a load balancer all answer the same.

Access: when ``WARROOM_METRICS_TOKEN`` is set, a request must carry ``Authorization: Bearer <token>`` (from any
address); when it is not set, only direct loopback callers (127.0.0.1, ::1, with no ``X-Forwarded-For``, which a
reverse proxy on the same host adds) are answered. Anyone else gets 403 (401 for a wrong or missing token).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from warroom.alerts.models import EventStatus, IntakeEvent
from warroom.engine.models import ModuleState
from warroom.lib import clock
from warroom.notify.models import Kind, Message, Status
from warroom.paging.models import EscalationStatus, IncidentEscalation

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _age(now: datetime, then: datetime | None) -> float:
    """Seconds from ``then`` to ``now``, never negative; 0 when there is nothing."""
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


def engine_metrics() -> Iterator[Metric]:
    duration = GaugeMetricFamily(
        "warroom_engine_module_duration_seconds",
        "How long the engine module's last completed run took.",
        labels=["module"],
    )
    last_run = GaugeMetricFamily(
        "warroom_engine_module_last_run_timestamp_seconds",
        "When the engine module last finished a run (Unix time).",
        labels=["module"],
    )
    runs = CounterMetricFamily(
        "warroom_engine_module_runs", "Completed runs of the engine module.", labels=["module"]
    )
    items = CounterMetricFamily(
        "warroom_engine_module_items", "Rows the engine module has moved forward.", labels=["module"]
    )
    errors = GaugeMetricFamily(
        "warroom_engine_module_last_error_timestamp_seconds",
        "When the engine module last failed (Unix time; 0 if never).",
        labels=["module"],
    )
    cycle = 0.0
    for state in ModuleState.objects.order_by("name"):
        label = [state.name]
        took = 0.0
        if (
            state.last_started_at
            and state.last_finished_at
            and state.last_finished_at >= state.last_started_at
        ):
            took = (state.last_finished_at - state.last_started_at).total_seconds()
        cycle += took
        duration.add_metric(label, took)
        last_run.add_metric(label, state.last_finished_at.timestamp() if state.last_finished_at else 0.0)
        runs.add_metric(label, float(state.runs))
        items.add_metric(label, float(state.items))
        errors.add_metric(label, state.last_error_at.timestamp() if state.last_error_at else 0.0)
    yield GaugeMetricFamily(
        "warroom_engine_cycle_seconds",
        "Engine cycle time: the sum of every module's last run duration.",
        value=cycle,
    )
    yield from (duration, last_run, runs, items, errors)


def escalation_metrics(now: datetime) -> Iterator[Metric]:
    active = IncidentEscalation.objects.filter(status=EscalationStatus.ACTIVE)
    due = active.filter(next_at__lte=now).aggregate(n=Count("id"), oldest=Min("next_at"))
    yield GaugeMetricFamily("warroom_escalations_active", "Escalations in progress.", value=active.count())
    yield GaugeMetricFamily(
        "warroom_escalations_due", "Active escalations whose next step is due now.", value=due["n"]
    )
    yield GaugeMetricFamily(
        "warroom_escalation_lag_seconds",
        "Lag of the oldest due escalation: now minus its next step's due time (0 when none is due).",
        value=_age(now, due["oldest"]),
    )


def outbox_metrics(now: datetime) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "warroom_outbox_messages", "Outbox messages not yet final, by status.", labels=["status"]
    )
    counts = dict(
        Message.objects.filter(status__in=[Status.PENDING, Status.SENDING])
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in (Status.PENDING, Status.SENDING):
        depth.add_metric([status.value], float(counts.get(status, 0)))
    yield depth
    due = Message.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).aggregate(
        n=Count("id"), oldest=Min("next_attempt_at")
    )
    yield GaugeMetricFamily(
        "warroom_outbox_due_messages", "Pending messages whose send time has come.", value=due["n"]
    )
    yield GaugeMetricFamily(
        "warroom_outbox_oldest_due_age_seconds",
        "How long the oldest due pending message has waited past its send time (0 when none).",
        value=_age(now, due["oldest"]),
    )
    failures = CounterMetricFamily(
        "warroom_notify_delivery_failures",
        "Messages that failed for good (permanent, retries exhausted, outcome unknown, unusable), by channel.",
        labels=["channel"],
    )
    failed = dict(
        Message.objects.filter(status=Status.FAILED)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    for kind in Kind:
        failures.add_metric([kind.value], float(failed.get(kind, 0)))
    yield failures


def intake_metrics(now: datetime) -> Iterator[Metric]:
    pending = IntakeEvent.objects.filter(status=EventStatus.PENDING).aggregate(
        n=Count("id"), oldest=Min("received_at")
    )
    yield GaugeMetricFamily(
        "warroom_intake_pending_events", "Received alert events not yet processed.", value=pending["n"]
    )
    yield GaugeMetricFamily(
        "warroom_intake_oldest_pending_age_seconds",
        "Age of the oldest unprocessed alert event (0 when none).",
        value=_age(now, pending["oldest"]),
    )


class WarroomCollector(Collector):
    """Reads every figure from the database at scrape time."""

    def collect(self) -> Iterable[Metric]:
        now = clock.now()
        yield from engine_metrics()
        yield from escalation_metrics(now)
        yield from outbox_metrics(now)
        yield from intake_metrics(now)


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WarroomCollector())
    return generate_latest(registry)


def _token() -> str:
    return str(getattr(settings, "WARROOM_METRICS_TOKEN", None) or settings.CONFIG.metrics_token or "")


def refusal(request: HttpRequest) -> HttpResponse | None:
    """None when ``request`` may read the metrics, else the answer to give."""
    token = _token()
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return None
        answer = HttpResponse("a valid bearer token is needed\n", status=401, content_type="text/plain")
        answer["WWW-Authenticate"] = 'Bearer realm="warroom-metrics"'
        return answer
    local = request.META.get("REMOTE_ADDR") in LOOPBACK and "X-Forwarded-For" not in request.headers
    if local:
        return None
    return HttpResponse(
        "metrics are served to loopback callers only; set WARROOM_METRICS_TOKEN to scrape from elsewhere\n",
        status=403,
        content_type="text/plain",
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(render(), content_type=CONTENT_TYPE)
