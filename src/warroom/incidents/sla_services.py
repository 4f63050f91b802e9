"""Every write to SLAs: the clocks that follow an incident's life, the engine's warnings and breaches, and the
calendars and definitions organisation admins keep. The rules are written down in docs/sla.md.

Clock changes happen inside the transaction of the incident change that causes them (the receivers of
:mod:`warroom.incidents.signals`, connected in ``IncidentsConfig.ready``), under that incident's row lock; the
engine (:func:`advance_clocks`) takes the clock and incident rows ``FOR NO KEY UPDATE SKIP LOCKED``, so it never
waits on a person's change and a person's change waits for its batch. Every clock write is a compare-and-set on
``version``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.incidents import sla, sla_selectors
from warroom.incidents.models import (
    BusinessCalendar,
    ClockKind,
    ClockState,
    EntryKind,
    Incident,
    SlaClock,
    SlaDefinition,
    TimelineEntry,
)
from warroom.incidents.priority import Priority
from warroom.incidents.states import OPEN_STATES, HoldReason, State
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.notify import services as notify

ENGINE_SOURCE = "engine"
#: The timeline kind of SLA lines (field ``sla_response`` / ``sla_resolution``).
ENTRY_KIND = EntryKind.FIELD
ENGINE_BATCH = 100
ENGINE_MAX_BATCHES = 50
NAME_MAX = 100
TARGET_MAX_MINUTES = 366 * 24 * 60
LIVE = (ClockState.RUNNING, ClockState.PAUSED)

_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _cas(row: SlaClock, **values: Any) -> bool:
    """Compare-and-set ``values`` on the clock at the version we read; on success the instance follows."""
    updated = SlaClock.objects.filter(pk=row.pk, version=row.version).update(
        **values, version=F("version") + 1
    )
    if updated != 1:
        return False
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    return True


def _write(row: SlaClock, **values: Any) -> None:
    if not _cas(row, **values):  # pragma: no cover - the incident's row lock serialises writers
        raise Conflict("an SLA clock of this incident changed meanwhile; try again")


def _calendar(row: SlaClock) -> sla.Calendar | None:
    return sla_selectors.clock_calendar(row)


def _when(at: datetime | None, cal: sla.Calendar | None) -> str:
    if at is None:
        return "never (the calendar has no working time left)"
    local = at.astimezone(cal.zone if cal is not None else UTC)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def _label(row: SlaClock) -> str:
    return f"{ClockKind(row.kind).label} SLA"


def _terms(row: SlaClock | SlaDefinition) -> str:
    calendar = row.calendar.name if row.calendar is not None else "24×7"
    return f"{row.name!r}, {calendar}"


def _entry(
    row: SlaClock, *, at: datetime, message: str, new: str = "", source: str = ENGINE_SOURCE, field: str = ""
) -> None:
    """One SLA line on the incident's timeline (field ``sla_response``, ``sla_resolution``, or ``sla`` for both)."""
    TimelineEntry.objects.create(
        incident_id=row.incident_id,
        at=at,
        actor=None,
        source=source,
        kind=ENTRY_KIND,
        field=field or f"sla_{row.kind}",
        new_value=new,
        message=message,
    )


def _group(row: SlaClock) -> str:
    return f"sla:{row.pk}"


def _pauses(incident: Incident, pause_on: Iterable[str]) -> bool:
    return incident.state == State.ON_HOLD and incident.hold_reason in set(pause_on)


def _minutes(definition: SlaDefinition, kind: str) -> int | None:
    return definition.response_minutes if kind == ClockKind.RESPONSE else definition.resolution_minutes


def _live_locked(incident: Incident) -> list[SlaClock]:
    return list(
        SlaClock.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(incident_id=incident.pk, state__in=LIVE)
        .order_by("kind", "pk")
    )


def _planned(row: SlaClock, cal: sla.Calendar | None, running_since: datetime) -> sla.Plan:
    return sla.plan(
        cal,
        target=row.target,
        elapsed=row.elapsed,
        running_since=running_since,
        thresholds=row.thresholds,
        done=row.warnings_sent,
        breached=row.breached_at is not None,
        previous_due=row.due_at,
    )


