"""Engine module ``alerts.process``: turns pending intake events into alerts (dedup) and incidents (grouping).

Events are taken oldest first in batches ``FOR UPDATE SKIP LOCKED``, one transaction per batch, so a crash
redoes the whole batch and two engines never take the same event. Dedup follows PagerDuty: a trigger with the
dedup key of an open alert of the same integration adds to it (an acknowledged alert stays acknowledged); after a
resolve the key opens a new alert; acknowledge/resolve for a key with no open alert is ignored and logged on the
event. An acknowledge or resolve that leaves an incident an alert opened with no alert triggered and at least one
acknowledged acknowledges the incident, as a person would (:func:`acknowledge_incident_when_no_alert_is_triggered`),
which stops its escalation; when all its alerts are resolved it resolves instead
(:func:`resolve_incident_when_all_alerts_resolved`).

A batch is applied by :class:`_Batch`, which gives the same result as applying its events one by one (the
sequential path, ``_apply_safely``) with a few statements per batch instead of several per event: the open
alerts of the batch's dedup keys are read with one query, repeats are counted in memory and written with one
UPDATE, new alerts are grouped against per-batch look-ups of siblings and openers and inserted together, and
the events, timeline lines and alert counts are written with one statement each. Acknowledge and resolve events
take the sequential path in their turn (after everything before them is written). Should anything in the batch
fail, its savepoint is rolled back and the batch is applied one event at a time instead, which isolates a bad
event exactly as before.

A test alert (an event with ``is_test``, sent from Warroom by
:func:`warroom.alerts.actions.send_test_alert`) takes the sequential path too. Dedup keeps test and real alerts
apart (an event only ever finds an open alert of its own kind), a test alert always declares an incident of its
own, marked ``is_test``, and grouping never offers a test incident to a real alert; otherwise it is applied as any
alert: maintenance windows, severity map, paging.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Max, Min, OuterRef, QuerySet, Subquery

from warroom.accounts.models import User
from warroom.alerts import intake
from warroom.alerts.grouping import fields_group_key
from warroom.alerts.models import (
    Action,
    Alert,
    AlertStatus,
    EventStatus,
    Grouping,
    IntakeEvent,
    Integration,
    Kind,
    MaintenanceWindow,
)
from warroom.alerts.services import active_maintenance
from warroom.catalog.models import Service
from warroom.engine import registry
from warroom.engine.registry import More
from warroom.incidents import services as incidents
from warroom.incidents.models import EntryKind, Incident, TimelineEntry
from warroom.incidents.services import TITLE_MAX
from warroom.incidents.states import OPEN_STATES, ResolutionCode, State
from warroom.lib import bulk
from warroom.lib.rows import Maker

log = logging.getLogger("warroom.alerts.engine")

BATCH = 500
_ALERT = Maker(Alert)  # the batch path builds thousands of these a second (see warroom.lib.rows)
_ALERT_FIELDS = tuple(f.attname for f in Alert._meta.concrete_fields)
_alert_row = operator.attrgetter(*_ALERT_FIELDS)  # an alert's values, as bulk.insert_values takes them
MAX_BATCHES = 20  # at most 10,000 events per cycle, so one module never holds the cycle for long
SOURCE = "engine"


@registry.module(intake.PROCESS, order=10, wake=True)
def process(now: datetime) -> int:
    """Process the events pending when the pass starts, oldest first, up to ``MAX_BATCHES`` batches; returns how
    many, as :class:`~warroom.engine.registry.More` when it stopped at that bound with events left (a storm's
    backlog): the engine then starts its next cycle at once instead of waiting out its interval.

    Events that arrive during the pass are left to the next one. Their writers woke the engine
    (:mod:`warroom.engine.wake`), which gathers what arrives for a moment and then takes it in one batch; taking
    them here instead, as they trickle in, made many small batches, each paying a batch's dozen statements for a
    few events (a steady stream of single events cost ~175 µs of engine CPU an event, measured)."""
    total = 0
    horizon = IntakeEvent.objects.aggregate(newest=Max("id"))["newest"]
    if horizon is None:
        return 0
    for _ in range(MAX_BATCHES):
        done = process_batch(now, limit=BATCH)
        total += done
        if not done:
            return total
        # A short batch may only mean a gap in the ids (see _pending): go on while events of the pass are left.
        if done < BATCH and not _pending_events().filter(id__lte=horizon).exists():
            return total
    return More(total)


def _pending_events() -> QuerySet[IntakeEvent]:
    return IntakeEvent.objects.filter(status=EventStatus.PENDING)


# How far past the oldest pending event a batch looks (ids), as a multiple of the batch size. See _pending.
WINDOW = 4


def _pending(limit: int) -> list[IntakeEvent]:
    """The oldest ``limit`` pending events that no other engine holds, locked.

    The look-up is bounded to ids within ``WINDOW × limit`` of the oldest pending event (found by a walk of the
    pending index, ``min`` takes its first entry). Without the bound, the plan of "pending, by id, first 500"
    depends on the table's statistics: when they were taken with few events pending, PostgreSQL expects a few
    hundred rows and reads and sorts every pending event instead of walking the index, so each batch of a
    storm's backlog costs a sort of the whole backlog (measured: 200-430 ms a batch at 100,000 pending, against
    3 ms) and the engine falls further behind the longer the storm lasts. With the bound a batch reads at most
    ``WINDOW × limit`` rows whatever the plan. Fewer than ``limit`` events in the window (gaps in the ids,
    events another engine holds) only make the batch smaller."""
    pending = _pending_events()
    oldest = pending.aggregate(oldest=Min("id"))["oldest"]
    if oldest is None:
        return []
    return list(
        pending.select_for_update(skip_locked=True, of=("self",))
        .defer("payload")  # the raw payload is the event log's; processing needs only the parsed fields
        .filter(id__lt=oldest + WINDOW * limit)
        .order_by("id")[:limit]
    )


def process_batch(now: datetime, *, limit: int) -> int:
    with transaction.atomic():
        events = _pending(limit)
        _attach_integrations(events)
        # Arrival order matters (the first alert of a window opens the incident). Two engines working side by
        # side can therefore deadlock on each other's alerts; the batch is then redone (see _apply_safely).
        if events:
            _apply_batch(events, now)
    return len(events)


def _attach_integrations(events: list[IntakeEvent]) -> None:
    """Give every event its integration (with service and team), loaded once per integration."""
    ids = {event.integration_id for event in events}
    integrations = Integration.objects.select_related("service__team").in_bulk(ids)
    for event in events:
        event.integration = integrations[event.integration_id]


def _apply_batch(events: list[IntakeEvent], now: datetime) -> None:
    """Apply ``events`` with the batch path; if it fails, roll it back and apply them one at a time."""
    if bulk.can_reserve_ids():
        try:
            with transaction.atomic():
                _Batch(now).run(events)
            return
        except (OperationalError, InterfaceError):
            raise  # transient: the whole batch is redone next cycle, as with the sequential path
        except Exception as exc:
            # A bad event, or a race with another engine: the sequential path isolates it.
            log.warning(
                "batch of %d intake events failed (%s: %s); applying them one by one",
                len(events),
                type(exc).__name__,
                exc,
            )
    for event in events:
        _apply_safely(event, now)


def _apply_safely(event: IntakeEvent, now: datetime) -> None:
    """Apply one event in a savepoint. An event that cannot be applied because of what it says is marked
    ignored with the error, so one bad event never blocks the queue; a transient database error aborts the
    batch instead, so no event is lost."""
    try:
        try:
            with transaction.atomic():
                status, reason, alert = _apply(event, now)
        except IntegrityError:
            # Another engine opened an alert with this dedup key between our look-up and our insert (the
            # partial unique index refused the second one). Its alert is committed now: apply again to it.
            with transaction.atomic():
                status, reason, alert = _apply(event, now)
    except (OperationalError, InterfaceError):
        # Transient (a deadlock with another engine, a lost connection): never drop the event. The whole batch
        # rolls back and is taken again next cycle.
        raise
    except Exception as exc:
        log.exception("intake event %s could not be processed", event.pk)
        status, reason, alert = (
            EventStatus.IGNORED,
            f"error while processing: {type(exc).__name__}: {exc}",
            None,
        )
    IntakeEvent.objects.filter(pk=event.pk).update(
        status=status, reason=reason[:4000], processed_at=now, alert=alert
    )


def _open_alert(event: IntakeEvent) -> Alert | None:
    """The open alert the event's dedup key names: a test event's among test alerts, any other's among real
    ones, so a sender's event never lands on a test alert, whatever its key."""
    return (
        Alert.objects.select_for_update(of=("self",))
        .filter(integration_id=event.integration_id, dedup_key=event.dedup_key, is_test=event.is_test)
        .exclude(status=AlertStatus.RESOLVED)
        .first()
    )


