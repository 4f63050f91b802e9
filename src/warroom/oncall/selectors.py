"""Reads of on-call schedules, scoped to the teams a user belongs to, and the bridge from rows to the pure
computation in :mod:`warroom.oncall.rotation`.

Another team's schedule (or its layers, overrides and feeds) is a :class:`NotFound`, never a refusal that would
confirm it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import ACTING_ROLES, Membership, Role, User
from warroom.lib import clock, tokens
from warroom.lib.errors import NotFound
from warroom.lib.ids import as_id
from warroom.notify import selectors as notify_selectors
from warroom.oncall import rotation
from warroom.oncall.models import (
    CalendarFeed,
    EscalationPolicy,
    EscalationStep,
    FeedKind,
    Layer,
    LayerMember,
    LengthUnit,
    Override,
    Restriction,
    RotationKind,
    Schedule,
    ServicePolicy,
    StepTarget,
    TargetKind,
)

#: How far ahead the schedule page and the schedule's warnings look.
WARNING_HORIZON = timedelta(days=14)


# ---------------------------------------------------------------------------------------------------------------
# time zones


def zone_of(schedule: Schedule) -> ZoneInfo:
    return ZoneInfo(schedule.time_zone)


# ---------------------------------------------------------------------------------------------------------------
# scoping


def visible_schedules(user: User) -> QuerySet[Schedule]:
    qs = Schedule.objects.select_related("team")
    if user.is_org_admin:
        return qs
    return qs.filter(team_id__in=accounts.team_ids(user))


def get_schedule_for_user_or_404(user: User, *, key: int | str) -> Schedule:
    """A schedule by id, if ``user`` may see it; otherwise :class:`NotFound`."""
    schedule = visible_schedules(user).filter(pk=ident).first() if (ident := as_id(key)) is not None else None
    if schedule is None:
        raise NotFound(f"schedule {key!r} not found")
    return schedule


def layers_of(schedule: Schedule) -> QuerySet[Layer]:
    members = LayerMember.objects.select_related("user").order_by("position")
    return (
        Layer.objects.filter(schedule=schedule)
        .prefetch_related(Prefetch("members", queryset=members), "restrictions")
        .order_by("-priority", "id")
    )


def get_layer_or_404(schedule: Schedule, *, layer_id: int | str) -> Layer:
    """A layer of ``schedule`` (already scoped by :func:`get_schedule_for_user_or_404`)."""
    layer = layers_of(schedule).filter(pk=ident).first() if (ident := as_id(layer_id)) is not None else None
    if layer is None:
        raise NotFound(f"layer {layer_id!r} not found in this schedule")
    return layer


def overrides_of(
    schedule: Schedule, *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Override]:
    """Overrides of ``schedule`` that overlap ``[start, end)`` (either bound may be left out), by start."""
    qs = Override.objects.filter(schedule=schedule).select_related("user", "replaces", "created_by")
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    return qs.order_by("start", "id")


def get_override_or_404(schedule: Schedule, *, override_id: int | str) -> Override:
    found = (
        overrides_of(schedule).filter(pk=ident).first() if (ident := as_id(override_id)) is not None else None
    )
    if found is None:
        raise NotFound(f"override {override_id!r} not found in this schedule")
    return found


def team_people_ids(schedule: Schedule) -> set[int]:
    return set(Membership.objects.filter(team_id=schedule.team_id).values_list("user_id", flat=True))


def on_call_people(team_id: int) -> QuerySet[User]:
    """Who the team may put on call (a rotation, an override, an escalation step): its active members who can act
    on incidents (admins, managers, responders; not observers), by name. The services apply the same rule."""
    return User.objects.filter(
        memberships__team_id=team_id, memberships__role__in=list(ACTING_ROLES), is_active=True
    ).order_by("full_name", "email")


def get_team_person_or_404(schedule: Schedule, *, key: int | str) -> User:
    """An active member of the schedule's team by id or email: the people who can be put on its rotations."""
    people = accounts.team_people(schedule.team)
    key = key.strip() if isinstance(key, str) else key
    person = (
        people.filter(pk=ident).first()
        if (ident := as_id(key)) is not None
        else people.filter(email__iexact=str(key)).first()
    )
    if person is None:
        raise NotFound(f"{key!r} is not an active member of {schedule.team.name}")
    return person