# ---------------------------------------------------------------------------------------------------------------
# clock moves (called under the incident's lock)


def _new_clock(
    incident: Incident,
    definition: SlaDefinition,
    kind: str,
    at: datetime,
    *,
    elapsed: timedelta = sla.ZERO,
    breached_at: datetime | None = None,
) -> SlaClock:
    """A clock for ``definition``'s ``kind`` target, from ``at`` with ``elapsed`` already used (carried over).
    Thresholds already crossed by ``elapsed`` count as done: a replacement does not repeat old warnings."""
    minutes = _minutes(definition, kind)
    assert minutes is not None
    target = timedelta(minutes=minutes)
    thresholds = list(sla.parse_thresholds(definition.warning_thresholds))
    done = [p for p in thresholds if elapsed >= sla.threshold_amount(target, p)]
    row = SlaClock(
        incident=incident,
        definition=definition,
        kind=kind,
        name=definition.name,
        priority=definition.priority,
        target=target,
        calendar=definition.calendar,
        pause_on=sorted(set(definition.pause_on)),
        thresholds=thresholds,
        started_at=at,
        elapsed=elapsed,
        warnings_sent=done,
        breached_at=breached_at,
    )
    if _pauses(incident, row.pause_on):
        row.state, row.paused_since = ClockState.PAUSED, at
    else:
        plan = _planned(row, sla_selectors.calendar_for(definition.calendar), at)
        row.state, row.running_since = ClockState.RUNNING, at
        row.due_at, row.next_check_at = plan.due_at, plan.next_check_at
    row.save()
    return row


def _pause(row: SlaClock, at: datetime) -> None:
    cal = _calendar(row)
    elapsed = sla.elapsed_at(cal, elapsed=row.elapsed, running_since=row.running_since, at=at)
    _write(
        row,
        state=ClockState.PAUSED,
        elapsed=elapsed,
        running_since=None,
        paused_since=at,
        next_check_at=None,
        due_at=row.due_at if elapsed >= row.target else None,
    )


def _run_from(row: SlaClock, at: datetime, **extra: Any) -> None:
    plan = _planned(row, _calendar(row), at)
    _write(
        row,
        state=ClockState.RUNNING,
        running_since=at,
        paused_since=None,
        stopped_at=None,
        due_at=plan.due_at,
        next_check_at=plan.next_check_at,
        **extra,
    )


def _reached_target(row: SlaClock, at: datetime) -> bool:
    elapsed = sla.elapsed_at(_calendar(row), elapsed=row.elapsed, running_since=row.running_since, at=at)
    return elapsed >= row.target


def _stop(row: SlaClock, at: datetime, *, reason: str, cancel: bool = False) -> None:
    """Stop a live clock: cancelled, or met/breached by the business time it used (reaching the target is a
    breach). A breach nobody announced yet is put on the timeline now, without notifications; pending SLA
    notifications of the clock are withdrawn."""
    cal = _calendar(row)
    elapsed = sla.elapsed_at(cal, elapsed=row.elapsed, running_since=row.running_since, at=at)
    over = elapsed >= row.target
    state = ClockState.CANCELLED if cancel else ClockState.BREACHED if over else ClockState.MET
    breached_at = row.breached_at
    late_breach = state == ClockState.BREACHED and breached_at is None
    if late_breach:
        breached_at = row.due_at if row.due_at is not None and row.due_at <= at else at
    _write(
        row,
        state=state,
        elapsed=elapsed,
        running_since=None,
        paused_since=None,
        next_check_at=None,
        stopped_at=at,
        stop_reason=reason[:200],
        breached_at=breached_at,
    )
    notify.cancel_pending(group=_group(row), reason=f"{_label(row)} {state}: {reason}")
    if cancel:
        return
    used = f"{sla.format_duration(elapsed)} of {sla.format_duration(row.target)}"
    if state == ClockState.MET:
        _entry(row, at=at, new="met", message=f"{_label(row)} met ({reason}): {used} used.")
    else:
        _entry(
            row,
            at=at,
            new="breached",
            message=f"{_label(row)} breached ({reason}): {used} used; it was due {_when(breached_at, cal)}.",
        )


