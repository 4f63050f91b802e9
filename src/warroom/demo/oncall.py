"""The demo's on-call side, through the oncall and notify services: each person's verified contact methods, a
schedule per team in its own IANA zone (a weekly 24×7 rotation under a restricted daytime layer), overrides, and
an escalation policy per team that pages for every service of the team.

Contact methods are verified the way a person does it: the service sends a code (an outbox row, never delivered:
:func:`warroom.demo.engine.withdraw_unsent` withdraws it) and the person types it back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from warroom.accounts import services as accounts
from warroom.accounts.models import Role, User
from warroom.demo.data import PEOPLE, SERVICES
from warroom.demo.world import World
from warroom.notify import services as notify
from warroom.notify.models import Category, ContactMethod, Kind, Message
from warroom.oncall import rotation
from warroom.oncall import selectors as oncall_selectors
from warroom.oncall import services as oncall
from warroom.oncall.models import TargetKind

WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
#: minutes each escalation step waits before the next; with REPEAT the policy runs for 2 × 3 × 10 = 60 minutes
STEP_MINUTES = 10
REPEAT = 1
#: people who also get an ntfy push method (topic URLs on a reserved domain: nothing is published anywhere)
NTFY_PEOPLE = ("sofia", "daniel", "mei")

Action = Callable[[], None]


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str  # weekly or daily
    people: tuple[str, ...]
    restrictions: tuple[tuple[tuple[int, ...], time, time], ...] = ()


@dataclass(frozen=True)
class ScheduleSpec:
    team: str
    name: str
    zone: str
    description: str
    layers: tuple[LayerSpec, ...]


SCHEDULES = (
    ScheduleSpec(
        "platform",
        "Platform primary",
        "Europe/London",
        "Weekly 24×7 rotation handed over on Mondays at 09:00 London time; the team lead takes the office hours.",
        (
            LayerSpec("Weekly 24×7", "weekly", ("sofia", "tomas", "marcus")),
            LayerSpec("Office hours", "daily", ("marcus", "priya"), ((WEEKDAYS, time(9), time(17, 30)),)),
        ),
    ),
    ScheduleSpec(
        "payments",
        "Payments primary",
        "America/Chicago",
        "Weekly 24×7 rotation handed over on Mondays at 09:00 Chicago time; Elena covers weekday business hours.",
        (
            LayerSpec("Weekly 24×7", "weekly", ("daniel", "hannah")),
            LayerSpec("Business hours", "daily", ("elena",), ((WEEKDAYS, time(8), time(17)),)),
        ),
    ),
    ScheduleSpec(
        "identity",
        "Identity follow-the-sun",
        "Asia/Kolkata",
        "Bengaluru takes the day (09:00–21:00 IST) in daily turns; the weekly rotation covers the night.",
        (
            LayerSpec("Weekly 24×7", "weekly", ("aisha", "lukas", "mei")),
            LayerSpec("Bengaluru day", "daily", ("lukas", "mei"), ((EVERY_DAY, time(9), time(21)),)),
        ),
    ),
)


def _lead(world: World, team: str) -> User:
    return world.members(team, Role.ADMIN, Role.MANAGER)[-1]


def _monday_before(day: date) -> date:
    return day - timedelta(days=day.weekday())


# ---------------------------------------------------------------------------------------------------------------
# contact methods


def _verified(person: User, kind: str, name: str, address: str) -> ContactMethod:
    method = notify.create_contact_method(
        user=person, kind=kind, name=name, address=address, actor=person, source="web"
    ).method
    code = Message.objects.filter(contact_method=method, category=Category.VERIFICATION).latest("id")
    return notify.verify_contact_method(
        method=method, code=str(code.context["code"]), actor=person, source="web"
    )


#: team → (zone, start, end) of its people's working hours, Monday to Friday
WORKING_HOURS = {
    "platform": ("Europe/London", time(9), time(17, 30)),
    "payments": ("America/Chicago", time(8), time(17)),
    "identity": ("Asia/Kolkata", time(9, 30), time(18, 30)),
}


def set_working_hours(world: World) -> None:
    """Everyone in a team works its office hours (the on-call report counts pages outside them)."""
    for spec in PEOPLE:
        if spec.team:
            zone, start, end = WORKING_HOURS[spec.team]
            person = world.people[spec.key]
            notify.set_working_hours(
                user=person,
                time_zone=zone,
                days=["weekdays"],
                start=start,
                end=end,
                actor=person,
                source="web",
            )


def set_time_zones(world: World) -> None:
    """Everyone in a team sees the console in the zone of their team's schedule, as they set it on their
    profile page; the organisation admin keeps UTC."""
    zones = {spec.team: spec.zone for spec in SCHEDULES}
    for spec in PEOPLE:
        if spec.team:
            person = world.people[spec.key]
            accounts.update_profile(user=person, actor=person, source="web", time_zone=zones[spec.team])


def create_contact_methods(world: World, rng: random.Random) -> None:
    """A verified work email for everyone (with the default rules verification adds: high and low urgency at
    once), and an ntfy push for a few, which wakes them for high urgency if the email went unanswered."""
    for spec in PEOPLE:
        person = world.people[spec.key]
        _verified(person, Kind.EMAIL, "Work email", spec.email)
        if spec.key in NTFY_PEOPLE:
            topic = f"warroom-{spec.key}-{rng.getrandbits(40):010x}"
            push = _verified(person, Kind.NTFY, "Phone (ntfy)", f"https://ntfy.example.com/{topic}")
            for rule in list(push.rules.all()):
                notify.delete_rule(rule=rule, actor=person, source="web")
            notify.create_rule(
                user=person, contact_method=push, urgency="high", delay_minutes=5, actor=person, source="web"
            )


# ---------------------------------------------------------------------------------------------------------------
# schedules and policies


def create_schedules(world: World, setup: datetime) -> None:
    """Each team's schedule, with layers that started on the Monday before the organisation was set up."""
    for spec in SCHEDULES:
        manager = _lead(world, spec.team)
        schedule = oncall.create_schedule(
            team=world.teams[spec.team],
            actor=manager,
            source="web",
            name=spec.name,
            time_zone=spec.zone,
            description=spec.description,
        )
        first_monday = _monday_before(setup.astimezone(ZoneInfo(spec.zone)).date())
        for priority, layer in enumerate(spec.layers, start=1):
            oncall.create_layer(
                schedule=schedule,
                actor=manager,
                source="web",
                participants=[world.people[key] for key in layer.people],
                restrictions=[
                    rotation.Restriction(days=frozenset(days), start=start, end=end)
                    for days, start, end in layer.restrictions
                ],
                name=layer.name,
                priority=priority,
                rotation_kind=layer.kind,
                shift_length=1,
                handoff_time=time(9),
                start=datetime.combine(first_monday, time(9)),
            )
        world.schedules[spec.team] = schedule


