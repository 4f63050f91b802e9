"""Seed the demo organisation through the services, so every timeline entry and audit row is real.

Each incident of :data:`warroom.demo.data.INCIDENTS` becomes a *story*: a list of steps (declare, acknowledge,
claim a role, add a task, post a note, hold, resolve, close, ...) planned at times between its opening and
now. The steps of every story are then run in one global time order, each inside ``clock.frozen(at)``, so the
services stamp them with the time they "happened" and cross-incident steps (parents, related links) find the
other incident already declared. Every random choice is made while planning, from one seeded
:class:`random.Random`, so the same seed always tells the same stories (relative to the moment of seeding).

Around the stories: people's contact methods, schedules and escalation policies (:mod:`warroom.demo.oncall`),
integrations whose alerts open the incidents monitoring found, plus heartbeat pings and noise
(:mod:`warroom.demo.alerting`), SLA definitions, postmortems and problems (:mod:`warroom.demo.learning`); and
between the steps, the engine modules that would have run then (:mod:`warroom.demo.engine`): escalations page,
SLA clocks warn, and nothing of it is ever delivered or left for the real engine to do at start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils.text import slugify

from warroom.accounts import services as accounts
from warroom.accounts.models import Role, User
from warroom.alerts.models import Alert
from warroom.automation import services as automation
from warroom.automation.services import WorkflowSpec
from warroom.catalog import services as catalog
from warroom.comms import page_services as status_pages
from warroom.comms import services as comms
from warroom.comms.models import Audience, Component, UpdateStatus
from warroom.demo import alerting, learning
from warroom.demo import engine as demo_engine
from warroom.demo import oncall as demo_oncall
from warroom.demo.data import INCIDENTS, PEOPLE, SERVICES, TEAMS, IncidentSpec
from warroom.demo.world import World
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incidents
from warroom.incidents.models import Category, Incident, RoleType, Subcategory, TimelineEntry
from warroom.incidents.states import OPEN_STATES, State
from warroom.lib import clock
from warroom.paging.models import Page

#: How long before "now" the organisation was set up (before the oldest incident).
SETUP_DAYS_AGO = 62
#: No step is planned later than this before "now".
LATEST_STEP_MARGIN = timedelta(minutes=2)

Action = Callable[[], None]


@dataclass(frozen=True)
class SeedResult:
    teams: int
    people: int
    services: int
    incidents: int
    steps: int
    alerts: int = 0
    pages: int = 0


# ---------------------------------------------------------------------------------------------------------------
# the organisation


def _create_people(world: World, password: str) -> None:
    admin_spec = next(p for p in PEOPLE if not p.team)
    admin = accounts.create_user(
        email=admin_spec.email,
        password=password,
        full_name=admin_spec.full_name,
        is_org_admin=True,
        actor=None,
        source="cli",
    )
    world.people[admin_spec.key], world.specs[admin_spec.key] = admin, admin_spec
    for spec in PEOPLE:
        if spec is admin_spec:
            continue
        world.people[spec.key] = accounts.create_user(
            email=spec.email,
            password=password if spec.shares_demo_password else None,
            full_name=spec.full_name,
            actor=admin,
            source="web",
        )
        world.specs[spec.key] = spec


def _create_teams(world: World) -> None:
    admin = world.people["morgan"]
    for team in TEAMS:
        world.teams[team.key] = accounts.create_team(
            name=team.name, description=team.description, actor=admin, source="web"
        )
    for spec in PEOPLE:
        if spec.team:
            accounts.set_membership(
                team=world.teams[spec.team],
                user=world.people[spec.key],
                role=spec.role,
                actor=admin,
                source="web",
            )


def _create_services(world: World) -> None:
    for spec in SERVICES:
        owner = world.members(spec.team, Role.ADMIN, Role.MANAGER)[0]
        slug = slugify(spec.name)
        world.services[spec.name] = catalog.create_service(
            team=world.teams[spec.team],
            actor=owner,
            source="web",
            dependencies=[world.services[name] for name in spec.depends_on],
            name=spec.name,
            description=spec.description,
            tier=spec.tier,
            runbook_url=f"https://wiki.example.com/runbooks/{slug}",
            dashboard_url=f"https://grafana.example.com/d/{slug}",
            repository_url=f"https://git.example.com/{spec.team}/{slug}",
        )


# ---------------------------------------------------------------------------------------------------------------
# stories

_ACK_MINUTES = {1: (2, 6), 2: (4, 15), 3: (10, 45), 4: (20, 90), 5: (30, 120)}
_SPAN_MINUTES = {1: (45, 150), 2: (90, 360), 3: (240, 1200), 4: (300, 1200), 5: (360, 1440)}
_HOLD_MINUTES = {
    "awaiting_caller": (120, 1200),
    "awaiting_change": (720, 2880),
    "awaiting_problem": (1440, 4320),
    "awaiting_vendor": (360, 1800),
}
_START_NOTES = (
    "Looking into it.",
    "On it. Checking the dashboards.",
    "Acknowledged; investigating.",
    "Taking this one.",
)
_CLOSE_NOTES = ("No recurrence since the fix.", "Checked the dashboards once more: all quiet.", "", "")
_MAJOR_CLOSE_NOTE = "Postmortem reviewed; the action items are in the tracker."


@dataclass
class Step:
    offset: timedelta
    action: Action
    engine: bool = False  # an engine-side step: dropped rather than squeezed when it falls after "now"
    quiet: bool = False  # changes nothing a status page shows (a note, a watcher, a role, a task, a link)


class Story:
    """Plans the steps of one incident, deciding every random choice up front."""

    def __init__(self, spec: IncidentSpec, world: World, rng: random.Random, priority: int) -> None:
        self.spec, self.world, self.rng, self.priority = spec, world, rng, priority
        self.steps: list[Step] = []
        self.minutes = 0.0
        self.team = spec.team
        self.assignee: User | None = None
        self.task_owners: list[User] = []
        self.last_beat = 0.0

    # -- plumbing

    def later(
        self, low: float, high: float, action: Action, *, engine: bool = False, quiet: bool = False
    ) -> None:
        self.minutes += self.rng.uniform(low, high)
        self.steps.append(Step(timedelta(minutes=self.minutes), action, engine, quiet))

    def source(self) -> str:
        return self.rng.choices(("web", "cli", "api"), weights=(82, 14, 4))[0]

    def manager(self) -> User:
        return self.world.members(self.team, Role.ADMIN, Role.MANAGER)[0]

    def responders(self) -> list[User]:
        return self.world.members(self.team, Role.RESPONDER) or self.world.members(self.team, Role.MANAGER)

    def acting(self) -> list[User]:
        return self.world.members(self.team, Role.ADMIN, Role.MANAGER, Role.RESPONDER)

    # -- the plan

    def plan(self) -> list[Step]:
        spec = self.spec
        reporter = self.rng.choice(self.acting())
        responder = self.rng.choice(self.responders())
        assign_now = self.rng.random() < 0.4 and spec.outcome != "new"
        self.declare(reporter, responder if assign_now else None)
        paged = alerting.opened_by_monitoring(spec.key)  # the on-call acknowledges before anyone watches
        if not paged or spec.outcome in ("new", "canceled"):
            self.watchers()
        if spec.outcome == "new":
            self.new_notes(reporter)
            return self.steps
        if spec.outcome == "canceled" and not spec.cancel_after_start:
            for other in spec.related:
                self.later(2, 10, self.relate(reporter, other), quiet=True)
            self.later(15, 90, self.transition(self.manager(), State.CANCELED, note=spec.resolution[1]))
            return self.steps
        self.acknowledge(responder, assigned=assign_now)
        if paged and spec.outcome != "canceled":
            self.watchers()
        if spec.outcome == "canceled":
            self.later(20, 120, self.transition(responder, State.CANCELED, note=spec.resolution[1]))
            return self.steps
        self.coordinate()
        self.work()
        return self.steps

    def declare(self, reporter: User, assignee: User | None) -> None:
        spec, world = self.spec, self.world
        if alerting.opened_by_monitoring(spec.key):
            self.opened_by_alert(assignee)
            return

        def run() -> None:
            incident = incidents.declare_incident(
                actor=reporter,
                source=spec.source,
                title=spec.title,
                team=world.teams[spec.team],
                description=world.refs(spec.description),
                services=[world.services[name] for name in spec.services],
                impact=spec.impact,
                urgency=spec.urgency,
                category=Category.objects.get(name=spec.category),
                subcategory=Subcategory.objects.get(category__name=spec.category, name=spec.subcategory),
                assignee=assignee,
                is_major=spec.major,
                is_private=spec.private,
                parent=world.incident(spec.parent) if spec.parent else None,
                opened_at=clock.now(),
            )
            world.incident_pks[spec.key] = incident.pk

        self.steps.append(Step(timedelta(0), run))

    def opened_by_alert(self, assignee: User | None) -> None:
        """Monitoring opens the incident (its first alert), the rest of its alerts join it, and whoever looks
        first gives the record the story's title, category and priority."""
        spec, world = self.spec, self.world
        self.steps.append(Step(timedelta(0), alerting.open_incident(world, spec.key)))
        story = alerting.ALERT_STORIES.get(spec.key)
        for beat in story.beats[1:] if story else ():
            self.steps.append(Step(timedelta(minutes=beat.minutes), alerting.beat(world, spec.key, beat)))
        self.last_beat = max((b.minutes for b in story.beats), default=0.0) if story else 0.0
        self.later(0.5, 2, self.triage(self.manager(), assignee))

    def triage(self, actor: User, assignee: User | None) -> Action:
        spec, world = self.spec, self.world

        def run() -> None:
            fields: dict[str, object] = {
                "title": spec.title,
                "description": world.refs(spec.description),
                "impact": spec.impact,
                "urgency": spec.urgency,
                "category": Category.objects.get(name=spec.category),
                "subcategory": Subcategory.objects.get(category__name=spec.category, name=spec.subcategory),
            }
            if assignee is not None:
                fields["assignee"] = assignee
            if spec.major:
                fields["is_major"] = True
            if spec.parent:
                fields["parent"] = world.incident(spec.parent)
            incidents.update_incident(incident=world.incident(spec.key), actor=actor, source="web", **fields)  # type: ignore[arg-type]

        return run

    def clear_alerts(self) -> None:
        """The alerts of a monitored story resolve at the source shortly before a person resolves it."""
        key = self.spec.key
        story = alerting.ALERT_STORIES.get(key)
        if key in alerting.HEARTBEAT_STORIES or (story is not None and story.clear_on_resolve):
            at = max(self.minutes - self.rng.uniform(2, 8), self.last_beat + 1)
            self.steps.append(Step(timedelta(minutes=at), alerting.clear(self.world, key)))

    def watchers(self) -> None:
        people = []
        if self.priority <= 2:
            people.append(self.manager())
        if self.spec.major:
            people += [self.world.people["morgan"], self.world.people["ravi"]]
        elif self.spec.team == "payments" and not self.spec.private and self.rng.random() < 0.5:
            people.append(self.world.people["ravi"])
        for person in dict.fromkeys(people):
            self.later(1, 6, self.watch(person), quiet=True)

    def new_notes(self, reporter: User) -> None:
        for text in self.spec.notes[:1]:
            self.later(10, 40, self.note(reporter, text), quiet=True)

    def acknowledge(self, responder: User, *, assigned: bool) -> None:
        low, high = _ACK_MINUTES[self.priority]
        if not assigned:
            self.later(low / 2, high / 2, self.update(self.manager(), assignee=responder))
        self.assignee = responder
        start_note = self.rng.choice(_START_NOTES)
        self.later(low / 2, high / 2, self.transition(responder, State.IN_PROGRESS, note=start_note))

    def coordinate(self) -> None:
        """Roles, tasks, links and changes made in the first minutes of the response."""
        spec, world = self.spec, self.world
        assert self.assignee is not None
        if spec.major or self.priority == 1 or spec.tasks:
            commander = world.people["morgan"] if spec.major else self.manager()
            self.later(1, 4, self.role(commander, "incident-commander", commander), quiet=True)
            if spec.major:
                self.later(1, 3, self.role(commander, "communications-lead", self.manager()), quiet=True)
                scribe = next((p for p in self.responders() if p != self.assignee), self.assignee)
                self.later(1, 3, self.role(commander, "scribe", scribe), quiet=True)
                self.later(1, 3, self.role(commander, "sme", self.assignee), quiet=True)
        self.task_owners = [self.rng.choice(self.acting()) for _ in spec.tasks]
        for index, title in enumerate(spec.tasks):
            self.later(1, 4, self.add_task(index, title, self.task_owners[index]), quiet=True)
        for other in spec.related:
            self.later(2, 10, self.relate(self.assignee, other), quiet=True)
        if spec.attach_to:
            self.later(5, 20, self.update(world.people["morgan"], parent_key=spec.attach_to))
        if spec.escalate:
            impact, urgency = spec.escalate
            self.later(10, 30, self.update(self.assignee, impact=impact, urgency=urgency))
        if spec.reassign_to:
            self.reassign()

    def reassign(self) -> None:
        first_note, rest = self.spec.notes[:1], self.spec.notes[1:]
        for text in first_note:
            self.later(15, 40, self.note(self.assignee or self.manager(), text), quiet=True)
        self.spec = dataclasses.replace(self.spec, notes=rest)
        self.later(2, 8, self.update(self.world.people["morgan"], team=self.spec.reassign_to))
        self.team = self.spec.reassign_to
        newcomer = self.rng.choice(self.responders())
        self.later(3, 12, self.update(self.manager(), assignee=newcomer))
        self.assignee = newcomer

    def work(self) -> None:
        """Notes and tasks through the response, then hold, resolve, reopen and close as the outcome asks."""
        spec = self.spec
        assert self.assignee is not None
        low, high = _SPAN_MINUTES[self.priority]
        span = self.rng.uniform(low, high)
        beats = len(spec.notes) + len(spec.tasks) + 1
        authors = [self.assignee, self.world.people["morgan"]] if spec.major else [self.assignee]
        for index, text in enumerate(spec.notes):
            self.later(
                span / beats * 0.5, span / beats, self.note(authors[index % len(authors)], text), quiet=True
            )
        open_ending = spec.outcome in ("in_progress", "on_hold")
        for index in range(len(spec.tasks) - (1 if open_ending else 0)):
            self.later(span / beats * 0.3, span / beats * 0.7, self.tick(index), quiet=True)
        if spec.hold:
            hold_note = spec.hold_note
            self.later(10, 60, self.transition(self.assignee, State.ON_HOLD, hold=spec.hold, note=hold_note))
            if spec.outcome == "on_hold":
                return
            self.later(*_HOLD_MINUTES[spec.hold], self.transition(self.assignee, State.IN_PROGRESS))
        if spec.outcome in ("in_progress", "on_hold"):
            return
        self.later(span / beats * 0.5, span / beats, self.resolve(self.assignee))
        self.clear_alerts()
        if spec.reopen:
            self.later(60, 240, self.transition(self.manager(), State.IN_PROGRESS, note=spec.reopen))
            self.later(60, 180, self.resolve(self.assignee))
        if spec.outcome == "closed":
            self.close()

    def close(self) -> None:
        days: int = settings.WARROOM_AUTOCLOSE_DAYS
        if self.spec.autoclose and days > 0:
            self.later(days * 1440 + 5, days * 1440 + 180, self.engine_close(days), engine=True)
        else:
            note = _MAJOR_CLOSE_NOTE if self.spec.major else self.rng.choice(_CLOSE_NOTES)
            self.later(1440, 3 * 1440, self.close_if_resolved(self.manager(), note))

    # -- actions: each returns a closure that runs the service call when its time comes

    def transition(
        self, actor: User, to: str, *, note: str = "", hold: str = "", code: str = "", notes: str = ""
    ) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            incidents.transition_incident(
                incident=world.incident(key),
                actor=actor,
                source=source,
                to=to,
                hold_reason=hold,
                resolution_code=code,
                resolution_notes=world.refs(notes),
                note=world.refs(note),
            )

        return run

    def resolve(self, actor: User) -> Action:
        code, notes = self.spec.resolution
        return self.transition(actor, State.RESOLVED, code=code, notes=notes)

    def close_if_resolved(self, actor: User, note: str) -> Action:
        """Close by hand, unless the engine got there first (a short WARROOM_AUTOCLOSE_DAYS)."""
        key, world, close = self.spec.key, self.world, self.transition(actor, State.CLOSED, note=note)

        def run() -> None:
            if world.incident(key).state == State.RESOLVED:
                close()

        return run

    def engine_close(self, days: int) -> Action:
        def run() -> None:
            incidents.close_resolved_incidents(older_than=clock.now() - timedelta(days=days))

        return run

    def note(self, actor: User, text: str) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            incidents.add_note(
                incident=world.incident(key), actor=actor, source=source, text=world.refs(text)
            )

        return run

    def update(self, actor: User, *, parent_key: str = "", team: str = "", **fields: object) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            extra: dict[str, object] = dict(fields)
            if parent_key:
                extra["parent"] = world.incident(parent_key)
            if team:
                extra["team"] = world.teams[team]
            incidents.update_incident(incident=world.incident(key), actor=actor, source=source, **extra)  # type: ignore[arg-type]

        return run

    def role(self, actor: User, slug: str, holder: User) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            incidents.assign_role(
                incident=world.incident(key),
                role_type=RoleType.objects.get(slug=slug),
                user=holder,
                actor=actor,
                source=source,
            )

        return run

    def add_task(self, index: int, title: str, owner: User) -> Action:
        key, world, source = self.spec.key, self.world, self.source()
        actor = self.assignee

        def run() -> None:
            task = incidents.add_task(
                incident=world.incident(key), actor=actor, source=source, title=title, owner=owner
            )
            world.task_pks[(key, index)] = task.pk

        return run

    def tick(self, index: int) -> Action:
        key, world, source, owner = self.spec.key, self.world, self.source(), self.task_owners[index]

        def run() -> None:
            incidents.update_task(task=world.task(key, index), actor=owner, source=source, done=True)

        return run

    def watch(self, person: User) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            incidents.set_watching(
                incident=world.incident(key), user=person, watching=True, actor=person, source=source
            )

        return run

    def relate(self, actor: User, other: str) -> Action:
        key, world, source = self.spec.key, self.world, self.source()

        def run() -> None:
            incidents.link_related(
                incident=world.incident(key), other=world.incident(other), actor=actor, source=source
            )

        return run


