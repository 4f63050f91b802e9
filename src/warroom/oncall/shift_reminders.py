"""Shift reminders (engine module ``oncall.shift_reminders``): one low-urgency notification to each person who asked
for them ("Before my on-call shifts", :class:`warroom.notify.models.ShiftReminderSetting`), that long before each of
their on-call shifts starts.

A shift here is a person's unbroken stretch on call on one schedule, as the calendar feeds show it: two layers
back to back, or an override that continues a layer shift, are one shift and one reminder. An override puts its
person on call, so they are the one reminded, not the person it replaces.

The registry runs the module at most once every :data:`RUN_EVERY` (final schedules cost). Each run

1. reads who asked (one query) and which schedules name them, in a layer or in an override close enough (two);
2. computes each such schedule's final schedule from just before now to the longest lead time of its people, and
   keeps the shifts of people who asked that start after now and whose reminder time has come
   (start − lead ≤ now);
3. leaves out the shifts whose reminder is in the outbox already (looked up by its group), and for each of the
   others works out the shift's end (looking up to :data:`END_HORIZON` past its start) and enqueues the reminder
   through :func:`warroom.notify.services.enqueue`, one transaction each, with the dedup key and group
   ``oncall.shift:<schedule>:<person>:<start>``: a redone run, a second engine or a restart sends nothing twice.

A reminder whose time passed while no engine ran goes late, as long as the shift has not started, and says how
soon it starts; once the shift has started, nothing is sent. A person whose low-urgency rules reach nowhere gets
nothing, and is looked at again next run (a rule added before the shift starts still brings the reminder).

A reminder can wait in the outbox after it is queued (a rule's delay, a rule held for working hours). Before
anything else, each run withdraws (:func:`withdraw_stale`) the waiting reminders whose shift is no longer on the
schedule as planned: the schedule was deleted, or the final schedule no longer has a stretch of that person
starting at that instant (an override took the shift, a layer changed, the stretch now starts earlier or later).
Their outbox rows are cancelled (:func:`warroom.notify.services.cancel_pending`) with a note saying why, so the
person's notification log shows them; the module runs before ``notify.send`` in a cycle, so a reminder withdrawn
in a cycle is never sent in it. A change made less than :data:`RUN_EVERY` before a waiting reminder falls due can
still let it go out (the next run has not looked yet). A shift that moved gets its own reminder, under its own
key, as any shift does. Only the person and the start are checked: a stretch that now ends at another time keeps
its reminder, which names the end as it was.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from warroom.accounts.models import User
from warroom.notify import selectors as notify_selectors
from warroom.notify import services as notify
from warroom.notify.models import Message, Status
from warroom.notify.working_hours import zone_or_none
from warroom.oncall import rotation, selectors
from warroom.oncall.models import LayerMember, Override, Schedule

#: how often the engine module runs at most (across all engines)
RUN_EVERY = timedelta(minutes=1)
#: the schedule is computed from this far before now, so a shift in progress shows its real start (before now)
LOOKBACK = timedelta(minutes=1)
#: how far past its start a shift's end is looked for; a longer shift "runs more than 8 days"
END_HORIZON = timedelta(days=8)
#: a reminder sent within this of its time names the chosen lead ("in 1 h"), a later one the time really left
ON_TIME = timedelta(minutes=2)

ONE_MINUTE = timedelta(minutes=1)

#: how every reminder's dedup key and group begin (``oncall.shift:<schedule>:<person>:<start>``)
KEY_PREFIX = "oncall.shift:"
#: the note of a waiting reminder withdrawn because its shift changed, by what happened
WITHDRAWN_SCHEDULE_GONE = "withdrawn before it was sent: the schedule was deleted"
WITHDRAWN_SHIFT_GONE = "withdrawn before it was sent: the shift was removed or moved (other person or start)"


@dataclass(frozen=True)
class Due:
    """A shift whose reminder is due: ``user_id`` goes on call on ``schedule`` at ``start``; they asked to be told
    ``lead`` before."""

    schedule: Schedule
    user_id: int
    start: datetime
    lead: timedelta

    @property
    def key(self) -> str:
        """The reminder's dedup key and group: one per (schedule, person, shift start)."""
        return f"{KEY_PREFIX}{self.schedule.pk}:{self.user_id}:{self.start.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class Planned:
    """What a reminder's key says it is about: ``user_id``'s stretch on call on schedule ``schedule_id`` that
    starts at ``start``."""

    key: str
    schedule_id: int
    user_id: int
    start: datetime