def get_replaceable_person_or_404(schedule: Schedule, *, key: int | str) -> User:
    """Someone an override may stand in for: a member of the schedule's team or a participant of its layers
    (even one who has since left the team or been deactivated: that is when a stand-in is needed most)."""
    involved = Q(memberships__team_id=schedule.team_id) | Q(
        pk__in=LayerMember.objects.filter(layer__schedule=schedule).values("user_id")
    )
    people = User.objects.filter(involved).distinct()
    key = key.strip() if isinstance(key, str) else key
    person = (
        people.filter(pk=ident).first()
        if (ident := as_id(key)) is not None
        else people.filter(email__iexact=str(key)).first()
    )
    if person is None:
        raise NotFound(f"{key!r} is not a member of {schedule.team.name} or on this schedule")
    return person


# ---------------------------------------------------------------------------------------------------------------
# rows → the pure computation


def rotation_unit(layer: Layer) -> tuple[rotation.Unit, int]:
    """(unit, count) of one shift: hourly → hours, daily → days, weekly → 7 × days, custom → its unit."""
    kind = layer.rotation_kind
    if kind == RotationKind.HOURLY:
        return rotation.Unit.HOURS, layer.shift_length
    if kind == RotationKind.DAILY:
        return rotation.Unit.DAYS, layer.shift_length
    if kind == RotationKind.WEEKLY:
        return rotation.Unit.DAYS, 7 * layer.shift_length
    unit = rotation.Unit.HOURS if layer.custom_unit == LengthUnit.HOURS else rotation.Unit.DAYS
    return unit, layer.shift_length