def create_policies(world: World) -> None:
    """Per team: the schedule, then the team lead, then the whole team, ten minutes apart, twice over; every
    service of the team pages through it."""
    for team_key, team in world.teams.items():
        manager = _lead(world, team_key)
        policy = oncall.create_policy(
            team=team,
            actor=manager,
            source="web",
            name=f"{team.name} escalation",
            description=(
                f"Pages whoever is on call on {world.schedules[team_key].name}; if nobody acknowledges within "
                f"{STEP_MINUTES} minutes, {manager.display_name}; then everyone in {team.name}."
            ),
            repeat=REPEAT,
            steps=[
                oncall.StepSpec(
                    STEP_MINUTES, [oncall.TargetSpec(TargetKind.SCHEDULE, world.schedules[team_key].pk)]
                ),
                oncall.StepSpec(STEP_MINUTES, [oncall.TargetSpec(TargetKind.USER, manager.pk)]),
                oncall.StepSpec(STEP_MINUTES, [oncall.TargetSpec(TargetKind.TEAM, team.pk)]),
            ],
        )
        world.policies[team_key] = policy
    for spec in SERVICES:
        oncall.set_service_policy(
            service=world.services[spec.name],
            policy=world.policies[spec.team],
            actor=_lead(world, spec.team),
            source="web",
        )