def planned(key: str) -> Planned | None:
    """The shift a reminder's key (:attr:`Due.key`) names; None for a key not made by :attr:`Due.key`."""
    parts = key.removeprefix(KEY_PREFIX).split(":", 2)
    if not key.startswith(KEY_PREFIX) or len(parts) != 3:
        return None
    schedule_id, user_id, start = parts
    try:
        when = datetime.fromisoformat(start)
        return Planned(key, int(schedule_id), int(user_id), when) if when.tzinfo is not None else None
    except ValueError:
        return None


def run(now: datetime) -> int:
    """Withdraw the waiting reminders whose shift changed (:func:`withdraw_stale`), then enqueue the reminders
    that are due at ``now`` and not in the outbox yet; returns how many reached someone."""
    withdraw_stale()
    leads = {
        user_id: timedelta(minutes=minutes)
        for user_id, minutes in notify_selectors.people_wanting_shift_reminders().items()
    }
    if not leads:
        return 0
    due = [
        d for schedule, people in _schedules_naming(leads, now) for d in due_on(schedule, people, leads, now)
    ]
    sent = notify_selectors.groups_with_messages(d.key for d in due)
    todo = [d for d in due if d.key not in sent]
    if not todo:
        return 0
    people = selectors.people_by_id(d.user_id for d in todo)
    by_schedule: dict[int, list[Due]] = defaultdict(list)
    for d in todo:
        by_schedule[d.schedule.pk].append(d)
    reached = 0
    for items in by_schedule.values():
        runs = _runs_from(items[0].schedule, max(d.start for d in items) + END_HORIZON, now)
        for d in items:
            stretch, person = runs.get((d.user_id, d.start)), people.get(d.user_id)
            if stretch is None or person is None:  # the schedule changed in between: the next run looks again
                continue
            with transaction.atomic():
                reached += remind(d, stretch, person, now)
    return reached


def withdraw_stale() -> int:
    """Cancel the reminders still waiting in the outbox (pending) whose shift is no longer on the schedule as their
    key says: the schedule is gone, or its final schedule has no stretch of that person starting at that instant.
    One final schedule per schedule with waiting reminders, over just the instants they name. Each withdrawal is
    one :func:`~warroom.notify.services.cancel_pending` of the reminder's group, which leaves alone a message the
    sender has already taken. Returns how many outbox rows were cancelled."""
    waiting = (
        Message.objects.filter(group__startswith=KEY_PREFIX, status=Status.PENDING)
        .order_by()
        .values_list("group", flat=True)
        .distinct()
    )
    by_schedule: dict[int, list[Planned]] = defaultdict(list)
    for key in waiting:
        plan = planned(key)
        if plan is not None:
            by_schedule[plan.schedule_id].append(plan)
    if not by_schedule:
        return 0
    schedules = Schedule.objects.in_bulk(list(by_schedule))
    withdrawn = 0
    for schedule_id, plans in sorted(by_schedule.items()):
        schedule = schedules.get(schedule_id)
        if schedule is None:
            stale, why = plans, WITHDRAWN_SCHEDULE_GONE
        else:
            starts = _run_starts(schedule, min(p.start for p in plans), max(p.start for p in plans))
            stale, why = [p for p in plans if (p.user_id, p.start) not in starts], WITHDRAWN_SHIFT_GONE
        for plan in stale:
            withdrawn += notify.cancel_pending(group=plan.key, reason=why)
    return withdrawn


def _run_starts(schedule: Schedule, first: datetime, last: datetime) -> set[tuple[int, datetime]]:
    """(person, start) of every stretch on call on ``schedule`` that starts within ``[first, last]``, from a final
    schedule that begins :data:`LOOKBACK` before ``first``, so a stretch already running then does not seem to
    start at ``first``."""
    final = selectors.final_schedule(schedule, start=first - LOOKBACK, end=last + LOOKBACK)
    return {
        (run[0].user_id, run[0].start)
        for run in rotation.consecutive_runs(final.shifts)
        if first <= run[0].start <= last
    }


def _schedules_naming(leads: dict[int, timedelta], now: datetime) -> list[tuple[Schedule, set[int]]]:
    """The schedules that may put someone of ``leads`` on call within their lead time, each with those people:
    the schedules they are in a layer of, or have an override on that is not over and starts soon enough."""
    longest = max(leads.values())
    involved: dict[int, set[int]] = defaultdict(set)
    members = LayerMember.objects.filter(user_id__in=list(leads)).values_list("layer__schedule_id", "user_id")
    overriding = Override.objects.filter(
        user_id__in=list(leads), end__gt=now, start__lt=now + longest + LOOKBACK
    ).values_list("schedule_id", "user_id")
    for schedule_id, user_id in [*members, *overriding]:
        involved[schedule_id].add(user_id)
    schedules = Schedule.objects.select_related("team").in_bulk(list(involved))
    return [(schedules[pk], involved[pk]) for pk in sorted(involved) if pk in schedules]