def _reopen(incident: Incident, at: datetime) -> None:
    """Reopening resumes the resolution clock where it stopped: the time the incident spent resolved does not
    count, warnings and a breach already announced are not repeated."""
    row = (
        SlaClock.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(
            incident_id=incident.pk,
            kind=ClockKind.RESOLUTION,
            state__in=[ClockState.MET, ClockState.BREACHED],
        )
        .order_by("-stopped_at", "-pk")
        .first()
    )
    if row is None:
        return
    _run_from(row, at, stop_reason="")
    left = row.target - row.elapsed
    status = (
        f"{sla.format_duration(left)} left, due {_when(row.due_at, _calendar(row))}"
        if left > sla.ZERO
        else "already past its target"
    )
    _entry(
        row,
        at=at,
        new="resumed",
        message=f"{_label(row)} resumes (reopened): {sla.format_duration(row.elapsed)} used, {status}.",
    )


def _start_message(rows: list[SlaClock], definition: SlaDefinition) -> str:
    parts = []
    for row in rows:
        verb = "respond" if row.kind == ClockKind.RESPONSE else "resolve"
        due = f"due {_when(row.due_at, _calendar(row))}" if row.due_at else "paused"
        parts.append(f"{verb} within {sla.format_duration(row.target)} ({due})")
    return f"SLA {_terms(definition)}: " + "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------------------------------
# what incident changes do to clocks (receivers of the incident signals)


def start_clocks(*, incident: Incident, at: datetime) -> list[SlaClock]:
    """Start the clocks of the definition that applies to a newly declared incident, from ``at``."""
    definition = sla_selectors.definition_for(incident)
    if definition is None:
        return []
    rows = [
        _new_clock(incident, definition, kind, at)
        for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION)
        if _minutes(definition, kind) is not None
        and (kind != ClockKind.RESPONSE or incident.acknowledged_at is None)
    ]
    if rows:
        _entry(rows[0], at=at, new="started", field="sla", message=_start_message(rows, definition))
    return rows


def apply_transition(*, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime) -> None:
    """Follow a state change: acknowledgement stops the response clock, resolution the resolution clock; On Hold
    pauses the clocks whose definition names the hold reason and leaving it resumes them; reopening resumes
    the resolution clock; cancelling the incident cancels every live clock."""
    live = _live_locked(incident)
    if to == State.CANCELED:
        for row in live:
            _stop(row, at, reason="incident cancelled", cancel=True)
        return
    for row in live:
        if row.kind == ClockKind.RESPONSE and acknowledged:
            _stop(row, at, reason="acknowledged")
        elif row.kind == ClockKind.RESPONSE and to == State.RESOLVED:
            # Resolved by the system (its alerts resolved) before anyone responded: not a response met in time.
            # A breach that happened stands; otherwise the clock is cancelled and counts neither way.
            _stop(row, at, reason="resolved before anyone acknowledged", cancel=not _reached_target(row, at))
        elif row.kind == ClockKind.RESOLUTION and to == State.RESOLVED:
            _stop(row, at, reason="resolved")
        elif to == State.ON_HOLD and row.state == ClockState.RUNNING and incident.hold_reason in row.pause_on:
            _pause(row, at)
        elif frm == State.ON_HOLD and to != State.ON_HOLD and row.state == ClockState.PAUSED:
            _run_from(row, at)
    if frm == State.RESOLVED and to == State.IN_PROGRESS:
        _reopen(incident, at)
        repick_clocks(incident=incident, at=at)