# ---------------------------------------------------------------------------------------------------------------
# scheduling


@dataclass(order=True)
class Scheduled:
    at: datetime
    seq: int
    action: Action = field(compare=False)
    #: whether the step may change an incident a status page shows
    on_status_page: bool = field(default=True, compare=False)


# ---------------------------------------------------------------------------------------------------------------
# the public status page

#: group → services shown on the demo status page (each service is one component of the same name)
STATUS_PAGE = (
    ("Shop", ("Checkout", "Payments API", "Billing & invoicing")),
    ("Accounts", ("Identity API", "SSO gateway")),
    ("Delivery", ("Edge & CDN",)),
)


def _create_workflows(world: World) -> None:
    """The Platform team's P1 playbook (docs/automation.md), made now: it acts on incidents declared from here on,
    not on the demo's history."""
    automation.create_workflow(
        team=world.teams["platform"],
        spec=WorkflowSpec(
            name="P1 playbook",
            trigger="declared",
            priorities=[1],
            tasks=["Open the bridge call", "Post a first status page update", "Check the last deploy"],
            roles={"incident-commander": world.people["priya"].pk},
            notify_users=[world.people["marcus"].pk],
            message="A P1 is open for Platform: join the bridge call.",
        ),
        actor=world.people["priya"],
        source="system",
    )