def due_on(schedule: Schedule, people: set[int], leads: dict[int, timedelta], now: datetime) -> list[Due]:
    """The shifts of ``people`` on ``schedule`` that start after ``now`` and whose reminder time (start − the
    person's lead) is at or before ``now``."""
    ahead = max(leads[user_id] for user_id in people)
    final = selectors.final_schedule(schedule, start=now - LOOKBACK, end=now + ahead + LOOKBACK)
    found = []
    for stretch in rotation.consecutive_runs(s for s in final.shifts if s.user_id in people):
        first = stretch[0]
        lead = leads[first.user_id]
        if now < first.start and first.start - lead <= now:
            found.append(Due(schedule, first.user_id, first.start, lead))
    return found


Stretches = dict[tuple[int, datetime], Sequence[rotation.Shift]]


def _runs_from(schedule: Schedule, until: datetime, now: datetime) -> Stretches:
    """Every person's stretches on call on ``schedule`` from just before ``now`` to ``until``, by (person, start)."""
    final = selectors.final_schedule(schedule, start=now - LOOKBACK, end=until)
    return {(run[0].user_id, run[0].start): run for run in rotation.consecutive_runs(final.shifts)}


def remind(d: Due, stretch: Sequence[rotation.Shift], person: User, now: datetime) -> bool:
    """Enqueue the reminder of ``d`` (whose whole stretch on call is ``stretch``) to ``person``, in the caller's
    transaction; True when some rule of theirs will send it."""
    schedule = d.schedule
    end = rotation.run_end(stretch)
    left = d.start - now
    late = left < d.lead - ON_TIME
    lead_words = lead_text(left if late else d.lead)
    url = settings.WARROOM_BASE_URL.rstrip("/") + reverse("oncall-schedule-detail", args=[schedule.pk])
    result = notify.enqueue(
        user=person,
        urgency="low",
        subject=f"On call in {lead_words}: {schedule.name}",
        body=_body(d, stretch, person, end, lead_words=lead_words, late=late, url=url),
        context={
            "url": url,
            "schedule": schedule.pk,
            "shift_start": d.start.isoformat(),
            "shift_end": end.isoformat() if end < d.start + END_HORIZON else None,
        },
        dedup_key=d.key,
        group=d.key,
    )
    return result.reachable


def lead_text(left: timedelta) -> str:
    """How long until the shift, in the words of the subject: ``15 min``, ``1 h``, ``3 h 20 min``, ``1 day``;
    rounded up to the minute (a shift 30 seconds away is "in 1 min", not "in 0 min")."""
    minutes = max(1, math.ceil(left / ONE_MINUTE))
    if minutes < 60:
        return f"{minutes} min"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days > 1 else ''}"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


def _at(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %Y-%m-%d %H:%M}"


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``Mon 2026-03-02 09:00 to Tue 2026-03-03 09:00 (America/Chicago)``; a shift longer than the horizon has
    no end to tell."""
    if end >= start + END_HORIZON:
        return f"from {_at(start, zone)} ({zone.key}), for more than {END_HORIZON.days} days"
    return f"{_at(start, zone)} to {_at(end, zone)} ({zone.key})"


def _body(
    d: Due,
    stretch: Sequence[rotation.Shift],
    person: User,
    end: datetime,
    *,
    lead_words: str,
    late: bool,
    url: str,
) -> str:
    schedule = d.schedule
    zone = selectors.zone_of(schedule)
    lines = [
        f"You go on call on {schedule.name} ({schedule.team.name}) in {lead_words}.",
        f"Shift: {_span(d.start, end, zone)}",
    ]
    own = zone_or_none(person.time_zone)
    if own is not None and own.key != zone.key:
        lines.append(f"Your time: {_span(d.start, end, own)}")
    lines.extend(_overrides(stretch))
    if late:
        lines.append(
            f"This reminder comes later than the {lead_text(d.lead)} you asked for: the shift was set up, or "
            "Warroom could not send reminders, after that time."
        )
    lines.append(f"Schedule: {url}")
    return "\n".join(lines)


def _overrides(stretch: Iterable[rotation.Shift]) -> list[str]:
    """A line per override in the stretch: who set it and whom it replaces, so a swap is no surprise."""
    ids = [s.override_id for s in stretch if s.override_id is not None]
    if not ids:
        return []
    lines = []
    for o in (
        Override.objects.filter(pk__in=ids).select_related("replaces", "created_by").order_by("start", "id")
    ):
        instead = f" in place of {o.replaces.display_name}" if o.replaces is not None else ""
        by = f" (set by {o.created_by.display_name})" if o.created_by is not None else ""
        note = f": {o.note}" if o.note else ""
        lines.append(f"Includes an override{instead}{by}{note}.")
    return lines