def repick_clocks(*, incident: Incident, at: datetime) -> None:
    """After a change of priority, team or services (and on reopen): if another definition applies now, each
    live clock is cancelled and replaced by one of the new definition that carries over the business time
    already used (measured on the old clock's calendar). A stopped clock is left alone. An open incident that
    had no clock of a kind gets one, from now, when the new definition has that target."""
    definition = sla_selectors.definition_for(incident)
    live = {row.kind: row for row in _live_locked(incident)}
    kept = set(
        SlaClock.objects.filter(incident_id=incident.pk)
        .exclude(state=ClockState.CANCELLED)
        .values_list("kind", flat=True)
    )
    started: list[SlaClock] = []
    for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION):
        wanted = definition is not None and _minutes(definition, kind) is not None
        row = live.get(kind)
        if row is not None:
            if definition is not None and row.definition_id == definition.pk:
                continue
            _replace(incident, row, definition if wanted else None, at)
        elif (
            wanted
            and definition is not None
            and kind not in kept
            and incident.state in OPEN_STATES
            and (kind != ClockKind.RESPONSE or incident.acknowledged_at is None)
        ):
            started.append(_new_clock(incident, definition, kind, at))
    if started and definition is not None:
        _entry(started[0], at=at, new="started", field="sla", message=_start_message(started, definition))


def _replace(incident: Incident, row: SlaClock, definition: SlaDefinition | None, at: datetime) -> None:
    cal = _calendar(row)
    elapsed = sla.elapsed_at(cal, elapsed=row.elapsed, running_since=row.running_since, at=at)
    old_terms = f"{_terms(row)}, {sla.format_duration(row.target)}"
    if definition is None:
        _stop(row, at, reason="no SLA definition applies any more", cancel=True)
        _entry(
            row,
            at=at,
            new="cancelled",
            message=f"{_label(row)} stopped: no definition applies any more ({old_terms}).",
        )
        return
    _stop(row, at, reason=f"replaced by {definition.name!r}", cancel=True)
    minutes = _minutes(definition, row.kind)
    assert minutes is not None
    target = timedelta(minutes=minutes)
    announced = row.breached_at if elapsed >= target else None
    new = _new_clock(incident, definition, row.kind, at, elapsed=elapsed, breached_at=announced)
    left = target - elapsed
    status = (
        f"{sla.format_duration(left)} left"
        if left > sla.ZERO
        else f"already {sla.format_duration(-left)} past the target"
    )
    _entry(
        new,
        at=at,
        new="replaced",
        message=(
            f"{_label(new)} now {_terms(new)}, {sla.format_duration(target)} (was {old_terms}): "
            f"{sla.format_duration(elapsed)} used carries over, {status}."
        ),
    )


def on_incident_declared(sender: Any, *, incident: Incident, at: datetime, **kwargs: Any) -> None:
    start_clocks(incident=incident, at=incident.opened_at)


def on_incident_transitioned(
    sender: Any, *, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime, **kwargs: Any
) -> None:
    apply_transition(incident=incident, frm=frm, to=to, acknowledged=acknowledged, at=at)


def on_incident_updated(
    sender: Any, *, incident: Incident, changed: frozenset[str], at: datetime, **kwargs: Any
) -> None:
    if changed & {"priority", "team", "services"}:
        repick_clocks(incident=incident, at=at)


# ---------------------------------------------------------------------------------------------------------------
# the engine: warnings and breaches, exactly once


def advance_clocks(*, now: datetime, limit: int = ENGINE_BATCH) -> int:
    """One batch, one transaction: take running clocks whose next check is due (clock and incident rows
    ``FOR NO KEY UPDATE SKIP LOCKED``), announce the most advanced threshold or breach each crossed, and record
    it with a compare-and-set together with its timeline line, audit row and outbox rows. Returns how many
    clocks were taken."""
    with transaction.atomic():
        due = list(
            SlaClock.objects.select_for_update(skip_locked=True, no_key=True, of=("self", "incident"))
            .select_related("incident", "incident__team", "incident__assignee", "calendar")
            .filter(state=ClockState.RUNNING, next_check_at__lte=now)
            .order_by("next_check_at", "pk")[:limit]
        )
        for row in due:
            _advance(row, now)
    return len(due)