def _apply(event: IntakeEvent, now: datetime) -> tuple[str, str, Alert | None]:
    alert = _open_alert(event)
    if event.action == Action.TRIGGER:
        if alert is not None:
            Alert.objects.filter(pk=alert.pk).update(count=alert.count + 1, last_seen=event.received_at)
            return (
                EventStatus.PROCESSED,
                f"added to open alert {alert.pk} (seen {alert.count + 1} times)",
                alert,
            )
        alert = _new_alert(event)
        return EventStatus.PROCESSED, f"opened alert {alert.pk}; {alert.group_reason}", alert
    if alert is None:
        return (
            EventStatus.IGNORED,
            f"no open alert with dedup key {event.dedup_key!r}: nothing to {event.action}",
            None,
        )
    if event.action == Action.ACKNOWLEDGE:
        if alert.status == AlertStatus.ACKNOWLEDGED:
            return EventStatus.PROCESSED, f"alert {alert.pk} was already acknowledged", alert
        Alert.objects.filter(pk=alert.pk).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=event.received_at
        )
        return (
            EventStatus.PROCESSED,
            f"acknowledged alert {alert.pk}" + _after_acknowledge(alert, event.integration),
            alert,
        )
    Alert.objects.filter(pk=alert.pk).update(
        status=AlertStatus.RESOLVED, resolved_at=event.received_at, last_seen=event.received_at
    )
    reason = f"resolved alert {alert.pk}"
    if alert.incident_id is not None:
        reason += _after_resolve(alert, event.integration)
    return EventStatus.PROCESSED, reason, alert