def _create_status_page(world: World) -> None:
    admin = world.people["morgan"]
    page = status_pages.create_page(
        team=world.teams["platform"],
        name="Example Cloud",
        slug="example-cloud",
        description="Live status of Example Cloud's shop, accounts and delivery network.",
        footer_links=[{"label": "Support", "url": "https://support.example.com/"}],
        actor=admin,
        source="web",
    ).page
    for name, services in STATUS_PAGE:
        group = status_pages.create_group(page=page, name=name, actor=admin, source="web")
        for service in services:
            status_pages.create_component(
                page=page,
                group=group,
                name=service,
                services=[world.services[service]],
                actor=admin,
                source="web",
            )


def _post_public_updates(world: World, now: datetime) -> None:
    """An "investigating" update, internal and public, on each open P1/P2 incident of a service on the page,
    halfway between its last timeline entry and now (so timelines stay in order)."""
    shown = {service for _group, services in STATUS_PAGE for service in services}
    for pk in world.incident_pks.values():
        incident = Incident.objects.get(pk=pk)
        names = set(incident.services.values_list("name", flat=True))
        if incident.state not in OPEN_STATES or incident.priority > 2 or not names & shown:
            continue
        last = TimelineEntry.objects.filter(incident=incident).order_by("-at").values_list("at", flat=True)[0]
        with clock.frozen(last + (now - last) / 2):
            comms.post_update(
                incident=incident,
                status=UpdateStatus.INVESTIGATING,
                message=f"We are investigating: {incident.title}. Next update within 30 minutes.",
                audience=Audience.BOTH,
                components=list(Component.objects.filter(page__slug="example-cloud", name__in=names & shown)),
                actor=world.people["morgan"],
                source="web",
            )


