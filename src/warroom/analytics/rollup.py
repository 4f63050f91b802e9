"""Keeping the report summaries (:mod:`warroom.analytics.models`) up to date: the only writes of analytics.

Every :data:`RUN_EVERY` the ``analytics.summarize`` engine module

1. marks dirty the UTC days whose rows changed since it last looked: the opening day of every incident updated
   since then (and the days of its alerts and pages, which carry its team and priority), the day of every new
   alert and page, of every alert an intake event or a person acted on, and, always, today and yesterday.
   Sources are read by watermark (``updated_at``, or ids); rows younger than :data:`LAG` are looked at again
   next time, so a transaction that committed late is never missed;
2. rebuilds up to :data:`DAYS_PER_RUN` dirty days, newest first, each in one transaction: delete the day's
   cells, compute them again from the live rows, insert them. A crash before commit leaves the day dirty; a
   rebuild is idempotent.

Test incidents and test alerts (``is_test``: sent from Warroom to check an integration) are never summarised, nor
are the pages of test incidents: they count in no report.

``rebuild_all`` fills the summaries from scratch (after an upgrade, or a bulk import); ``warroom manage
warroom_summarize_reports`` runs it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Sum, Window
from django.db.models.functions import Coalesce, Lag, TruncDate

from warroom.accounts.models import User
from warroom.alerts.models import Alert, IntakeEvent
from warroom.analytics.models import (
    AlertCell,
    CategoryCell,
    DirtyDay,
    FlapCell,
    IncidentCell,
    PageCell,
    SummaryState,
)
from warroom.analytics.selectors import (
    FLAP_ALERTS,
    FLAP_WINDOW,
    UNACTED,
    in_working_hours,
    is_night,
    night_zone,
    windows_of,
)
from warroom.audit.models import AuditEvent
from warroom.incidents.models import ClockKind, ClockState, Incident, SlaClock
from warroom.incidents.states import State
from warroom.lib.ids import as_id
from warroom.paging.models import Page
from warroom.reviews.models import ActionItem, Postmortem
from warroom.reviews.states import ActionItemStatus, PostmortemStatus

RUN_EVERY = timedelta(seconds=60)
LAG = timedelta(minutes=2)
DAYS_PER_RUN = 31
ONE_DAY = timedelta(days=1)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _days(values: Iterable[datetime | date | None]) -> set[date]:
    return {v.astimezone(UTC).date() if isinstance(v, datetime) else v for v in values if v is not None}


# ---------------------------------------------------------------------------------------------------------------
# 1. what changed


def _state() -> SummaryState:
    SummaryState.objects.get_or_create(pk=1)
    return SummaryState.objects.select_for_update().get(pk=1)


def _by_id(model: Any, after: int, stamp: str, now: datetime) -> tuple[Any, int]:
    """Rows of ``model`` with an id past ``after``; the new watermark: the largest id among those older than
    :data:`LAG` (younger ones are looked at again next time)."""
    rows = model.objects.filter(pk__gt=after).order_by()
    settled = rows.filter(**{f"{stamp}__lt": now - LAG}).aggregate(m=Max("pk"))["m"]
    return rows, max(after, settled or after)


def _incident_days(ids: Any) -> set[date]:
    """The days an incident's figures live on: its opening, its alerts' and its pages'."""
    opened = Incident.objects.filter(pk__in=ids).order_by().annotate(d=TruncDate("opened_at", tzinfo=UTC))
    days = _days(opened.values_list("d", flat=True).distinct())
    alert_days = (
        Alert.objects.filter(incident_id__in=ids).order_by().annotate(d=TruncDate("first_seen", tzinfo=UTC))
    )
    days |= _days(alert_days.values_list("d", flat=True).distinct())
    page_days = Page.objects.filter(incident_id__in=ids).order_by().annotate(d=TruncDate("at", tzinfo=UTC))
    return days | _days(page_days.values_list("d", flat=True).distinct())