#: a source's own start time further back than this is not believed (a zero time, a clock far off)
SOURCE_START_MAX_AGE = timedelta(days=7)


def source_started(fields: dict[str, Any], received_at: datetime) -> datetime | None:
    """When the source says the problem began: Alertmanager's and Grafana's ``startsAt``, PagerDuty's
    ``payload.timestamp`` (kept in the alert's details). A time after ``received_at`` (the source's clock is
    ahead) is ``received_at``; one more than :data:`SOURCE_START_MAX_AGE` before it, or unreadable, is None."""
    details = fields.get("details")
    if not isinstance(details, dict):
        return None
    text = details.get("startsAt") or details.get("timestamp")
    started = intake.parse_timestamp(text) if isinstance(text, str) else None
    if started is None or started < received_at - SOURCE_START_MAX_AGE:
        return None
    return min(started, received_at)


def _alert_for(event: IntakeEvent) -> Alert:
    """The (unsaved) alert a trigger with no open alert opens; grouped by fields, its group key is theirs."""
    integration = event.integration
    fields = event.fields
    alert = _ALERT(
        {"integration": integration, "service": integration.service},
        integration_id=integration.pk,
        service_id=integration.service_id,
        dedup_key=event.dedup_key,
        status=AlertStatus.TRIGGERED,
        severity=fields.get("severity") or "warning",
        summary=fields.get("summary") or event.dedup_key,
        source=fields.get("source") or "",
        details=fields.get("details") or {},
        links=fields.get("links") or [],
        first_seen=event.received_at,
        started_at=source_started(fields, event.received_at),
        last_seen=event.received_at,
        group_key=event.group_key,
        is_test=event.is_test,
    )
    if integration.grouping == Grouping.FIELDS:
        alert.group_key, _ = fields_group_key(
            list(integration.group_fields), alert.summary, alert.source, alert.severity, alert.details
        )
    return alert


def _suppress(alert: Alert, window: MaintenanceWindow) -> None:
    alert.suppressed = True
    alert.suppressed_by = window
    alert.group_reason = f"suppressed by maintenance window {window.pk} ({window.title}): no incident"


def _new_alert(event: IntakeEvent) -> Alert:
    integration = event.integration
    alert = _alert_for(event)
    alert.save()
    window = active_maintenance(integration.service_id, alert.first_seen)
    if window is not None:
        _suppress(alert, window)
        alert.save(update_fields=["suppressed", "suppressed_by", "group_reason"])
        return alert
    _group(alert, integration)
    return alert


NEWEST = ("-first_seen", "-id")


def _siblings(integration_id: Any, group_key: Any, *, fields: bool) -> QuerySet[Alert]:
    """Alerts of the integration with the group key and an open incident that is not a test (grouping by
    ``fields``: not suppressed). The arguments may be ``OuterRef``s."""
    siblings = Alert.objects.filter(
        integration_id=integration_id,
        group_key=group_key,
        incident__state__in=OPEN_STATES,
        incident__is_test=False,
    )
    return siblings.filter(suppressed=False) if fields else siblings


def _openers(service_id: Any) -> QuerySet[Alert]:
    """Alerts of the service that opened an incident that is still open and not a test."""
    return Alert.objects.filter(
        service_id=service_id, opened_incident=True, incident__state__in=OPEN_STATES, incident__is_test=False
    )