def _linked_keys() -> set[str]:
    linked: set[str] = set()
    for spec in INCIDENTS:
        others = {spec.parent, spec.attach_to, *spec.related} - {""}
        if others:
            linked |= others | {spec.key}
    return linked


def _opened_at(spec: IncidentSpec, now: datetime, rng: random.Random, linked: set[str]) -> datetime:
    """``days_ago`` before now, shifted by up to ±3 hours unless the incident is linked to others (whose
    order must hold) or recent (which must stay in the past)."""
    jitter = rng.uniform(-180, 180) if spec.key not in linked and spec.days_ago >= 1 else 0.0
    return now - timedelta(days=spec.days_ago, minutes=jitter) + timedelta(seconds=rng.randint(0, 59))


def _fit(steps: list[Step], opened: datetime, now: datetime) -> list[tuple[datetime, Action, bool]]:
    """Place steps in time. A story that would run past "now" is squeezed to end just before it;
    engine steps that fall after "now" (or in a squeezed story) are dropped."""
    regular = [s for s in steps if not s.engine]
    last = max(s.offset for s in regular)
    room = now - LATEST_STEP_MARGIN - opened
    factor = min(1.0, room / last) if last > timedelta(0) else 1.0
    placed: list[tuple[datetime, Action, bool]] = []
    for step in steps:
        at = opened + step.offset * (factor if not step.engine else 1.0)
        if step.engine and (factor < 1.0 or at >= now):
            continue
        placed.append((at, step.action, not step.quiet))
    return placed