def _reviewed_incidents(until: datetime | None) -> tuple[set[int], datetime | None]:
    """Incidents whose postmortem or action items changed since ``until`` (and the children a major incident's
    postmortem covers); the newest change seen."""
    postmortems = Postmortem.objects.order_by()
    items = ActionItem.objects.order_by()
    if until is not None:
        postmortems = postmortems.filter(updated_at__gt=until - LAG)
        items = items.filter(updated_at__gt=until - LAG)
    ids = set(postmortems.values_list("incident_id", flat=True))
    ids |= set(Incident.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    for direct, via in items.values_list("incident_id", "postmortem__incident_id"):
        ids.update(i for i in (direct, via) if i is not None)
    newest = [
        m
        for m in (postmortems.aggregate(m=Max("updated_at"))["m"], items.aggregate(m=Max("updated_at"))["m"])
        if m is not None
    ]
    return ids, max(newest, default=None)


def mark_changes(now: datetime) -> int:
    """Mark dirty the days whose rows changed since the watermarks; advance them. Returns the days marked."""
    with transaction.atomic():
        state = _state()
        days: set[date] = {now.date(), now.date() - ONE_DAY}
        changed = Incident.objects.order_by()
        if state.incidents_until is not None:
            changed = changed.filter(updated_at__gt=state.incidents_until - LAG)
        newest = changed.aggregate(m=Max("updated_at"))["m"]
        days |= _incident_days(changed.values("pk"))
        alerts, state.alert_id = _by_id(Alert, state.alert_id, "first_seen", now)
        days |= _days(
            alerts.annotate(d=TruncDate("first_seen", tzinfo=UTC)).values_list("d", flat=True).distinct()
        )
        days |= _incident_days(alerts.filter(incident_id__isnull=False).values("incident_id"))
        events, state.event_id = _by_id(IntakeEvent, state.event_id, "received_at", now)
        acted = Alert.objects.filter(
            pk__in=events.filter(alert_id__isnull=False).values("alert_id")
        ).order_by()
        days |= _days(
            acted.annotate(d=TruncDate("first_seen", tzinfo=UTC)).values_list("d", flat=True).distinct()
        )
        audits, state.audit_id = _by_id(AuditEvent, state.audit_id, "at", now)
        by_hand = [
            ident
            for i in audits.filter(object_type="alerts.alert").values_list("object_id", flat=True)
            if (ident := as_id(str(i))) is not None
        ]
        for chunk in range(0, len(by_hand), 5000):
            touched = Alert.objects.filter(pk__in=by_hand[chunk : chunk + 5000])
            days |= _days(touched.values_list("first_seen", flat=True))
        reviewed, reviews_newest = _reviewed_incidents(state.reviews_until)
        days |= _incident_days(reviewed)
        if reviews_newest is not None:
            state.reviews_until = max(reviews_newest, state.reviews_until or reviews_newest)
        pages, state.page_id = _by_id(Page, state.page_id, "at", now)
        days |= _days(pages.annotate(d=TruncDate("at", tzinfo=UTC)).values_list("d", flat=True).distinct())
        if newest is not None:
            state.incidents_until = max(newest, state.incidents_until or newest)
        state.swept_at = now
        state.save()
        DirtyDay.objects.bulk_create(
            [DirtyDay(day=d, marked_at=now) for d in days], ignore_conflicts=True, batch_size=1000
        )
    return len(days)


# ---------------------------------------------------------------------------------------------------------------
# 2. rebuilding a day


@dataclass
class _Cell:
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, **amounts: Any) -> None:
        for name, amount in amounts.items():
            self.values[name] = self.values.get(name, 0) + amount


def _seconds(later: datetime | None, earlier: datetime) -> float:
    return (later - earlier).total_seconds() if later is not None else 0.0