class _Lookups:
    """Where grouping finds an alert's siblings and the service's last opener: the database, one query each
    (here), or the batch path's per-batch memory of them (:class:`_BatchLookups`)."""

    def sibling(self, alert: Alert, integration: Integration, *, fields: bool) -> Alert | None:
        """The newest other alert of the integration with the alert's group key and an open incident (and, when
        grouping by ``fields``, not suppressed)."""
        siblings = _siblings(integration.pk, alert.group_key, fields=fields)
        return siblings.exclude(pk=alert.pk).select_related("incident").order_by(*NEWEST).first()

    def opener(self, alert: Alert, since: datetime) -> Alert | None:
        """The newest other alert of the service that opened a still open incident at or after ``since``."""
        openers = _openers(alert.service_id).filter(first_seen__gte=since).exclude(pk=alert.pk)
        return openers.select_related("incident").order_by(*NEWEST).first()


_DATABASE = _Lookups()


def _group_target(
    alert: Alert, integration: Integration, lookups: _Lookups = _DATABASE
) -> tuple[Incident | None, str]:
    """The open incident ``alert`` joins, with the reason; or (None, reason) for a new incident. A test alert
    always opens one of its own (and the look-ups never offer a test incident to a real alert)."""
    if alert.is_test:
        return None, "a test alert: always an incident of its own"
    if integration.grouping == Grouping.FIELDS:
        # the alert's group key was set from the chosen fields when it was created (see _alert_for)
        sibling = lookups.sibling(alert, integration, fields=True)
        _, described = fields_group_key(
            list(integration.group_fields), alert.summary, alert.source, alert.severity, alert.details
        )
        if sibling is not None and sibling.incident is not None:
            return sibling.incident, f"same {described} as alert {sibling.pk}"
        return None, f"first alert with {described}: new incident"
    if integration.grouping == Grouping.GROUP_KEY:
        if not alert.group_key:
            return None, "grouping by group key, but the alert has none: new incident"
        sibling = lookups.sibling(alert, integration, fields=False)
        if sibling is not None and sibling.incident is not None:
            return sibling.incident, f"same group key {alert.group_key!r} as alert {sibling.pk}"
        return None, f"first alert of group key {alert.group_key!r}: new incident"
    if integration.grouping == Grouping.WINDOW:
        since = alert.first_seen - timedelta(minutes=integration.window_minutes)
        opener = lookups.opener(alert, since)
        if opener is not None and opener.incident is not None:
            return opener.incident, (
                f"within {integration.window_minutes} min of alert {opener.pk}, which opened the incident"
            )
        return (
            None,
            f"no open incident of the service in the last {integration.window_minutes} min: new incident",
        )
    return None, "one incident per alert"


def _title(summary: str) -> str:
    title = " ".join(summary.split()) or "Alert"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _group(alert: Alert, integration: Integration) -> None:
    incident, line = _place(alert, integration)
    if not alert.opened_incident:
        _lock_incidents([incident.pk])
    alert.save(update_fields=["incident", "opened_incident", "group_reason"])
    incidents.record_alert(incident=incident, source=SOURCE, at=alert.first_seen, message=line())


def _place(
    alert: Alert, integration: Integration, lookups: _Lookups = _DATABASE
) -> tuple[Incident, Callable[[], str]]:
    """Put ``alert`` in its incident (declaring one if it opens it): sets its incident, ``opened_incident`` and
    reason, and returns the incident and its timeline line (a function: the alert may have no pk yet)."""
    incident, reason = _group_target(alert, integration, lookups)
    service = integration.service
    if incident is None:
        impact, urgency = integration.impact_urgency(alert.severity)
        incident = incidents.declare_incident(
            actor=None,
            source=SOURCE,
            title=_title(alert.summary),
            team=service.team,
            services=[service],
            impact=impact,
            urgency=urgency,
            reporter=None,
            opened_at=alert.first_seen,
        )
        if alert.is_test:  # in the declaring transaction: nobody ever sees it unmarked
            Incident.objects.filter(pk=incident.pk).update(is_test=True)
            incident.is_test = True
        alert.opened_incident = True
        verb = "opened this incident"
    else:
        verb = "joined this incident"
    alert.incident = incident
    alert.group_reason = reason

    def line() -> str:
        return (
            f"Alert {alert.pk} ({alert.severity}) from {integration.name} {verb}: {alert.summary[:300]} "
            f"— {reason}"
        )

    return incident, line


# ---------------------------------------------------------------------------------------------------------------
# the batch path (see the module docstring)