def run_engine(now: datetime) -> int:
    """Every due clock, batch after batch (bounded per cycle), until a batch finds none it can take: another
    engine may hold some (skipped), and it handles them. Returns how many clocks were looked at."""
    total = 0
    for _ in range(ENGINE_MAX_BATCHES):
        taken = advance_clocks(now=now)
        total += taken
        if taken == 0:
            break
    return total


def _advance(row: SlaClock, now: datetime) -> None:
    cal = _calendar(row)
    elapsed = sla.elapsed_at(cal, elapsed=row.elapsed, running_since=row.running_since, at=now)
    events = sla.due_events(
        elapsed=elapsed,
        target=row.target,
        thresholds=row.thresholds,
        done=row.warnings_sent,
        breached=row.breached_at is not None,
    )
    done = sorted(set(row.warnings_sent) | set(events.mark))
    breached_at = row.breached_at
    if events.breach:
        breached_at = row.due_at if row.due_at is not None and row.due_at <= now else now
    assert row.running_since is not None
    plan = sla.plan(
        cal,
        target=row.target,
        elapsed=row.elapsed,
        running_since=row.running_since,
        thresholds=row.thresholds,
        done=done,
        breached=breached_at is not None,
        previous_due=row.due_at,
    )
    if not _cas(
        row, warnings_sent=done, breached_at=breached_at, due_at=plan.due_at, next_check_at=plan.next_check_at
    ):
        return  # another engine moved it first: it announced, not us
    if events.breach or events.fire is not None:
        _announce(row, now=now, elapsed=elapsed, percent=events.fire, cal=cal)


def recipients(incident: Incident) -> list[User]:
    """Who hears of SLA warnings and breaches: the assignee and the members of the assignment group."""
    people = list(accounts.team_people(incident.team))
    assignee = incident.assignee
    if assignee is not None and assignee.is_active and all(p.pk != assignee.pk for p in people):
        people.insert(0, assignee)
    return people


def _incident_url(incident: Incident) -> str:
    return settings.WARROOM_BASE_URL.rstrip("/") + reverse("web:incident-detail", args=[incident.ref])


def _announce(
    row: SlaClock, *, now: datetime, elapsed: timedelta, percent: int | None, cal: sla.Calendar | None
) -> None:
    incident = row.incident
    used = f"{sla.format_duration(elapsed)} of {sla.format_duration(row.target)} used"
    if percent is None:
        event, urgency = "breach", "high"
        headline = f"{_label(row)} breached"
        detail = f"{used}; it was due {_when(row.breached_at, cal)}"
    else:
        event, urgency = f"w{percent}", "low"
        headline = f"{_label(row)} at {percent}%"
        detail = f"{used}, {sla.format_duration(row.target - elapsed)} left, due {_when(row.due_at, cal)}"
    mark = incident.message_mark  # "[TEST] " for a test incident, as its pages begin
    reached: list[str] = []
    missed: list[str] = []
    for person in recipients(incident):
        result = notify.enqueue(
            user=person,
            urgency=urgency,
            subject=f"{mark}{incident.ref} {headline}: {incident.title}",
            body=f"{mark}{headline} on {incident.ref} {incident.title} ({Priority(row.priority).label}, "
            f"{_terms(row)}): {detail}.",
            context={
                "url": _incident_url(incident),
                "incident": incident.ref,
                "sla": row.kind,
                "event": event,
            },
            dedup_key=f"sla:{row.pk}:{event}:{person.pk}",
            group=_group(row),
        )
        (reached if result.reachable else missed).append(person.display_name)
    told = f" Notified {', '.join(reached)}." if reached else " Nobody could be notified."
    if missed:
        told += f" Not reachable: {', '.join(missed)}."
    _entry(
        row,
        at=now,
        new="breached" if percent is None else f"{percent}%",
        message=f"{headline}: {detail}.{told}",
    )
    Incident.objects.filter(pk=incident.pk).update(updated_at=now)
    audit.record(
        actor=None,
        source=ENGINE_SOURCE,
        action="incident.sla.breach" if percent is None else "incident.sla.warning",
        obj=incident,
        after={"clock": row.pk, "kind": row.kind, "event": event, "notified": reached, "unreachable": missed},
    )