def _check_order(opened: dict[str, datetime]) -> None:
    for spec in INCIDENTS:
        for other in (spec.parent, spec.attach_to, *spec.related):
            if other and opened[other] >= opened[spec.key]:
                raise RuntimeError(f"demo data: {spec.key} must open after {other}")


def _schedule(world: World, now: datetime, rng: random.Random) -> list[Scheduled]:
    """Every step of every story, and the steps around them (overrides, the backup heartbeat, noise alerts,
    postmortems and problems), in one time order."""
    linked = _linked_keys()
    opened = {spec.key: _opened_at(spec, now, rng, linked) for spec in INCIDENTS}
    _check_order(opened)
    matrix = incident_selectors.priority_matrix()
    schedule: list[Scheduled] = []
    for spec in INCIDENTS:
        priority = matrix[(spec.impact, spec.urgency)]
        story = Story(spec, world, rng, priority)
        for at, action, shown in _fit(story.plan(), opened[spec.key], now):
            schedule.append(Scheduled(at, len(schedule), action, on_status_page=shown))
    setup = now - timedelta(days=SETUP_DAYS_AGO)
    backup_story = [
        (opened[key] - timedelta(hours=20), opened[key] + timedelta(hours=30))
        for key in alerting.HEARTBEAT_STORIES
    ]
    extra = [
        *demo_oncall.plan_overrides(world, now),
        *alerting.plan_background(world, setup, now, rng, backup_story),
        *learning.plan_learning(world, opened, now),
    ]
    for at, action in extra:
        if not at < now - LATEST_STEP_MARGIN:
            raise RuntimeError(f"demo data: a step planned at {at:%Y-%m-%d %H:%M}, after now")
        schedule.append(Scheduled(at, len(schedule), action, on_status_page=False))
    return sorted(schedule)