@dataclass
class _Done:
    """What became of one event of the batch, written with the others at the end."""

    event: IntakeEvent
    status: str
    reason: Callable[[], str]  # a function: a new alert's pk is known only once the batch reserved it
    alert: Alert | None


class _BatchLookups(_Lookups):
    """Siblings and openers remembered for the rest of the batch: the database is asked once per (integration,
    group key) and once per service, and every alert the batch places updates the answer. Sound because nothing
    else in a batch's fast stretch changes which incidents are open (an event that may, an acknowledge or
    resolve, takes the sequential path after :meth:`_Batch.flush`, and the memory is dropped)."""

    def __init__(self) -> None:
        self.siblings: dict[tuple[int, str, bool], Alert | None] = {}
        self.openers: dict[int, Alert | None] = {}

    def prefetch(self, alerts: list[tuple[Alert, IntakeEvent]]) -> None:
        """Ask the database for the newest opener of every service whose new alerts group by window and the
        newest sibling of every group key they group by, with a query for all services and one for all group
        keys (a correlated ``LIMIT 1`` each, so an index on the order can serve them), plus one to load them.
        Alerts grouped by fields are looked up one group at a time, when placed."""
        services = {
            alert.service_id for alert, _ in alerts if alert.integration.grouping == Grouping.WINDOW
        } - self.openers.keys()
        events = {
            (alert.integration_id, alert.group_key): event.pk
            for alert, event in alerts
            if alert.group_key and alert.integration.grouping == Grouping.GROUP_KEY
        }
        keys = set(events) - {(integration, key) for integration, key, fields in self.siblings if not fields}
        newest: dict[Any, int | None] = {}
        if services:
            opener = _openers(OuterRef("pk")).order_by(*NEWEST).values("pk")[:1]
            found = Service.objects.filter(pk__in=services).annotate(newest=Subquery(opener))
            newest.update({("service", pk): alert for pk, alert in found.values_list("pk", "newest")})
        if keys:
            sibling = _siblings(OuterRef("integration_id"), OuterRef("group_key"), fields=False)
            found_keys = IntakeEvent.objects.filter(pk__in=[events[key] for key in keys]).annotate(
                newest=Subquery(sibling.order_by(*NEWEST).values("pk")[:1])
            )
            newest.update(
                {
                    ("key", i, g): alert
                    for i, g, alert in found_keys.values_list("integration_id", "group_key", "newest")
                }
            )
        loaded = Alert.objects.select_related("incident").in_bulk(
            [pk for pk in newest.values() if pk is not None]
        )
        for service in services:
            pk = newest.get(("service", service))
            self.openers[service] = loaded.get(pk) if pk is not None else None
        for integration, key in keys:
            pk = newest.get(("key", integration, key))
            self.siblings[(integration, key, False)] = loaded.get(pk) if pk is not None else None

    def sibling(self, alert: Alert, integration: Integration, *, fields: bool) -> Alert | None:
        key = (integration.pk, alert.group_key, fields)
        if key not in self.siblings:
            self.siblings[key] = super().sibling(alert, integration, fields=fields)
        return self.siblings[key]

    def opener(self, alert: Alert, since: datetime) -> Alert | None:
        newest = self._newest_opener(alert.service_id)
        # The newest opener, if it is recent enough, is the newest one at or after ``since``; else there is none.
        return newest if newest is not None and newest.first_seen >= since else None

    def _newest_opener(self, service_id: int) -> Alert | None:
        if service_id not in self.openers:
            self.openers[service_id] = (
                _openers(service_id).select_related("incident").order_by(*NEWEST).first()
            )
        return self.openers[service_id]

    def placed(self, alert: Alert, integration: Integration) -> None:
        """``alert`` (not yet written) has just been put in an open incident: later alerts may find it."""
        if alert.opened_incident:
            newest = self._newest_opener(alert.service_id)
            if newest is None or _newer(alert, newest):
                self.openers[alert.service_id] = alert
        for fields in (False, True):
            key = (integration.pk, alert.group_key, fields)
            if key in self.siblings:
                current = self.siblings[key]
                if current is None or _newer(alert, current):
                    self.siblings[key] = alert


#: the fields of an alert the open-alert look-up reads or tests (their columns come from the model)
_OPEN_ALERT_FIELDS = ("id", "integration", "dedup_key", "count", "last_seen", "is_test", "status")