def _incident_cells(day: date) -> tuple[list[IncidentCell], list[CategoryCell]]:
    start, end = _start(day), _start(day + ONE_DAY)
    rows = list(
        Incident.objects.filter(opened_at__gte=start, opened_at__lt=end, is_test=False)
        .order_by()
        .values_list(
            "pk",
            "team_id",
            "priority",
            "category_id",
            "is_private",
            "state",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
        )
    )
    ids = [r[0] for r in rows]
    services: dict[int, list[int]] = defaultdict(list)
    for incident_id, service_id in Incident.services.through.objects.filter(incident_id__in=ids).values_list(
        "incident_id", "service_id"
    ):
        services[incident_id].append(service_id)
    first_alert = dict(
        Alert.objects.filter(incident_id__in=ids)
        .values("incident_id")
        .annotate(m=Min(Coalesce("started_at", "first_seen")))  # the source's start when it gave one
        .values_list("incident_id", "m")
    )
    reviews = _review_amounts(ids)
    clocks: dict[int, list[tuple[str, str]]] = defaultdict(list)
    stopped = SlaClock.objects.filter(incident_id__in=ids, state__in=[ClockState.MET, ClockState.BREACHED])
    for incident_id, kind, state in stopped.values_list("incident_id", "kind", "state"):
        clocks[incident_id].append((kind, state))
    cells: dict[tuple[Any, ...], _Cell] = defaultdict(_Cell)
    categories: dict[tuple[Any, ...], int] = defaultdict(int)
    for pk, team_id, priority, category_id, private, state, opened, acked, resolved in rows:
        if state == State.CANCELED:
            amounts: dict[str, Any] = {"cancelled": 1}
        else:
            first = first_alert.get(pk)
            detected = first is not None and first <= opened
            amounts = {
                "incidents": 1,
                "acked": int(acked is not None),
                "ack_seconds": _seconds(acked, opened),
                "resolved": int(resolved is not None),
                "resolve_seconds": _seconds(resolved, opened),
                "detected": int(detected),
                "detect_seconds": (opened - first).total_seconds() if detected and first else 0.0,
            }
            if resolved is not None:
                amounts.update(reviews.get(pk, {}), reviewable=1)
            for kind, clock_state in clocks.get(pk, []):
                name = "response" if kind == ClockKind.RESPONSE else "resolution"
                outcome = "met" if clock_state == ClockState.MET else "breached"
                amounts[f"{name}_{outcome}"] = amounts.get(f"{name}_{outcome}", 0) + 1
            categories[(team_id, priority, category_id, private)] += 1
        linked: list[int | None] = list(sorted(services.get(pk, []))) or [None]
        for index, linked_id in enumerate(linked):
            cell = cells[(team_id, priority, linked_id, private, index == 0)]
            cell.add(**amounts)
            if state != State.CANCELED:
                first_opened = cell.values.get("first_opened")
                cell.values["first_opened"] = min(first_opened, opened) if first_opened else opened
                cell.values["last_opened"] = max(cell.values.get("last_opened") or opened, opened)
    incident_cells = [
        IncidentCell(day=day, team_id=t, priority=p, service_id=s, is_private=pr, primary=primary, **c.values)
        for (t, p, s, pr, primary), c in cells.items()
    ]
    category_cells = [
        CategoryCell(day=day, team_id=t, priority=p, category_id=c, is_private=pr, incidents=n)
        for (t, p, c, pr), n in categories.items()
    ]
    return incident_cells, category_cells


