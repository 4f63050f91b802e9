"""``warroom apply``: a Warroom set-up kept as code (docs/apply.md).

One YAML file of teams (with their members and single sign-on group), services, escalation policies and
workflows is read, checked whole, then applied in one transaction through the apps' services (actor ``None``,
source ``cli``, so every change is audited as usual), or not at all. The result is a plan, one line per object
of the file:

    + create team Platform
    ~ update service Checkout (tier 2 → 1, runbook_url)
    = unchanged policy Platform primary

Three passes, each stopping the run with every error it found, each error naming its place in the file
(``services["Checkout"].team: no team "payments" (not in the file, not in the database)``):

1. :func:`parse`: the shape of the file (no database): keys, types, ranges, duplicates;
2. :func:`_Resolver`: what the file names (teams, people, schedules, policies, services, role types) exists,
   in the file or in the database, and fits together (a service's policy is of its team ...);
3. the apply: objects are matched by name, compared, and changed only where they differ, so applying a file
   twice writes nothing the second time; a refusal of a service is reported at its place and rolls all back.

Objects in the database but not in the file, members not listed and fields left out are left as they are;
nothing is deleted or renamed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.text import slugify

from warroom.accounts import services as accounts
from warroom.accounts.models import Membership, Role, Team, User
from warroom.automation import services as automation
from warroom.automation.models import Trigger, Urgency, Workflow
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.incidents.models import RoleType
from warroom.lib.errors import ServiceError
from warroom.oncall import selectors as oncall_selectors
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy, Schedule, ServicePolicy, TargetKind

SOURCE = "cli"
SECTIONS = ("teams", "services", "escalation_policies", "workflows")
TEAM_FIELDS = ("name", "description", "sso_group", "members")
SERVICE_FIELDS = (
    "name",
    "team",
    "tier",
    "description",
    "runbook_url",
    "dashboard_url",
    "repository_url",
    "escalation_policy",
)
SERVICE_TEXT = ("description", "runbook_url", "dashboard_url", "repository_url")
SERVICE_URLS = ("runbook_url", "dashboard_url", "repository_url")
POLICY_FIELDS = ("name", "team", "description", "repeat", "steps")
STEP_FIELDS = ("delay_minutes", "targets")
WORKFLOW_FIELDS = (
    "name",
    "team",
    "trigger",
    "enabled",
    "priorities",
    "services",
    "tasks",
    "roles",
    "notify",
    "urgency",
    "message",
    "webhook_url",
)
NAME_MAX = 100
WEBHOOK_URL_MAX = Workflow._meta.get_field("webhook_url").max_length or 0
#: the longest value a plan line shows (longer ones, and text with line breaks, are named only)
SHOWN_MAX = 40


class ApplyFailed(Exception):
    """The file cannot be applied; ``errors`` are lines ``place: what is wrong``. Nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# ---------------------------------------------------------------------------------------------------------------
# the file, as read


@dataclass
class TeamDoc:
    place: str
    name: str
    description: str | None
    sso_group: str | None
    #: email (lower case) → role, in the file's order
    members: dict[str, str]


@dataclass
class ServiceDoc:
    place: str
    name: str
    team: str
    #: the catalog fields given: tier, description and the URLs
    fields: dict[str, Any]
    escalation_policy: str | None


@dataclass
class StepDoc:
    place: str
    delay_minutes: int
    #: (place, kind, reference): kind is user, schedule or team
    targets: list[tuple[str, str, str]]


@dataclass
class PolicyDoc:
    place: str
    name: str
    team: str
    description: str | None
    repeat: int | None
    steps: list[StepDoc] | None


@dataclass
class WorkflowDoc:
    place: str
    name: str
    team: str
    #: the fields given, as in the file (``None``: left out)
    trigger: str | None = None
    enabled: bool | None = None
    priorities: list[int] | None = None
    services: list[str] | None = None
    tasks: list[str] | None = None
    roles: dict[str, str] | None = None
    notify: list[str] | None = None
    urgency: str | None = None
    message: str | None = None
    webhook_url: str | None = None