@contextmanager
def _quiet_alert_logs() -> Iterator[None]:
    """The alert engine logs each heartbeat that fails or recovers: news on a live server, noise while the demo's
    past is replayed."""
    logger = logging.getLogger("warroom.alerts")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _email_configured() -> Iterator[None]:
    """The demo's people are reached by email, which a fresh install has not configured (no
    WARROOM_SMTP_HOST): while seeding, the email channel has a mailer that keeps mail in memory, so their work
    addresses can be added and verified and the seeded past shows them paged. Nothing is ever sent through it
    (the seed withdraws every message); once seeding is over, email is unconfigured again."""
    mailers = {**settings.MAILERS}
    mailers.setdefault("notifications", {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"})
    with override_settings(MAILERS=mailers):
        yield


# ---------------------------------------------------------------------------------------------------------------
# entry point


def seed_demo(*, password: str, seed: int = 1042, now: datetime | None = None) -> SeedResult:
    """Create the demo organisation in one transaction. The caller makes sure the database is empty.

    ``password`` becomes the organisation admin's password (and that of the people marked
    ``shares_demo_password``); everyone else has no usable password until an admin sets one.
    """
    now = (now or clock.now()).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    world = World()
    setup = now - timedelta(days=SETUP_DAYS_AGO)
    with transaction.atomic(), _email_configured(), _quiet_alert_logs():
        with clock.frozen(setup):
            _create_people(world, password)
            _create_teams(world)
            _create_services(world)
            demo_oncall.create_contact_methods(world, rng)
            demo_oncall.set_working_hours(world)
            demo_oncall.set_time_zones(world)
            demo_oncall.create_schedules(world, setup)
            demo_oncall.create_policies(world)
            alerting.create_integrations(world)
            learning.create_slas(world)
            _create_status_page(world)
            demo_engine.withdraw_unsent()
        schedule = _schedule(world, now, rng)
        for item in schedule:
            demo_engine.catch_up(item.at)
            with clock.frozen(item.at):
                item.action()
                if item.on_status_page:
                    status_pages.refresh_components(now=item.at)  # the page's history follows the incidents
            demo_engine.after_step(item.at)
        demo_engine.catch_up(now)
        _post_public_updates(world, now)
        demo_engine.finish(now)
        with clock.frozen(now):
            _create_workflows(world)
    return SeedResult(
        teams=len(world.teams),
        people=len(world.people),
        services=len(world.services),
        incidents=Incident.objects.count(),
        steps=len(schedule),
        alerts=Alert.objects.count(),
        pages=Page.objects.count(),
    )