# ---------------------------------------------------------------------------------------------------------------
# calendars (organisation admins)


def _require_org_admin(actor: User | None, what: str) -> None:
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied(f"only organisation admins {what}")


def check_can_configure(actor: User | None) -> None:
    """Refuse (403) anyone but organisation admins (and the system) before a calendar or definition write."""
    _require_org_admin(actor, "configure SLAs")


def _clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("the name must not be empty", field="name")
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"the name is at most {NAME_MAX} characters (got {len(name)})", field="name")
    return name


def _calendar_snapshot(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "working_hours": calendar.working_hours,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "custom_holidays": calendar.custom_holidays,
    }


def _normalise_calendar(calendar: BusinessCalendar) -> None:
    calendar.name = _clean_name(calendar.name)
    try:
        sla.parse_zone(calendar.time_zone)
        week = sla.parse_hours(calendar.working_hours)
        country, subdivision = sla.check_country(calendar.holiday_country, calendar.holiday_subdivision)
        custom = sla.parse_custom_holidays(calendar.custom_holidays)
    except sla.CalendarError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None
    calendar.working_hours = sla.format_hours(week)
    calendar.holiday_country, calendar.holiday_subdivision = country, subdivision
    calendar.custom_holidays = [d.isoformat() for d in custom]


def save_calendar(*, calendar: BusinessCalendar, actor: User | None, source: str) -> BusinessCalendar:
    """Create or update ``calendar`` (an unsaved or changed instance). Running clocks on it take the change
    from now on: the business time they used so far is measured with the old calendar and kept."""
    _require_org_admin(actor, "edit business calendars")
    _normalise_calendar(calendar)
    now = clock.now()
    try:
        with transaction.atomic():
            old = (
                BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
                if calendar.pk is not None
                else None
            )
            calendar.updated_at = now
            if old is None:
                calendar.created_at = now
            calendar.save()
            if old is not None:
                _checkpoint_clocks(old, calendar, now)
            audit.record(
                actor=actor,
                source=source,
                action="sla.calendar.update" if old is not None else "sla.calendar.create",
                obj=calendar,
                before=_calendar_snapshot(old) if old is not None else None,
                after=_calendar_snapshot(calendar),
            )
    except IntegrityError:
        raise Conflict(f"a business calendar named {calendar.name!r} already exists", field="name") from None
    return calendar


def _checkpoint_clocks(old: BusinessCalendar, new: BusinessCalendar, now: datetime) -> None:
    """Running clocks on the calendar: bank what they used under the old hours, re-plan with the new ones."""
    incident_ids = list(
        SlaClock.objects.filter(calendar_id=new.pk, state=ClockState.RUNNING)
        .values_list("incident_id", flat=True)
        .distinct()
    )
    if not incident_ids:
        return
    list(Incident.objects.select_for_update().filter(pk__in=incident_ids).order_by("pk").values_list("pk"))
    before, after = sla_selectors.calendar_for(old), sla_selectors.calendar_for(new)
    rows = SlaClock.objects.select_for_update().filter(calendar_id=new.pk, state=ClockState.RUNNING)
    for row in rows:
        row.elapsed = sla.elapsed_at(before, elapsed=row.elapsed, running_since=row.running_since, at=now)
        plan = _planned(row, after, now)
        _write(
            row,
            elapsed=row.elapsed,
            running_since=now,
            due_at=plan.due_at,
            next_check_at=plan.next_check_at,
        )