@dataclass
class ConfigDoc:
    teams: list[TeamDoc] = field(default_factory=list)
    services: list[ServiceDoc] = field(default_factory=list)
    policies: list[PolicyDoc] = field(default_factory=list)
    workflows: list[WorkflowDoc] = field(default_factory=list)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _what(value: object) -> str:
    """What a YAML value is, for a message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Reader:
    """Checks the shape of values, collecting every error with its place."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, place: str, message: str) -> None:
        self.errors.append(f"{place}: {message}")

    def mapping(self, value: object, place: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        """``value`` as a mapping of ``allowed`` field names (an unknown field is an error)."""
        if not isinstance(value, dict):
            self.fail(place, f"must be a mapping of fields ({', '.join(allowed)}), not {_what(value)}")
            return None
        ok = True
        for key in value:
            if key not in allowed:
                self.fail(place, f"unknown field {_quote(str(key))} (fields: {', '.join(allowed)})")
                ok = False
        return value if ok else None

    def text(
        self, value: object, place: str, *, required: bool = False, max_len: int | None = None
    ) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.fail(place, f"must be text, not {_what(value)}")
            return None
        if required and not value.strip():
            self.fail(place, "must not be empty")
            return None
        if max_len is not None and len(value.strip()) > max_len:
            self.fail(place, f"is at most {max_len} characters (got {len(value.strip())})")
            return None
        return value.strip() if required else value

    def whole(self, value: object, place: str, low: int, high: int) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(place, f"must be a whole number from {low} to {high}, not {_what(value)}")
            return None
        return value

    def choice(self, value: object, place: str, what: str, choices: Iterable[str]) -> str | None:
        options = list(choices)
        if not isinstance(value, str) or value not in options:
            self.fail(place, f"{what} must be one of {', '.join(options)}")
            return None
        return value

    def items(self, value: object, place: str) -> list[Any]:
        """A list (``None``: empty)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(place, f"must be a list, not {_what(value)}")
            return []
        return value

    def texts(self, value: object, place: str) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(place, f"must be a list, not {_what(value)}")
            return None
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            else:
                self.fail(f"{place}[{i}]", f"must be text, not {_what(item)}")
        return out

    def email_map(self, value: object, place: str) -> dict[str, str] | None:
        """A mapping of ``key: email`` (roles) or ``email: role`` (members) as plain text pairs."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(place, f"must be a mapping, not {_what(value)}")
            return None
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                self.fail(f"{place}[{_quote(str(key))}]", f"must be text, not {_what(item)}")
                continue
            out[key.strip()] = item.strip()
        return out


def _item_place(section: str, index: int, item: object) -> str:
    """``teams["Platform"]`` when the item has a name, else ``teams[0]``."""
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(name, str) and name.strip():
        return f"{section}[{_quote(name.strip())}]"
    return f"{section}[{index}]"


def _read_team(r: _Reader, item: object, place: str) -> TeamDoc | None:
    raw = r.mapping(item, place, TEAM_FIELDS)
    if raw is None:
        return None
    name = r.text(raw.get("name"), f"{place}.name", required=True, max_len=NAME_MAX)
    description = r.text(
        raw.get("description"), f"{place}.description", max_len=accounts.TEAM_DESCRIPTION_MAX
    )
    sso_group = r.text(raw.get("sso_group"), f"{place}.sso_group", max_len=255)
    members = r.email_map(raw.get("members"), f"{place}.members") or {}
    clean: dict[str, str] = {}
    for email, role in members.items():
        where = f"{place}.members[{_quote(email)}]"
        if r.choice(role, where, "role", Role.values) is not None:
            clean[email.lower()] = role
    if name is None:
        return None
    return TeamDoc(place, name, description, None if sso_group is None else sso_group.strip(), clean)


def _read_service(r: _Reader, item: object, place: str) -> ServiceDoc | None:
    raw = r.mapping(item, place, SERVICE_FIELDS)
    if raw is None:
        return None
    name = r.text(raw.get("name"), f"{place}.name", required=True, max_len=NAME_MAX)
    team = r.text(raw.get("team"), f"{place}.team", required=True)
    fields: dict[str, Any] = {}
    if "tier" in raw and (tier := r.whole(raw["tier"], f"{place}.tier", 1, 4)) is not None:
        fields["tier"] = tier
    for key in SERVICE_TEXT:
        if key in raw and (value := r.text(raw[key], f"{place}.{key}")) is not None:
            fields[key] = value.strip() if key in SERVICE_URLS else value
    for key in SERVICE_URLS:
        if fields.get(key):
            try:
                URLValidator(schemes=["http", "https"])(fields[key])
            except DjangoValidationError:
                r.fail(f"{place}.{key}", f"{_quote(fields[key])} is not an http(s) URL")
    policy = r.text(
        raw.get("escalation_policy"), f"{place}.escalation_policy", required="escalation_policy" in raw
    )
    if name is None or team is None:
        return None
    return ServiceDoc(place, name, team, fields, policy)


def _read_steps(r: _Reader, value: object, place: str) -> list[StepDoc] | None:
    if value is None:
        return None
    steps: list[StepDoc] = []
    for i, item in enumerate(r.items(value, place)):
        where = f"{place}[{i}]"
        raw = r.mapping(item, where, STEP_FIELDS)
        if raw is None:
            continue
        delay = r.whole(raw.get("delay_minutes"), f"{where}.delay_minutes", 1, 1440)
        targets: list[tuple[str, str, str]] = []
        raw_targets = r.items(raw.get("targets"), f"{where}.targets")
        if not raw_targets:
            r.fail(
                f"{where}.targets",
                "a step needs at least one target ({user: email}, {schedule: name}, {team: name})",
            )
        for j, target in enumerate(raw_targets):
            spot = f"{where}.targets[{j}]"
            if not isinstance(target, dict) or len(target) != 1:
                r.fail(spot, "a target is one of {user: email}, {schedule: name}, {team: name}")
                continue
            ((kind, ref),) = target.items()
            if kind not in TargetKind.values:
                r.fail(spot, f"unknown target kind {_quote(str(kind))} (one of user, schedule, team)")
            elif (text := r.text(ref, f"{spot}.{kind}", required=True)) is not None:
                targets.append((spot, str(kind), text))
        if delay is not None:
            steps.append(StepDoc(where, delay, targets))
    return steps


def _read_policy(r: _Reader, item: object, place: str) -> PolicyDoc | None:
    raw = r.mapping(item, place, POLICY_FIELDS)
    if raw is None:
        return None
    name = r.text(raw.get("name"), f"{place}.name", required=True, max_len=NAME_MAX)
    team = r.text(raw.get("team"), f"{place}.team", required=True)
    description = r.text(raw.get("description"), f"{place}.description")
    repeat = r.whole(raw["repeat"], f"{place}.repeat", 0, oncall.MAX_REPEAT) if "repeat" in raw else None
    steps = _read_steps(r, raw.get("steps"), f"{place}.steps")
    if steps is not None and len(steps) > oncall.MAX_STEPS:
        r.fail(f"{place}.steps", f"a policy has at most {oncall.MAX_STEPS} steps")
    if name is None or team is None:
        return None
    return PolicyDoc(place, name, team, description, repeat, steps)


def _read_workflow(r: _Reader, item: object, place: str) -> WorkflowDoc | None:
    raw = r.mapping(item, place, WORKFLOW_FIELDS)
    if raw is None:
        return None
    name = r.text(raw.get("name"), f"{place}.name", required=True, max_len=automation.NAME_MAX)
    team = r.text(raw.get("team"), f"{place}.team", required=True)
    if name is None or team is None:
        return None
    doc = WorkflowDoc(place, name, team)
    if "trigger" in raw:
        doc.trigger = r.choice(raw["trigger"], f"{place}.trigger", "trigger", Trigger.values)
    if "enabled" in raw:
        if isinstance(raw["enabled"], bool):
            doc.enabled = raw["enabled"]
        else:
            r.fail(f"{place}.enabled", f"must be true or false, not {_what(raw['enabled'])}")
    if "priorities" in raw:
        doc.priorities = [
            p
            for i, value in enumerate(r.items(raw["priorities"], f"{place}.priorities"))
            if (p := r.whole(value, f"{place}.priorities[{i}]", 1, 5)) is not None
        ]
    doc.services = r.texts(raw.get("services"), f"{place}.services")
    doc.tasks = r.texts(raw.get("tasks"), f"{place}.tasks")
    doc.notify = r.texts(raw.get("notify"), f"{place}.notify")
    doc.roles = r.email_map(raw.get("roles"), f"{place}.roles")
    if "urgency" in raw:
        doc.urgency = r.choice(raw["urgency"], f"{place}.urgency", "urgency", Urgency.values)
    doc.message = r.text(raw.get("message"), f"{place}.message", max_len=automation.MESSAGE_MAX)
    doc.webhook_url = r.text(raw.get("webhook_url"), f"{place}.webhook_url", max_len=WEBHOOK_URL_MAX)
    return doc  # a new workflow needs a trigger: checked against the database (an existing one keeps its own)


def _refuse_repeats(r: _Reader, docs: Iterable[Any], key: Callable[[Any], Any], what: str) -> None:
    seen: dict[Any, str] = {}
    for doc in docs:
        k = key(doc)
        if k in seen:
            r.fail(doc.place, f"{what} {_quote(doc.name)} is already in the file at {seen[k]}")
        else:
            seen[k] = doc.place


def parse(text: str) -> ConfigDoc:
    """The file's content, its shape checked (no database). Raises :class:`ApplyFailed` with every error."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ApplyFailed([f"not valid YAML: {where}{problem}"]) from None
    if not isinstance(data, dict):
        raise ApplyFailed(
            [f"the file must be a mapping with {', '.join(SECTIONS)} (any of them), not {_what(data)}"]
        )
    r = _Reader()
    for key in data:
        if key not in SECTIONS:
            r.fail(str(key), f"unknown top-level key (the file may have {', '.join(SECTIONS)})")
    doc = ConfigDoc()
    readers: tuple[tuple[str, list[Any], Callable[[_Reader, object, str], Any]], ...] = (
        ("teams", doc.teams, _read_team),
        ("services", doc.services, _read_service),
        ("escalation_policies", doc.policies, _read_policy),
        ("workflows", doc.workflows, _read_workflow),
    )
    for section, into, read in readers:
        for i, item in enumerate(r.items(data.get(section), section)):
            parsed = read(r, item, _item_place(section, i, item))
            if parsed is not None:
                into.append(parsed)
    _refuse_repeats(r, doc.teams, lambda d: d.name.lower(), "team")
    _refuse_repeats(r, doc.services, lambda d: d.name.lower(), "service")
    _refuse_repeats(r, doc.policies, lambda d: (d.team.lower(), d.name.lower()), "policy")
    _refuse_repeats(r, doc.workflows, lambda d: (d.team.lower(), d.name.lower()), "workflow")
    if r.errors:
        raise ApplyFailed(r.errors)
    return doc


# ---------------------------------------------------------------------------------------------------------------
# references: what the file names exists, in the file or in the database


def _matches(ref: str, name: str) -> bool:
    """A reference names an object of the file by its name (any case) or the slug that name gets."""
    return ref.lower() == name.lower() or ref == slugify(name)


class _Resolver:
    """Checks every reference of the file against the file and the database, collecting every error.

    Teams are known by a key: ``file:<index>`` for a team of the file (existing or not), ``db:<pk>`` for a team
    only in the database."""

    def __init__(self, doc: ConfigDoc) -> None:
        self.doc = doc
        self.errors: list[str] = []
        self.existing_teams: dict[int, Team] = {}  # file index → the team in the database
        for i, team in enumerate(doc.teams):
            found = _find_team(team.name)
            if found is not None:
                self.existing_teams[i] = found
        emails = {e for t in doc.teams for e in t.members}
        emails |= {
            ref.lower() for p in doc.policies for s in p.steps or () for _, k, ref in s.targets if k == "user"
        }
        for w in doc.workflows:
            emails |= {e.lower() for e in (w.roles or {}).values()} | {e.lower() for e in w.notify or ()}
        self.users = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
        self.role_types = set(RoleType.objects.values_list("slug", flat=True))

    def fail(self, place: str, message: str) -> None:
        self.errors.append(f"{place}: {message}")

    def team_key(self, ref: str, place: str) -> str | None:
        for i, team in enumerate(self.doc.teams):
            if _matches(ref, team.name):
                return f"file:{i}"
        found = _find_team(ref)
        if found is None:
            self.fail(place, f"no team {_quote(ref)} (not in the file, not in the database)")
            return None
        for i, existing in self.existing_teams.items():
            if existing.pk == found.pk:
                return f"file:{i}"
        return f"db:{found.pk}"

    def team_pk(self, key: str) -> int | None:
        kind, _, rest = key.partition(":")
        if kind == "db":
            return int(rest)
        existing = self.existing_teams.get(int(rest))
        return existing.pk if existing else None

    def team_name(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind == "file":
            return self.doc.teams[int(rest)].name
        return Team.objects.get(pk=int(rest)).name

    def user(self, email: str, place: str, *, active: bool) -> User | None:
        found = self.users.get(email.lower())
        if found is None:
            self.fail(place, f"no person with email {_quote(email)} (create them with `warroom user create`)")
            return None
        if active and not found.is_active:
            self.fail(place, f"{email} is deactivated")
            return None
        return found

    def is_member(self, user: User, team_key: str) -> bool:
        kind, _, rest = team_key.partition(":")
        if kind == "file" and user.email.lower() in self.doc.teams[int(rest)].members:
            return True
        pk = self.team_pk(team_key)
        return pk is not None and Membership.objects.filter(user=user, team_id=pk).exists()

    def check(self) -> None:
        self._check_teams()
        policy_keys = self._check_policies()
        service_teams = self._check_services(policy_keys)
        self._check_workflows(service_teams)
        if self.errors:
            raise ApplyFailed(self.errors)

    def _check_teams(self) -> None:
        for team in self.doc.teams:
            for email in team.members:
                self.user(email, f"{team.place}.members[{_quote(email)}]", active=False)

    def _check_policies(self) -> set[tuple[str, str]]:
        """Also: every policy the file or the database has for the teams of the file, as (team key, name)."""
        known: set[tuple[str, str]] = set()
        for policy in self.doc.policies:
            key = self.team_key(policy.team, f"{policy.place}.team")
            if key is not None:
                known.add((key, policy.name.lower()))
            for step in policy.steps or ():
                for place, kind, ref in step.targets:
                    self._check_target(place, kind, ref, key)
        return known

    def _check_target(self, place: str, kind: str, ref: str, team_key: str | None) -> None:
        if kind == TargetKind.USER:
            self.user(ref, place, active=True)
        elif kind == TargetKind.TEAM:
            self.team_key(ref, place)
        elif team_key is not None:
            _find_schedule(ref, self.team_pk(team_key), place, self.errors)

    def _check_services(self, policies: set[tuple[str, str]]) -> dict[str, str]:
        """Also: the team key of every service of the file, by its name in lower case."""
        teams: dict[str, str] = {}
        for service in self.doc.services:
            key = self.team_key(service.team, f"{service.place}.team")
            if key is None:
                continue
            teams[service.name.lower()] = key
            if service.escalation_policy is None:
                continue
            pk = self.team_pk(key)
            name = service.escalation_policy
            in_db = pk is not None and EscalationPolicy.objects.filter(team_id=pk, name__iexact=name).exists()
            if (key, name.lower()) not in policies and not in_db:
                self.fail(
                    f"{service.place}.escalation_policy",
                    f"no policy {_quote(name)} of team {self.team_name(key)} (not in the file, not in the database)",
                )
        return teams

    def _check_workflows(self, service_teams: dict[str, str]) -> None:
        for flow in self.doc.workflows:
            key = self.team_key(flow.team, f"{flow.place}.team")
            if key is None:
                continue
            team_pk = self.team_pk(key)
            exists = (
                team_pk is not None
                and Workflow.objects.filter(team_id=team_pk, name__iexact=flow.name).exists()
            )
            if flow.trigger is None and not exists:
                self.fail(
                    f"{flow.place}.trigger", f"a new workflow needs a trigger ({', '.join(Trigger.values)})"
                )
            for i, ref in enumerate(flow.services or ()):
                self._check_workflow_service(f"{flow.place}.services[{i}]", ref, key, service_teams)
            for slug, email in (flow.roles or {}).items():
                where = f"{flow.place}.roles[{_quote(slug)}]"
                if slug not in self.role_types:
                    self.fail(where, f"no role {_quote(slug)} (one of {', '.join(sorted(self.role_types))})")
                self._check_member(email, where, key)
            for i, email in enumerate(flow.notify or ()):
                self._check_member(email, f"{flow.place}.notify[{i}]", key)

    def _check_workflow_service(self, place: str, ref: str, key: str, service_teams: dict[str, str]) -> None:
        service_key = next((k for name, k in service_teams.items() if _matches(ref, name)), None)
        if service_key is None:
            found = _find_service(ref)
            if found is None:
                self.fail(place, f"no service {_quote(ref)} (not in the file, not in the database)")
                return
            service_key = self.team_key(found.team.slug, place) or ""
        if service_key != key:
            self.fail(place, f"{ref} is not a service of {self.team_name(key)}")

    def _check_member(self, email: str, place: str, key: str) -> None:
        user = self.user(email, place, active=True)
        if user is not None and not self.is_member(user, key):
            self.fail(place, f"{email} is not a member of {self.team_name(key)}")


def _find_team(ref: str) -> Team | None:
    return Team.objects.filter(name__iexact=ref).first() or Team.objects.filter(slug=ref).first()


def _find_service(ref: str) -> Service | None:
    found = Service.objects.select_related("team").filter(name__iexact=ref).first()
    return found or Service.objects.select_related("team").filter(slug=ref).first()


def _find_schedule(ref: str, team_pk: int | None, place: str, errors: list[str]) -> Schedule | None:
    """The schedule named ``ref``: the policy's team's, else the only one of that name in any team."""
    if team_pk is not None:
        own = Schedule.objects.filter(team_id=team_pk, name__iexact=ref).first()
        if own is not None:
            return own
    found = list(Schedule.objects.filter(name__iexact=ref).select_related("team")[:5])
    if len(found) == 1:
        return found[0]
    if not found:
        errors.append(
            f"{place}: no schedule {_quote(ref)} (schedules are made in the console or the API, not by this file)"
        )
    else:
        teams = ", ".join(s.team.name for s in found)
        errors.append(
            f"{place}: several schedules are named {_quote(ref)} (teams {teams}); name one of its team's"
        )
    return None


# ---------------------------------------------------------------------------------------------------------------
# the plan and the apply


def _show(value: object) -> str | None:
    """A value as a plan line shows it, or ``None`` when it is too long to show."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "(none)"
    text = str(value)
    if text == "":
        return '""'
    if len(text) > SHOWN_MAX or "\n" in text:
        return None
    return text


#: fields whose old and new values a plan line shows (the others, text and lists, are named only)
SHOWN_FIELDS = frozenset(
    {"sso_group", "team", "tier", "escalation_policy", "repeat", "trigger", "enabled", "urgency"}
)


def _change(name: str, before: object, after: object) -> str:
    old, new = _show(before), _show(after)
    return name if old is None or new is None or name not in SHOWN_FIELDS else f"{name} {old} → {new}"


def _line(sign: str, what: str, name: str, changes: list[str] | None = None) -> str:
    verb = {"+": "create", "~": "update", "=": "unchanged"}[sign]
    return f"{sign} {verb} {what} {name}" + (f" ({', '.join(changes)})" if changes else "")


class _Refused(Exception):
    """A service refused a change: its message at its place in the file (``add_field``: the place is an object
    of the file, and the field the service names is added to it)."""

    def __init__(self, place: str, exc: ServiceError, *, add_field: bool) -> None:
        message = exc.message
        if exc.field:
            message = message.removeprefix(f"{exc.field}: ")
            if add_field:
                place = f"{place}.{FILE_NAMES.get(exc.field, exc.field)}"
        super().__init__(f"{place}: {message}")


@dataclass
class Plan:
    """What an apply did (or, dry, would do): one line per object, and the counts of each kind of line."""

    lines: list[str] = field(default_factory=list)
    dry_run: bool = False

    def add(self, line: str) -> None:
        self.lines.append(line)

    def count(self, sign: str) -> int:
        return sum(1 for line in self.lines if line.startswith(sign))

    @property
    def changes(self) -> int:
        return self.count("+") + self.count("~")


class _Applier:
    def __init__(self, doc: ConfigDoc, resolver: _Resolver, plan: Plan) -> None:
        self.doc = doc
        self.resolver = resolver
        self.plan = plan
        self.teams: dict[str, Team] = {}

    def call(self, place: str, write: Callable[..., Any], *, add_field: bool = True, **kwargs: Any) -> Any:
        """``write(**kwargs)`` as the command line (no actor, source ``cli``); a refusal names ``place``."""
        try:
            return write(actor=None, source=SOURCE, **kwargs)
        except ServiceError as exc:
            raise _Refused(place, exc, add_field=add_field) from None

    def team(self, ref: str, place: str) -> Team:
        key = self.resolver.team_key(ref, place)
        if key is None:  # checked before: cannot happen
            raise ApplyFailed(self.resolver.errors)
        if key not in self.teams:
            self.teams[key] = Team.objects.get(pk=int(key.removeprefix("db:")))
        return self.teams[key]

    def run(self) -> None:
        for i, team in enumerate(self.doc.teams):
            self.apply_team(i, team)
        for policy in self.doc.policies:
            self.apply_policy(policy)
        for service in self.doc.services:
            self.apply_service(service)
        for flow in self.doc.workflows:
            self.apply_workflow(flow)

    # teams ------------------------------------------------------------------------------------------------------

    def apply_team(self, index: int, doc: TeamDoc) -> None:
        existing = self.resolver.existing_teams.get(index)
        team = existing
        if team is None:
            team = self.call(
                doc.place, accounts.create_team, name=doc.name, description=doc.description or ""
            )
        changes: list[str] = []
        self.teams[f"file:{index}"] = team
        if doc.description is not None and doc.description != team.description:
            changes.append("description")
            place = f"{doc.place}.description"
            team = self.call(
                place, accounts.set_team_description, add_field=False, team=team, description=doc.description
            )
        if doc.sso_group is not None and doc.sso_group != team.sso_group:
            changes.append(_change("sso_group", team.sso_group, doc.sso_group))
            place = f"{doc.place}.sso_group"
            self.call(place, accounts.set_team_sso_group, add_field=False, team=team, group=doc.sso_group)
        roles = dict(Membership.objects.filter(team=team).values_list("user__email", "role"))
        roles = {email.lower(): role for email, role in roles.items()}
        for email, role in doc.members.items():
            current = roles.get(email)
            if current == role:
                continue
            place = f"{doc.place}.members[{_quote(email)}]"
            changes.append(
                f"+member {email} {role}" if current is None else f"member {email} {current} → {role}"
            )
            user = self.resolver.users[email]
            self.call(place, accounts.set_membership, add_field=False, team=team, user=user, role=role)
        if existing is None:
            self.plan.add(_line("+", "team", doc.name))
        else:
            self.plan.add(_line("~" if changes else "=", "team", team.name, changes))

    # escalation policies ----------------------------------------------------------------------------------------

    def steps(self, doc: PolicyDoc, team: Team) -> list[oncall.StepSpec]:
        out = []
        for step in doc.steps or ():
            targets = []
            for place, kind, ref in step.targets:
                if kind == TargetKind.USER:
                    targets.append(oncall.TargetSpec(kind, self.resolver.users[ref.lower()].pk))
                elif kind == TargetKind.TEAM:
                    targets.append(oncall.TargetSpec(kind, self.team(ref, place).pk))
                else:
                    errors: list[str] = []
                    schedule = _find_schedule(ref, team.pk, place, errors)
                    if schedule is None:
                        raise ApplyFailed(errors)
                    targets.append(oncall.TargetSpec(kind, schedule.pk))
            out.append(oncall.StepSpec(delay_minutes=step.delay_minutes, targets=tuple(targets)))
        return out

    def apply_policy(self, doc: PolicyDoc) -> None:
        team = self.team(doc.team, f"{doc.place}.team")
        steps = self.steps(doc, team) if doc.steps is not None else None
        existing = EscalationPolicy.objects.filter(team=team, name__iexact=doc.name).first()
        fields: dict[str, Any] = {}
        if doc.description is not None:
            fields["description"] = doc.description
        if doc.repeat is not None:
            fields["repeat"] = doc.repeat
        if existing is None:
            self.call(doc.place, oncall.create_policy, team=team, name=doc.name, steps=steps or (), **fields)
            self.plan.add(_line("+", "policy", doc.name))
            return
        wanted = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        changes = [_change(k, getattr(existing, k), v) for k, v in wanted.items()]
        if steps is not None and _step_rows(steps) != _current_steps(existing):
            changes.append("steps")
        else:
            steps = None
        if changes:
            self.call(doc.place, oncall.update_policy, policy=existing, steps=steps, **wanted)
        self.plan.add(_line("~" if changes else "=", "policy", existing.name, changes))

    # services ---------------------------------------------------------------------------------------------------

    def apply_service(self, doc: ServiceDoc) -> None:
        team = self.team(doc.team, f"{doc.place}.team")
        existing = _find_service(doc.name)
        if existing is None:
            service = self.call(doc.place, catalog.create_service, team=team, name=doc.name, **doc.fields)
            changes: list[str] = []
        else:
            service = existing
            wanted = {k: v for k, v in doc.fields.items() if getattr(existing, k) != v}
            changes = [_change(k, getattr(existing, k), v) for k, v in wanted.items()]
            move: dict[str, Any] = {"team": team} if existing.team_id != team.pk else {}
            if move:
                changes.insert(0, _change("team", existing.team.name, team.name))
            if changes:
                service = self.call(doc.place, catalog.update_service, service=existing, **move, **wanted)
        if doc.escalation_policy is not None:
            policy = EscalationPolicy.objects.filter(team=team, name__iexact=doc.escalation_policy).first()
            current = ServicePolicy.objects.filter(service=service).select_related("policy").first()
            if policy is None:  # checked before: cannot happen
                raise ApplyFailed(
                    [f"{doc.place}.escalation_policy: no policy {_quote(doc.escalation_policy)}"]
                )
            if current is None or current.policy_id != policy.pk:
                if existing is not None:
                    changes.append(
                        _change("escalation_policy", current.policy.name if current else None, policy.name)
                    )
                place = f"{doc.place}.escalation_policy"
                self.call(place, oncall.set_service_policy, add_field=False, service=service, policy=policy)
        if existing is None:
            self.plan.add(_line("+", "service", doc.name))
        else:
            self.plan.add(_line("~" if changes else "=", "service", existing.name, changes))

    # workflows --------------------------------------------------------------------------------------------------

    def spec(self, doc: WorkflowDoc, team: Team, existing: Workflow | None) -> automation.WorkflowSpec:
        base = automation.describe(existing) if existing is not None else {}
        users = self.resolver.users
        services = None
        if doc.services is not None:
            services = [s.pk for ref in doc.services if (s := _find_service(ref)) is not None]
        return automation.WorkflowSpec(
            name=existing.name if existing is not None else doc.name,
            trigger=doc.trigger if doc.trigger is not None else base.get("trigger", ""),
            enabled=doc.enabled if doc.enabled is not None else base.get("enabled", True),
            priorities=doc.priorities if doc.priorities is not None else base.get("priorities", []),
            services=services if services is not None else base.get("services", []),
            tasks=doc.tasks if doc.tasks is not None else base.get("tasks", []),
            roles=(
                {slug: users[email.lower()].pk for slug, email in doc.roles.items()}
                if doc.roles is not None
                else base.get("roles", {})
            ),
            notify_users=(
                [users[email.lower()].pk for email in doc.notify]
                if doc.notify is not None
                else base.get("notify_users", [])
            ),
            notify_urgency=doc.urgency
            if doc.urgency is not None
            else base.get("notify_urgency", Urgency.HIGH),
            message=doc.message if doc.message is not None else base.get("message", ""),
            webhook_url=doc.webhook_url if doc.webhook_url is not None else base.get("webhook_url", ""),
        )

    def apply_workflow(self, doc: WorkflowDoc) -> None:
        team = self.team(doc.team, f"{doc.place}.team")
        existing = Workflow.objects.filter(team=team, name__iexact=doc.name).first()
        spec = self.spec(doc, team, existing)
        if existing is None:
            made = self.call(doc.place, automation.create_workflow, team=team, spec=spec)
            self.plan.add(_line("+", "workflow", doc.name))
            self.reveal(made)
            return
        before = automation.describe(existing)
        after = _described(spec, team)
        changes = [
            _change(FILE_NAMES.get(k, k), before[k], v) for k, v in after.items() if before.get(k) != v
        ]
        updated = None
        if changes:
            updated = self.call(doc.place, automation.update_workflow, workflow=existing, spec=spec)
        self.plan.add(_line("~" if changes else "=", "workflow", existing.name, changes))
        if updated is not None:
            self.reveal(updated)

    def reveal(self, workflow: Workflow) -> None:
        """A new webhook signing secret is printed under its workflow's line, this once (never in a dry run,
        whose secret is not kept)."""
        if not workflow.revealed_secret:
            return
        if self.plan.dry_run:
            self.plan.add("    its webhook would get a new signing secret, shown when applied")
        else:
            self.plan.add(
                f"    its webhook's new signing secret (shown only now): {workflow.revealed_secret}"
            )


#: the file's name of a workflow field
FILE_NAMES = {"notify_users": "notify", "notify_urgency": "urgency"}


def _described(spec: automation.WorkflowSpec, team: Team) -> dict[str, Any]:
    """What :func:`automation.describe` will say of a workflow saved from ``spec`` (to compare before saving)."""
    return {
        "name": spec.name.strip(),
        "team": team.pk,
        "trigger": spec.trigger,
        "enabled": bool(spec.enabled),
        "priorities": sorted(set(spec.priorities)),
        "services": sorted(set(spec.services)),
        "tasks": [t.strip() for t in spec.tasks if t.strip()],
        "roles": dict(sorted(spec.roles.items())),
        "notify_users": sorted(set(spec.notify_users)),
        "notify_urgency": spec.notify_urgency,
        "message": (spec.message or "").strip(),
        "webhook_url": (spec.webhook_url or "").strip(),
    }


def _step_rows(steps: Iterable[oncall.StepSpec]) -> list[tuple[int, list[tuple[str, int]]]]:
    return [(s.delay_minutes, [(t.kind, t.id) for t in s.targets]) for s in steps]


def _current_steps(policy: EscalationPolicy) -> list[tuple[int, list[tuple[str, int]]]]:
    return [
        (
            step.delay_minutes,
            [(t.kind, t.user_id or t.schedule_id or t.team_id or 0) for t in step.targets.all()],
        )
        for step in oncall_selectors.steps_of(policy)
    ]


class _DryRun(Exception):
    """Raised at the end of a dry run to roll its writes back."""


def apply(doc: ConfigDoc, *, dry_run: bool = False) -> Plan:
    """Apply ``doc`` in one transaction (``dry_run``: then roll it back) and return the plan. Raises
    :class:`ApplyFailed` (having written nothing) when a reference is wrong or a service refuses a change."""
    plan = Plan(dry_run=dry_run)
    try:
        with transaction.atomic():
            resolver = _Resolver(doc)
            resolver.check()
            try:
                _Applier(doc, resolver, plan).run()
            except _Refused as exc:
                raise ApplyFailed([str(exc)]) from None
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return plan


def apply_text(text: str, *, dry_run: bool = False) -> Plan:
    """:func:`parse` then :func:`apply`."""
    return apply(parse(text), dry_run=dry_run)


def summary(plan: Plan) -> str:
    """One line saying what the plan did, for the end of the output."""
    counts = f"{plan.count('+')} to create, {plan.count('~')} to update, {plan.count('=')} unchanged"
    if plan.dry_run:
        return f"dry run: {counts}; nothing was changed"
    if not plan.changes:
        return f"nothing to change ({plan.count('=')} unchanged)"
    return f"applied: {plan.count('+')} created, {plan.count('~')} updated, {plan.count('=')} unchanged"