def days_from_mask(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def mask_from_days(days: Iterable[int]) -> int:
    return sum(1 << day for day in set(days))


def restriction_spec(r: Restriction) -> rotation.Restriction:
    return rotation.Restriction(days=days_from_mask(r.days), start=r.start_time, end=r.end_time)


def layer_spec(layer: Layer) -> rotation.Layer:
    """``layer`` as the computation takes it; uses the prefetched members and restrictions when present."""
    unit, length = rotation_unit(layer)
    return rotation.Layer(
        id=layer.pk,
        priority=layer.priority,
        participants=tuple(m.user_id for m in sorted(layer.members.all(), key=lambda m: m.position)),
        unit=unit,
        length=length,
        start=datetime.combine(layer.starts_on, layer.starts_at),
        handoff=layer.handoff_time,
        restrictions=tuple(restriction_spec(r) for r in layer.restrictions.all()),
    )


def override_spec(o: Override) -> rotation.Override:
    return rotation.Override(id=o.pk, user_id=o.user_id, start=o.start, end=o.end, replaces=o.replaces_id)


def schedule_spec(
    schedule: Schedule, *, start: datetime, end: datetime, layers: Sequence[Layer] | None = None
) -> rotation.Schedule:
    """The schedule's layers and the overrides that touch ``[start, end)``, oldest override first."""
    layers = list(layers_of(schedule)) if layers is None else layers
    overrides = overrides_of(schedule, start=start, end=end).order_by("created_at", "id")
    return rotation.Schedule(
        zone=zone_of(schedule),
        layers=tuple(layer_spec(layer) for layer in layers),
        overrides=tuple(override_spec(o) for o in overrides),
    )


def final_schedule(schedule: Schedule, *, start: datetime, end: datetime) -> rotation.FinalSchedule:
    return rotation.final_schedule(schedule_spec(schedule, start=start, end=end), start, end)


def people_by_id(user_ids: Iterable[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=set(user_ids))}


# ---------------------------------------------------------------------------------------------------------------
# on call now


@dataclass
class OnCallNow:
    schedule: Schedule
    shifts: list[rotation.Shift]
    people: dict[int, User] = field(default_factory=dict)


def on_call(schedule: Schedule, *, at: datetime) -> OnCallNow:
    """Who is on call on ``schedule`` at ``at``, with each shift's start and end (within 8 days of ``at``)."""
    window = timedelta(days=8)
    spec = schedule_spec(schedule, start=at - window, end=at + window)
    shifts = rotation.on_call_at(spec, at, window=window)
    shifts.sort(key=lambda s: (s.override_id is not None, s.user_id))
    return OnCallNow(schedule, shifts, people_by_id(s.user_id for s in shifts))


def on_call_now(user: User, *, at: datetime, team_id: int | None = None) -> list[OnCallNow]:
    """Who is on call at ``at`` on every schedule ``user`` can see (optionally of one team), by schedule name."""
    schedules = visible_schedules(user).order_by("team__name", "name", "id")
    if team_id is not None:
        schedules = schedules.filter(team_id=team_id)
    return [on_call(schedule, at=at) for schedule in schedules]


# ---------------------------------------------------------------------------------------------------------------
# warnings


@dataclass(frozen=True)
class ScheduleWarning:
    code: str
    message: str
    user_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def users_without_working_contact_method(user_ids: Iterable[int]) -> set[int]:
    """The ids among ``user_ids`` that no high-urgency page would reach (no verified, enabled contact method used
    by a high-urgency notification rule); the schedule warns about them."""
    return notify_selectors.users_without_working_contact_method(user_ids)


def warnings_for(
    schedule: Schedule, final: rotation.FinalSchedule, layers: Sequence[Layer] | None = None
) -> list[ScheduleWarning]:
    """What is wrong with ``schedule``: nobody on call in parts of ``final``'s range, participants who cannot be
    reached (no working contact method, deactivated, no longer in the team)."""
    found = [
        ScheduleWarning("nobody_on_call", "Nobody is on call in this period.", start=gap.start, end=gap.end)
        for gap in final.gaps
    ]
    layers = list(layers_of(schedule)) if layers is None else layers
    people: dict[int, User] = {}
    for layer in layers:
        for member in layer.members.all():
            people[member.user_id] = member.user
    for o in overrides_of(schedule, start=final.start):
        people[o.user_id] = o.user
    in_team = team_people_ids(schedule)
    unreachable = users_without_working_contact_method(people)
    for user_id, person in sorted(people.items(), key=lambda item: item[1].display_name):
        if not person.is_active:
            found.append(
                ScheduleWarning("participant_inactive", f"{person.display_name} is deactivated.", user_id)
            )
        elif user_id not in in_team:
            found.append(
                ScheduleWarning(
                    "participant_not_in_team",
                    f"{person.display_name} is no longer a member of {schedule.team.name}.",
                    user_id,
                )
            )
        if user_id in unreachable:
            found.append(
                ScheduleWarning(
                    "no_contact_method",
                    f"{person.display_name} has no working contact method and cannot be paged.",
                    user_id,
                )
            )
    return found


# ---------------------------------------------------------------------------------------------------------------
# calendar feeds


def feeds_of(user: User, *, schedule: Schedule | None = None) -> QuerySet[CalendarFeed]:
    """``user``'s own feeds: of ``schedule``, or personal ones when ``schedule`` is None."""
    qs = CalendarFeed.objects.filter(user=user).select_related("schedule")
    if schedule is None:
        return qs.filter(kind=FeedKind.PERSONAL)
    return qs.filter(kind=FeedKind.SCHEDULE, schedule=schedule)


def live_schedule_feeds(user: User, schedule: Schedule) -> QuerySet[CalendarFeed]:
    """The unrevoked feeds of ``schedule`` that ``user`` may revoke: their own, or all of them for the team's
    managers (the caller has checked ``user`` may see the schedule)."""
    qs = CalendarFeed.objects.filter(
        kind=FeedKind.SCHEDULE, schedule=schedule, revoked_at__isnull=True
    ).select_related("user")
    if not accounts.can_manage_team(user, schedule.team_id):
        qs = qs.filter(user=user)
    return qs.order_by("created_at", "id")


def get_feed_for_user_or_404(user: User, *, feed_id: int | str) -> CalendarFeed:
    """One of ``user``'s feeds, or a schedule feed of a team ``user`` manages (so managers can cut off a leak)."""
    qs = CalendarFeed.objects.select_related("schedule", "user")
    feed = qs.filter(pk=ident).first() if (ident := as_id(feed_id)) is not None else None
    if feed is not None and feed.user_id != user.pk:
        manages = feed.schedule is not None and accounts.can_manage_team(user, feed.schedule.team_id)
        if not manages:
            feed = None
    if feed is None:
        raise NotFound(f"calendar feed {feed_id!r} not found")
    return feed


def find_feed(secret: str) -> CalendarFeed | None:
    """The live feed behind a secret, if its owner is active and may still see what it shows; else None."""
    if not secret or len(secret) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("user", "schedule").filter(digest=tokens.digest(secret)).first()
    )
    if feed is None or feed.revoked_at is not None or not feed.user.is_active:
        return None
    if not tokens.matches(secret, feed.digest):
        return None
    if feed.schedule is not None and not visible_schedules(feed.user).filter(pk=feed.schedule.pk).exists():
        return None
    return feed