# ---------------------------------------------------------------------------------------------------------------
# overrides (planned into the global time order: each is made a day or two before it starts)


@dataclass(frozen=True)
class OverrideSpec:
    """The first of ``people`` who is not on call then takes the shift of whoever is, from ``weekday`` (-1: the
    day ``ahead_hours`` from now falls on) at ``at``, local time of the schedule, for ``hours``: in the first such
    week at least ``ahead_hours`` from now (negative: it has begun). With ``replace`` false, ``people[0]`` is on
    call beside them instead."""

    team: str
    people: tuple[str, ...]  # the first of them who is not on call then takes the shift
    weekday: int
    at: time
    ahead_hours: float
    hours: float
    reason: str
    replace: bool = True


OVERRIDES = (
    OverrideSpec("payments", ("hannah", "daniel"), -1, time(0), -10, 36, "at the PCI audit in Dallas"),
    OverrideSpec("platform", ("sofia", "tomas"), 3, time(18), 36, 15, "family event on Thursday evening"),
    OverrideSpec(
        "identity", ("aisha",), 5, time(9), 5 * 24, 48, "Shadowing during the SCIM migration weekend", False
    ),
)


def _local_start(spec: OverrideSpec, zone: ZoneInfo, now: datetime) -> datetime:
    earliest = (now + timedelta(hours=spec.ahead_hours)).astimezone(zone)
    if spec.weekday < 0:  # today's date, whatever the weekday
        day = earliest.date()
    else:
        day = earliest.date() + timedelta(days=(spec.weekday - earliest.weekday()) % 7)
    start = datetime.combine(day, spec.at, tzinfo=zone)
    return start if start >= earliest or spec.weekday < 0 else start + timedelta(weeks=1)


def plan_overrides(world: World, now: datetime) -> list[tuple[datetime, Action]]:
    """(when it is made, action) for each override."""
    planned: list[tuple[datetime, Action]] = []
    for spec in OVERRIDES:
        schedule = world.schedules[spec.team]
        zone = ZoneInfo(schedule.time_zone)
        start = _local_start(spec, zone, now)
        person, replaced = world.people[spec.people[0]], None
        if spec.replace:
            person, replaced = _swap(world, spec, start)
        made = min(start - timedelta(hours=30), now - timedelta(hours=2))
        planned.append((made, _override_action(world, spec, person, replaced, start)))
    return planned


def _swap(world: World, spec: OverrideSpec, start: datetime) -> tuple[User, User]:
    """(who takes the shift, whose shift it is) at ``start``: the first of the override's people not on call."""
    final = oncall_selectors.final_schedule(
        world.schedules[spec.team], start=start, end=start + timedelta(minutes=1)
    )
    on_call = oncall_selectors.people_by_id(s.user_id for s in final.shifts)
    taker = next(world.people[key] for key in spec.people if world.people[key].pk not in on_call)
    return taker, next(iter(on_call.values()))


def _override_action(
    world: World, spec: OverrideSpec, person: User, replaced: User | None, start: datetime
) -> Action:
    note = f"Covering {replaced.display_name.split()[0]}: {spec.reason}" if replaced else spec.reason

    def run() -> None:
        oncall.create_override(
            schedule=world.schedules[spec.team],
            user=person,
            replaces=replaced,
            start=start,
            end=start + timedelta(hours=spec.hours),
            note=note,
            actor=_lead(world, spec.team),
            source="web",
        )

    return run