def _open_alerts(keys: set[tuple[int, str]]) -> Sequence[Alert]:
    """The open real alerts of ``keys`` (integration id, dedup key), locked in id order (the order a person's
    change locks an incident's alerts in, :mod:`warroom.alerts.signals`), with only what a repeat changes.

    On PostgreSQL each pair is one look-up in the open-alert unique index (a join with the pairs as arrays): with
    the two ``IN`` lists of the portable query the planner can only use the index's first column and reads
    every open alert of the batch's integrations, which in a storm is all of them (measured: 38 ms a batch of
    500 with 150,000 open alerts, against well under 1 ms)."""
    if not keys:
        return []
    if bulk.postgres():
        quote = connection.ops.quote_name
        table = quote(Alert._meta.db_table)
        col = {name: "a." + quote(bulk.column(Alert._meta.get_field(name))) for name in _OPEN_ALERT_FIELDS}
        pairs = sorted(keys)
        # Only model table and column names (quoted) and placeholders: no value is formatted into the SQL.
        sql = (
            f"SELECT {col['id']}, {col['integration']}, {col['dedup_key']}, {col['count']}, {col['last_seen']} "  # noqa: S608
            f"FROM unnest(%s::bigint[], %s::text[]) AS k(integration_id, dedup_key) "
            f"JOIN {table} a ON {col['integration']} = k.integration_id AND {col['dedup_key']} = k.dedup_key "
            f"WHERE NOT {col['is_test']} AND NOT {col['status']} = %s ORDER BY {col['id']} FOR UPDATE OF a"
        )
        params = [[i for i, _ in pairs], [d for _, d in pairs], AlertStatus.RESOLVED.value]
        return list(Alert.objects.raw(sql, params))
    return list(
        Alert.objects.select_for_update(of=("self",))
        .filter(
            integration_id__in={integration for integration, _ in keys},
            dedup_key__in={dedup_key for _, dedup_key in keys},
            is_test=False,
        )
        .exclude(status=AlertStatus.RESOLVED)
        .order_by("pk")
        .only("id", "integration_id", "dedup_key", "count", "last_seen")
    )


def _newer(alert: Alert, than: Alert) -> bool:
    """``alert`` comes before ``than`` in the look-ups' order (``-first_seen, -id``)."""
    return (alert.first_seen, alert.pk) > (than.first_seen, than.pk)


class _Batch:
    """Applies a batch of events with a handful of statements (module docstring). Triggers are handled in
    memory and written by :meth:`flush`; any other event flushes, then takes the sequential path."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.open: dict[tuple[int, str], Alert | None] = {}  # the open alert of (integration, dedup key)
        self.known = False  # whether ``open`` holds every trigger key of the remaining events
        self.new: list[tuple[Alert, IntakeEvent]] = []  # alerts opened since the last flush, in order
        self.bumped: dict[int, Alert] = {}  # written alerts whose count and last_seen changed
        self.done: list[_Done] = []
        self.lookups = _BatchLookups()
        self.maintained: set[int] = set()  # services with maintenance windows

    def run(self, events: list[IntakeEvent]) -> None:
        services = {event.integration.service_id for event in events}
        self.maintained = set(
            MaintenanceWindow.objects.filter(service_id__in=services).values_list("service_id", flat=True)
        )
        for index, event in enumerate(events):
            # A test alert is rare and always opens an incident of its own: the sequential path takes it too.
            if event.action != Action.TRIGGER or event.is_test:
                self.flush()
                _apply_safely(event, self.now)
                # It may have resolved alerts and opened or resolved incidents: forget what was known about them.
                self.open, self.known, self.lookups = {}, False, _BatchLookups()
                continue
            if not self.known:
                self.preload(events[index:])
            self.trigger(event)
        self.flush()
        self.write_events()

    def preload(self, events: Sequence[IntakeEvent]) -> None:
        """Read (and lock) the open (real) alerts of every (real) trigger's dedup key with one query."""
        triggers = [e for e in events if e.action == Action.TRIGGER and not e.is_test]
        keys = {(e.integration_id, e.dedup_key) for e in triggers}
        self.open = dict.fromkeys(keys)
        for alert in _open_alerts(keys):
            if (alert.integration_id, alert.dedup_key) in self.open:
                self.open[(alert.integration_id, alert.dedup_key)] = alert
        self.known = True

    def trigger(self, event: IntakeEvent) -> None:
        key = (event.integration_id, event.dedup_key)
        alert = self.open.get(key)
        if alert is None:
            alert = self.open[key] = _alert_for(event)
            self.new.append((alert, event))
            reason = functools.partial(_opened, alert)
        else:
            alert.count += 1
            alert.last_seen = event.received_at
            if alert.pk is not None:
                self.bumped[alert.pk] = alert
            reason = functools.partial(_added, alert, alert.count)
        self.done.append(_Done(event, EventStatus.PROCESSED, reason, alert))

    def flush(self) -> None:
        """Write what the triggers since the last flush did: place and insert new alerts, count repeats."""
        if self.new:
            alerts = [alert for alert, _ in self.new]
            for alert, pk in zip(alerts, bulk.reserve_ids(Alert, len(alerts)), strict=True):
                alert.pk = pk
            self.lookups.prefetch(self.new)
            lines: list[_Line] = []
            for alert in alerts:
                self.place(alert, lines)
            bulk.insert_values(Alert, _ALERT_FIELDS, [_alert_row(alert) for alert in alerts])
            for alert in alerts:
                alert._state.adding = False  # saved: a later save() updates it
            _record_alerts(lines)
            self.new = []
        if self.bumped:
            bulk.set_many(
                Alert, ["count", "last_seen"], [(a.pk, a.count, a.last_seen) for a in self.bumped.values()]
            )
            self.bumped = {}

    def place(self, alert: Alert, lines: list[_Line]) -> None:
        integration = alert.integration
        if alert.service_id in self.maintained:
            window = active_maintenance(alert.service_id, alert.first_seen)
            if window is not None:
                _suppress(alert, window)
                return
        incident, line = _place(alert, integration, self.lookups)
        self.lookups.placed(alert, integration)
        lines.append((incident.pk, alert.first_seen, SOURCE, EntryKind.LINK.value, "alert", line()))

    def write_events(self) -> None:
        bulk.update_values(
            IntakeEvent,
            ["status", "reason", "processed_at", "alert"],
            [
                (
                    done.event.pk,
                    done.status,
                    done.reason()[:4000],
                    self.now,
                    done.alert.pk if done.alert else None,
                )
                for done in self.done
            ],
        )