@dataclass
class FeedShift:
    """One event of a feed: one person's unbroken stretch on call, made of ``sources`` (layer shifts, overrides)."""

    schedule: Schedule
    shift: rotation.Shift
    sources: tuple[rotation.Shift, ...] = ()


def _stretches(schedule: Schedule, shifts: Iterable[rotation.Shift]) -> list[FeedShift]:
    return [FeedShift(schedule, rotation.merge_run(run), run) for run in rotation.consecutive_runs(shifts)]


def feed_shifts(feed: CalendarFeed, *, start: datetime, end: datetime) -> list[FeedShift]:
    """What a feed publishes in ``[start, end)``: the schedule's, or the owner's own across schedules, one event
    per unbroken stretch of one person (a handoff to themselves is not a new event)."""
    if feed.schedule is not None:
        final = final_schedule(feed.schedule, start=start, end=end)
        return _stretches(feed.schedule, final.shifts)
    found: list[FeedShift] = []
    involved = Q(layers__members__user=feed.user) | Q(overrides__user=feed.user)
    for schedule in visible_schedules(feed.user).filter(involved).distinct().order_by("name", "id"):
        final = final_schedule(schedule, start=start, end=end)
        found.extend(_stretches(schedule, (s for s in final.shifts if s.user_id == feed.user_id)))
    found.sort(key=lambda fs: (fs.shift.start, fs.schedule.pk))
    return found


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


def visible_policies(user: User) -> QuerySet[EscalationPolicy]:
    qs = EscalationPolicy.objects.select_related("team")
    if user.is_org_admin:
        return qs
    return qs.filter(team_id__in=accounts.team_ids(user))


def get_policy_for_user_or_404(user: User, *, key: int | str) -> EscalationPolicy:
    """A policy by id, if ``user`` may see it (a member of its team, or an organisation admin); else NotFound."""
    policy = visible_policies(user).filter(pk=ident).first() if (ident := as_id(key)) is not None else None
    if policy is None:
        raise NotFound(f"escalation policy {key!r} not found")
    return policy


def steps_of(policy: EscalationPolicy) -> list[EscalationStep]:
    """The policy's steps in order, each with its targets (and their person, schedule or team) prefetched."""
    targets = StepTarget.objects.select_related("user", "schedule", "team").order_by("id")
    return list(
        EscalationStep.objects.filter(policy=policy)
        .prefetch_related(Prefetch("targets", queryset=targets))
        .order_by("order")
    )