def create_calendar(
    *,
    actor: User | None,
    source: str,
    name: str,
    time_zone: str = "UTC",
    working_hours: dict[str, Any] | None = None,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    custom_holidays: list[Any] | None = None,
) -> BusinessCalendar:
    calendar = BusinessCalendar(
        name=name,
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        custom_holidays=list(custom_holidays or []),
    )
    if working_hours is not None:
        calendar.working_hours = working_hours
    return save_calendar(calendar=calendar, actor=actor, source=source)


def update_calendar(
    *,
    calendar: BusinessCalendar,
    actor: User | None,
    source: str,
    name: str = _UNSET,
    time_zone: str = _UNSET,
    working_hours: dict[str, Any] = _UNSET,
    holiday_country: str = _UNSET,
    holiday_subdivision: str = _UNSET,
    custom_holidays: list[Any] = _UNSET,
) -> BusinessCalendar:
    """Change the fields given; the rest stay."""
    fresh = BusinessCalendar.objects.get(pk=calendar.pk)
    changes = {
        "name": name,
        "time_zone": time_zone,
        "working_hours": working_hours,
        "holiday_country": holiday_country,
        "holiday_subdivision": holiday_subdivision,
        "custom_holidays": custom_holidays,
    }
    for key, value in changes.items():
        if value is not _UNSET:
            setattr(fresh, key, value)
    return save_calendar(calendar=fresh, actor=actor, source=source)


def delete_calendar(*, calendar: BusinessCalendar, actor: User | None, source: str) -> None:
    """Delete a calendar no definition and no clock uses (clocks keep their calendar for good)."""
    _require_org_admin(actor, "delete business calendars")
    with transaction.atomic():
        users = list(SlaDefinition.objects.filter(calendar=calendar).values_list("name", flat=True)[:5])
        if users:
            raise Conflict(
                f"calendar {calendar.name!r} is used by SLA definitions: {', '.join(users)}", field="calendar"
            )
        if SlaClock.objects.filter(calendar=calendar).exists():
            raise Conflict(
                f"calendar {calendar.name!r} has measured SLA clocks and is kept for them; rename it instead",
                field="calendar",
            )
        audit.record(
            actor=actor,
            source=source,
            action="sla.calendar.delete",
            obj=calendar,
            before=_calendar_snapshot(calendar),
        )
        calendar.delete()


# ---------------------------------------------------------------------------------------------------------------
# definitions (organisation admins)


def _definition_snapshot(definition: SlaDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "priority": definition.priority,
        "service": definition.service_id,
        "team": definition.team_id,
        "response_minutes": definition.response_minutes,
        "resolution_minutes": definition.resolution_minutes,
        "calendar": definition.calendar_id,
        "pause_on": definition.pause_on,
        "warning_thresholds": definition.warning_thresholds,
        "is_active": definition.is_active,
    }