def _opened(alert: Alert) -> str:
    return f"opened alert {alert.pk}; {alert.group_reason}"


def _added(alert: Alert, count: int) -> str:
    return f"added to open alert {alert.pk} (seen {count} times)"


# a timeline line of the batch path: (incident id, at, source, kind, field, message), see _record_alerts
_Line = tuple[int, datetime, str, str, str, str]
_LINE_FIELDS = ("incident_id", "at", "source", "kind", "field", "message")


def _record_alerts(lines: list[_Line]) -> None:
    """The batch form of :func:`warroom.incidents.services.record_alert`: the same timeline rows, and each
    incident's ``updated_at`` set to the time of its last line."""
    if not lines:
        return
    last = {incident: at for incident, at, *_ in lines}
    _lock_incidents(sorted(last))
    bulk.insert_values(TimelineEntry, _LINE_FIELDS, lines)
    bulk.update_values(Incident, ["updated_at"], list(last.items()))


def _lock_incidents(ids: list[int]) -> None:
    """Lock the incidents new alerts joined, without waiting (see :func:`_lock_incident`): the batch holds the
    open alerts of its repeats, and a person acknowledging one of these incidents holds it and waits for its
    alerts. Incidents the batch declared itself are its own and never wait."""
    if connection.vendor == "postgresql":
        list(
            Incident.objects.select_for_update(nowait=True, no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _named(integration: Integration) -> str:
    """How the timeline names an integration: ``Datadog prod (PagerDuty Events API v2)``."""
    return f"{integration.name} ({Kind(integration.kind).label})"


def _after_acknowledge(alert: Alert, integration: Integration) -> str:
    """The engine's side of an acknowledge from the source that moved a triggered alert: a timeline line, then
    the acknowledge rule. Only a move writes anything, so a repeated acknowledge (a sender's retry) or a redone
    batch writes the line once."""
    incident = _lock_incident(alert)  # None: suppressed by a maintenance window, no incident
    if incident is None:
        return ""
    incidents.record_alert(
        incident=incident,
        source=SOURCE,
        message=f"Alert {alert.pk} acknowledged at the source by {_named(integration)}: {alert.summary[:300]}",
    )
    return acknowledge_incident_when_no_alert_is_triggered(
        alert,
        source=SOURCE,
        note=(
            f"Acknowledged at the source: {_named(integration)} acknowledged alert {alert.pk}, and no alert of "
            "this incident is still triggered."
        ),
    )


def _after_resolve(alert: Alert, integration: Integration) -> str:
    """The engine's side of a resolve from the source: a timeline line, then the auto-resolve rule; if the
    incident stays open, the acknowledge rule (its other open alerts may all be acknowledged)."""
    incident = _lock_incident(alert)
    if incident is None:
        return ""
    incidents.record_alert(
        incident=incident, source=SOURCE, message=f"Alert {alert.pk} resolved: {alert.summary[:300]}"
    )
    resolved = resolve_incident_when_all_alerts_resolved(
        alert, integration, actor=None, source=SOURCE, notes="All alerts resolved at the source."
    )
    return resolved or acknowledge_incident_when_no_alert_is_triggered(
        alert,
        source=SOURCE,
        note=(
            f"Acknowledged at the source: {_named(integration)} resolved alert {alert.pk}, and every alert of this "
            "incident still open is acknowledged."
        ),
    )


def _lock_incident(alert: Alert, *, wait: bool = False) -> Incident | None:
    """The alert's incident, locked without waiting: a ``LockNotAvailable`` (an ``OperationalError``) aborts the
    batch, which is taken again next cycle.

    The engine holds the batch's alerts locked by then. A person acknowledging or resolving the incident locks
    the incident, then its alerts (to acknowledge or resolve them with it). Were the engine to wait for the
    incident here, each would wait for the other until PostgreSQL broke the deadlock by failing one of them,
    perhaps the person's request. Not waiting, the engine steps back and the person's change goes through.
    ``wait``: a person's own action (resolving an alert by hand) waits as any request does."""
    if alert.incident_id is None:
        return None
    locking = Incident.objects.select_for_update(of=("self",), nowait=not wait, no_key=True)
    return locking.filter(pk=alert.incident_id).first()


def acknowledge_incident_when_no_alert_is_triggered(alert: Alert, *, source: str, note: str) -> str:
    """Acknowledge the alert's incident as a person's acknowledgement of a New incident does, when an alert
    opened it (as for :func:`resolve_incident_when_all_alerts_resolved`, an incident a person declared is left to
    people), it is still New (nobody acknowledged it), none of its alerts is triggered any more and at least one
    is acknowledged. PagerDuty's rule for an acknowledge event, with grouping: one acknowledged alert of a
    storm does not silence the others still triggered.

    The acknowledgement is :func:`warroom.incidents.services.transition_incident` to In Progress, by no person
    (``actor=None``) with ``note`` on the timeline: its ``incident_transitioned`` receivers stop the escalation
    and cancel pages not yet sent exactly as for a person (``warroom.paging.receivers``), and acknowledge the
    incident's triggered alerts (``warroom.alerts.signals``; there are none here, so the two rules never feed each
    other). Returns what happened, for the event's reason. Runs in the caller's transaction; the incident row is
    locked before it is looked at, so an acknowledgement a person committed meanwhile is seen (and the incident
    left as it is) rather than refused as a transition In Progress → In Progress."""
    incident = _lock_incident(alert)
    if incident is None or incident.state != State.NEW or incident.acknowledged_at is not None:
        return ""
    alerts = Alert.objects.filter(incident=incident)
    if not alerts.filter(opened_incident=True).exists():
        return ""
    if alerts.filter(status=AlertStatus.TRIGGERED).exists():
        return ""
    if not alerts.filter(status=AlertStatus.ACKNOWLEDGED).exists():
        return ""
    incidents.transition_incident(
        incident=incident, actor=None, source=source, to=State.IN_PROGRESS, note=note
    )
    return f"; no alert of {incident.ref} triggered any more: incident acknowledged"


def resolve_incident_when_all_alerts_resolved(
    alert: Alert, integration: Integration, *, actor: User | None, source: str, notes: str, wait: bool = False
) -> str:
    """Resolve the alert's incident when it was opened by an alert, all its alerts are resolved now and the
    integration asks for it (``auto_resolve_incident``); a person's resolve of the last alert counts the same as
    the source's. Returns what happened, for the event's reason. Runs in the caller's transaction; ``wait`` as
    for :func:`_lock_incident` (the engine does not wait for the incident, a person's request does)."""
    if not integration.auto_resolve_incident:
        return ""
    incident = _lock_incident(alert, wait=wait)
    if incident is None or incident.state not in OPEN_STATES:
        return ""
    if not Alert.objects.filter(incident=incident, opened_incident=True).exists():
        return ""
    if Alert.objects.filter(incident=incident).exclude(status=AlertStatus.RESOLVED).exists():
        return ""
    incidents.transition_incident(
        incident=incident,
        actor=actor,
        source=source,
        to=State.RESOLVED,
        resolution_code=ResolutionCode.RESOLVED_BY_CALLER,
        resolution_notes=notes,
    )
    return f"; all alerts of {incident.ref} resolved: incident resolved"


import warroom.alerts.heartbeat  # noqa: E402, F401  (registers alerts.heartbeats)
from warroom.alerts import retention  # noqa: E402, F401  (registers alerts.retention)