def steps_of_policies(policy_ids: Iterable[int]) -> dict[int, list[EscalationStep]]:
    """:func:`steps_of` for many policies in two queries: policy id → its steps in order (every id given has an
    entry, empty when the policy has no steps)."""
    ids = set(policy_ids)
    targets = StepTarget.objects.select_related("user", "schedule", "team").order_by("id")
    found: dict[int, list[EscalationStep]] = {pk: [] for pk in ids}
    for step in (
        EscalationStep.objects.filter(policy_id__in=ids)
        .prefetch_related(Prefetch("targets", queryset=targets))
        .order_by("policy_id", "order")
    ):
        found[step.policy_id].append(step)
    return found


def policy_of_service(service_id: int) -> EscalationPolicy | None:
    link = ServicePolicy.objects.select_related("policy").filter(service_id=service_id).first()
    return link.policy if link else None


def policy_for_services(service_ids: Iterable[int]) -> EscalationPolicy | None:
    """The policy that pages for an incident on these services: the first service (by id) that has one."""
    link = (
        ServicePolicy.objects.select_related("policy")
        .filter(service_id__in=list(service_ids))
        .order_by("service_id")
        .first()
    )
    return link.policy if link else None


@dataclass(frozen=True)
class Resolved:
    """One person a step pages, and through which target (\"on call on Checkout primary\")."""

    user: User
    via: str


def target_label(target: StepTarget) -> str:
    if target.kind == TargetKind.USER and target.user is not None:
        return target.user.display_name
    if target.kind == TargetKind.SCHEDULE and target.schedule is not None:
        return f"on call on {target.schedule.name}"
    if target.team is not None:
        return f"team {target.team.name}"
    return "?"


def _target_people(target: StepTarget, at: datetime) -> list[User]:
    if target.kind == TargetKind.USER and target.user is not None:
        return [target.user]
    if target.kind == TargetKind.SCHEDULE and target.schedule is not None:
        now = on_call(target.schedule, at=at)
        return [now.people[s.user_id] for s in now.shifts if s.user_id in now.people]
    if target.kind == TargetKind.TEAM and target.team_id is not None:
        members = Membership.objects.filter(
            team_id=target.team_id, role__in=[Role.ADMIN, Role.MANAGER, Role.RESPONDER]
        ).select_related("user")
        return [m.user for m in members.order_by("user__full_name", "user_id")]
    return []


def resolve_step(step: EscalationStep, *, at: datetime) -> list[Resolved]:
    """Everyone ``step`` pages at the instant ``at``: people as named, schedules → whoever the final schedule
    has on call at ``at`` (overrides included), teams → their admins, managers and responders. Each active person
    once, in target order; deactivated people are left out (the caller says the step found nobody)."""
    seen: set[int] = set()
    out: list[Resolved] = []
    for target in step.targets.all():
        for person in _target_people(target, at):
            if person.pk in seen or not person.is_active:
                continue
            seen.add(person.pk)
            out.append(Resolved(person, target_label(target)))
    return out


def schedules_and_policies_naming(user: User) -> list[LeftBehind]:
    """Schedules whose rotations or coming overrides name ``user``, and escalation policies with a step that pages
    them by name: what deactivating them leaves to hand over (:mod:`warroom.accounts.deactivation`)."""
    now = clock.now()
    in_rotation = LayerMember.objects.filter(user=user).values("layer__schedule_id")
    overriding = Override.objects.filter(Q(user=user) | Q(replaces=user), end__gt=now).values("schedule_id")
    schedules = (
        Schedule.objects.filter(Q(pk__in=in_rotation) | Q(pk__in=overriding))
        .select_related("team")
        .order_by("name", "id")
    )
    policies = (
        EscalationPolicy.objects.filter(pk__in=StepTarget.objects.filter(user=user).values("step__policy_id"))
        .select_related("team")
        .order_by("name", "id")
    )
    return [
        LeftBehind("schedule", f"{s.name} ({s.team.name})", "they are in its rotation or a coming override")
        for s in schedules
    ] + [
        LeftBehind("escalation_policy", f"{p.name} ({p.team.name})", "a step pages them by name")
        for p in policies
    ]