def _check_minutes(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= TARGET_MAX_MINUTES:
        raise ValidationFailed(
            f"{field} is a whole number of minutes from 1 to {TARGET_MAX_MINUTES}", field=field
        )
    return value


def _normalise_definition(definition: SlaDefinition) -> None:
    definition.name = _clean_name(definition.name)
    if definition.priority not in Priority.values or isinstance(definition.priority, bool):
        raise ValidationFailed("priority must be 1 to 5", field="priority")
    if definition.service_id is not None and definition.team_id is not None:
        raise ValidationFailed("a definition applies to a service or to a team, not both", field="team")
    definition.response_minutes = _check_minutes(definition.response_minutes, "response_minutes")
    definition.resolution_minutes = _check_minutes(definition.resolution_minutes, "resolution_minutes")
    if definition.response_minutes is None and definition.resolution_minutes is None:
        raise ValidationFailed(
            "give a response target, a resolution target or both (minutes)", field="resolution_minutes"
        )
    pause_on = definition.pause_on
    if not isinstance(pause_on, list | tuple) or any(r not in HoldReason.values for r in pause_on):
        raise ValidationFailed(
            f"pause_on is a list of hold reasons: {', '.join(HoldReason.values)}", field="pause_on"
        )
    definition.pause_on = sorted(set(pause_on))
    try:
        definition.warning_thresholds = list(sla.parse_thresholds(definition.warning_thresholds))
    except sla.CalendarError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None
    if not isinstance(definition.is_active, bool):
        raise ValidationFailed("is_active must be true or false", field="is_active")


def _scope_text(definition: SlaDefinition) -> str:
    if definition.service is not None:
        return f"service {definition.service.name}"
    if definition.team is not None:
        return f"team {definition.team.name}"
    return "all teams"


def _check_unique(definition: SlaDefinition) -> None:
    if not definition.is_active:
        return
    scope = Q(service__isnull=True) if definition.service_id is None else Q(service_id=definition.service_id)
    scope &= Q(team__isnull=True) if definition.team_id is None else Q(team_id=definition.team_id)
    clash = SlaDefinition.objects.filter(scope, is_active=True, priority=definition.priority).exclude(
        pk=definition.pk
    )
    other = clash.first()
    if other is not None:
        raise Conflict(
            f"{other.name!r} is already the active definition for P{definition.priority} and "
            f"{_scope_text(definition)}; deactivate it first",
            field="priority",
        )


def save_definition(*, definition: SlaDefinition, actor: User | None, source: str) -> SlaDefinition:
    """Create or update ``definition``. It applies to incidents declared afterwards and to incidents whose
    priority, team or services change; running clocks keep the terms they started with."""
    _require_org_admin(actor, "edit SLA definitions")
    _normalise_definition(definition)
    now = clock.now()
    try:
        with transaction.atomic():
            old = (
                SlaDefinition.objects.select_for_update().filter(pk=definition.pk).first()
                if definition.pk is not None
                else None
            )
            _check_unique(definition)
            definition.updated_at = now
            if old is None:
                definition.created_at = now
            definition.save()
            audit.record(
                actor=actor,
                source=source,
                action="sla.definition.update" if old is not None else "sla.definition.create",
                obj=definition,
                before=_definition_snapshot(old) if old is not None else None,
                after=_definition_snapshot(definition),
            )
    except IntegrityError:
        raise Conflict(
            f"another active definition already covers P{definition.priority} and {_scope_text(definition)}",
            field="priority",
        ) from None
    return definition


def create_definition(
    *,
    actor: User | None,
    source: str,
    name: str,
    priority: int,
    service: Service | None = None,
    team: Team | None = None,
    response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    calendar: BusinessCalendar | None = None,
    pause_on: list[str] | None = None,
    warning_thresholds: list[int] | None = None,
    is_active: bool = True,
) -> SlaDefinition:
    definition = SlaDefinition(
        name=name,
        priority=priority,
        service=service,
        team=team,
        response_minutes=response_minutes,
        resolution_minutes=resolution_minutes,
        calendar=calendar,
        is_active=is_active,
    )
    if pause_on is not None:
        definition.pause_on = pause_on
    if warning_thresholds is not None:
        definition.warning_thresholds = warning_thresholds
    return save_definition(definition=definition, actor=actor, source=source)


def update_definition(
    *,
    definition: SlaDefinition,
    actor: User | None,
    source: str,
    **changes: Any,
) -> SlaDefinition:
    """Change the fields given (names as in :func:`create_definition`); the rest stay."""
    allowed = {
        "name",
        "priority",
        "service",
        "team",
        "response_minutes",
        "resolution_minutes",
        "calendar",
        "pause_on",
        "warning_thresholds",
        "is_active",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", field=unknown[0])
    fresh = SlaDefinition.objects.select_related("service", "team", "calendar").get(pk=definition.pk)
    for key, value in changes.items():
        setattr(fresh, key, value)
    return save_definition(definition=fresh, actor=actor, source=source)


def delete_definition(*, definition: SlaDefinition, actor: User | None, source: str) -> None:
    """Delete a definition. Clocks it started run on to the end with the terms they started with."""
    _require_org_admin(actor, "delete SLA definitions")
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="sla.definition.delete",
            obj=definition,
            before=_definition_snapshot(definition),
        )
        definition.delete()