def _review_amounts(ids: list[int]) -> dict[int, dict[str, int]]:
    """Per incident: its postmortem state (published counts a major incident's postmortem that covers its
    children) and its action items (directly, or through its postmortem)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    own = dict(Postmortem.objects.filter(incident_id__in=ids).values_list("incident_id", "status"))
    covered = set(
        Incident.objects.filter(
            pk__in=ids,
            parent__postmortem__status=PostmortemStatus.PUBLISHED,
            parent__postmortem__covers_children=True,
        ).values_list("pk", flat=True)
    )
    for incident_id in ids:
        status = own.get(incident_id)
        if status == PostmortemStatus.PUBLISHED or incident_id in covered:
            out[incident_id]["pm_published"] = 1
        elif status == PostmortemStatus.IN_REVIEW:
            out[incident_id]["pm_in_review"] = 1
        elif status == PostmortemStatus.DRAFT:
            out[incident_id]["pm_draft"] = 1
    # an item linked to an incident belongs to it; one linked only to a postmortem, to the postmortem's incident
    items = ActionItem.objects.filter(
        Q(incident_id__in=ids) | Q(incident_id__isnull=True, postmortem__incident_id__in=ids)
    ).order_by()
    for direct, via, status, due, completed in items.values_list(
        "incident_id", "postmortem__incident_id", "status", "due_date", "completed_at"
    ):
        owner = direct if direct is not None else via
        counts = out[owner]
        counts["ai_total"] = counts.get("ai_total", 0) + 1
        if status == ActionItemStatus.DONE:
            counts["ai_done"] = counts.get("ai_done", 0) + 1
            if due is None or (completed is not None and completed.astimezone(UTC).date() <= due):
                counts["ai_done_on_time"] = counts.get("ai_done_on_time", 0) + 1
        elif status == ActionItemStatus.WONT_DO:
            counts["ai_wont_do"] = counts.get("ai_wont_do", 0) + 1
        else:
            counts["ai_open"] = counts.get("ai_open", 0) + 1
    return out


def _alert_cells(day: date) -> tuple[list[AlertCell], list[FlapCell]]:
    start, end = _start(day), _start(day + ONE_DAY)
    qs = Alert.objects.filter(first_seen__gte=start, first_seen__lt=end, is_test=False).order_by()
    earlier = Alert.objects.filter(incident_id=OuterRef("incident_id"), first_seen__lt=OuterRef("first_seen"))
    grouped = (
        qs.annotate(has_earlier=Exists(earlier))
        .values("integration_id", "service_id", "service__team_id", "incident__priority")
        .annotate(
            alerts=Count("pk"),
            triggers=Sum("count"),
            suppressed=Count("pk", filter=Q(suppressed=True)),
            on_incidents=Count("incident_id"),
            first_of_incident=Count("pk", filter=Q(incident_id__isnull=False, has_earlier=False)),
            unacted=Count("pk", filter=UNACTED),
        )
    )
    cells = [
        AlertCell(
            day=day,
            integration_id=g["integration_id"],
            service_id=g["service_id"],
            team_id=g["service__team_id"],
            priority=g["incident__priority"] or 0,
            alerts=g["alerts"],
            triggers=g["triggers"] or 0,
            suppressed=g["suppressed"],
            on_incidents=g["on_incidents"],
            first_of_incident=g["first_of_incident"],
            unacted=g["unacted"],
        )
        for g in grouped
    ]
    return cells, _flap_cells(day)


def _flap_cells(day: date) -> list[FlapCell]:
    """Keys with a burst closing on ``day``: the window looks back FLAP_WINDOW before midnight."""
    start, end = _start(day), _start(day + ONE_DAY)
    window = Window(
        Lag("first_seen", FLAP_ALERTS - 1),
        partition_by=[F("integration_id"), F("dedup_key")],
        order_by=F("first_seen").asc(),
    )
    near = Alert.objects.filter(
        first_seen__gte=start - FLAP_WINDOW, first_seen__lt=end, is_test=False
    ).order_by()
    # the day's own bounds are checked here, not in SQL: a plain condition would go under the window and
    # hide the hour before midnight from it
    closing = (
        near.annotate(earlier=window)
        .filter(earlier__gte=F("first_seen") - FLAP_WINDOW)
        .values_list("integration_id", "dedup_key", "first_seen")
    )
    flaps: dict[tuple[int, str], int] = defaultdict(int)
    for integration_id, dedup_key, seen in closing:
        if seen >= start:
            flaps[(integration_id, dedup_key)] += 1
    if not flaps:
        return []
    rows = [
        r
        for r in Alert.objects.filter(first_seen__gte=start, first_seen__lt=end, is_test=False)
        .values("integration_id", "dedup_key")
        .annotate(
            n=Count("pk"),
            first=Min("first_seen"),
            last=Max("first_seen"),
            priority=Max("incident__priority"),
            of_service=Max("service_id"),
            of_team=Max("service__team"),
        )
        .order_by()
        if (r["integration_id"], r["dedup_key"]) in flaps
    ]
    return [
        FlapCell(
            day=day,
            integration_id=r["integration_id"],
            service_id=r["of_service"],
            team_id=r["of_team"],
            priority=r["priority"] or 0,
            dedup_key=r["dedup_key"],
            alerts=r["n"],
            flaps=flaps[(r["integration_id"], r["dedup_key"])],
            first_at=r["first"],
            last_at=r["last"],
        )
        for r in rows
    ]


def _page_cells(day: date) -> list[PageCell]:
    start, end = _start(day), _start(day + ONE_DAY)
    rows = list(
        Page.objects.filter(at__gte=start, at__lt=end, incident__is_test=False)
        .order_by()
        .values_list(
            "user_id",
            "at",
            "reachable",
            "incident_id",
            "incident__team_id",
            "incident__priority",
            "incident__is_private",
        )
    )
    users = {r[0] for r in rows}
    windows = windows_of(users)
    zones: dict[int, ZoneInfo] = {
        pk: night_zone(zone, windows[pk].zone.key if pk in windows else None)
        for pk, zone in User.objects.filter(pk__in=users).values_list("pk", "time_zone")
    }
    services: dict[int, list[int]] = defaultdict(list)
    for incident_id, service_id in Incident.services.through.objects.filter(
        incident_id__in={r[3] for r in rows}
    ).values_list("incident_id", "service_id"):
        services[incident_id].append(service_id)
    cells: dict[tuple[Any, ...], _Cell] = defaultdict(_Cell)
    for user_id, at, reachable, incident_id, team_id, priority, private in rows:
        window = windows.get(user_id)
        amounts = {
            "pages": 1,
            "unreachable": int(not reachable),
            "judged": int(window is not None),
            "outside_hours": int(window is not None and not in_working_hours(window, at)),
            "night": int(is_night(at, zones.get(user_id, ZoneInfo("UTC")))),
        }
        linked: list[int | None] = list(sorted(services.get(incident_id, []))) or [None]
        for index, linked_id in enumerate(linked):
            cells[(user_id, team_id, priority, linked_id, private, index == 0)].add(**amounts)
    return [
        PageCell(
            day=day,
            user_id=u,
            team_id=t,
            priority=p,
            service_id=s,
            is_private=pr,
            primary=primary,
            **c.values,
        )
        for (u, t, p, s, pr, primary), c in cells.items()
    ]


def rebuild_day(day: date) -> None:
    """Compute every summary of ``day`` again from the live rows (one transaction)."""
    incident_cells, category_cells = _incident_cells(day)
    alert_cells, flap_cells = _alert_cells(day)
    page_cells = _page_cells(day)
    with transaction.atomic():
        IncidentCell.objects.filter(day=day).delete()
        IncidentCell.objects.bulk_create(incident_cells, batch_size=1000)
        CategoryCell.objects.filter(day=day).delete()
        CategoryCell.objects.bulk_create(category_cells, batch_size=1000)
        AlertCell.objects.filter(day=day).delete()
        AlertCell.objects.bulk_create(alert_cells, batch_size=1000)
        FlapCell.objects.filter(day=day).delete()
        FlapCell.objects.bulk_create(flap_cells, batch_size=1000)
        PageCell.objects.filter(day=day).delete()
        PageCell.objects.bulk_create(page_cells, batch_size=1000)
        DirtyDay.objects.filter(day=day).delete()


def rebuild_dirty(limit: int = DAYS_PER_RUN) -> int:
    """Rebuild up to ``limit`` dirty days, newest first; each is taken under a row lock (SKIP LOCKED), so two
    engines never rebuild the same day at once."""
    done = 0
    for _ in range(limit):
        with transaction.atomic():
            dirty = DirtyDay.objects.select_for_update(skip_locked=True).order_by("-day").first()
            if dirty is None:
                break
            rebuild_day(dirty.day)
        done += 1
    return done


def due(now: datetime) -> bool:
    state = SummaryState.objects.filter(pk=1).first()
    return state is None or state.swept_at is None or now - state.swept_at >= RUN_EVERY


def run(now: datetime) -> int:
    """The engine module's work: at most once per :data:`RUN_EVERY`, mark what changed, rebuild dirty days."""
    if not due(now) and not DirtyDay.objects.exists():
        return 0
    if due(now):
        mark_changes(now)
    return rebuild_dirty()


def rebuild_all(now: datetime) -> int:
    """Summaries from scratch: forget the watermarks, mark every day with data, rebuild them all."""
    with transaction.atomic():
        SummaryState.objects.filter(pk=1).delete()
        DirtyDay.objects.all().delete()
    mark_changes(now)
    days = 0
    while True:
        done = rebuild_dirty(limit=100)
        days += done
        if not done:
            return days
