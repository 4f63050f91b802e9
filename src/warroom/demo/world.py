"""What the demo seed has made so far, by the keys :mod:`warroom.demo.data` uses (shared by the seed modules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from warroom.accounts.models import Team, User
from warroom.catalog.models import Service
from warroom.demo.data import PEOPLE, PersonSpec
from warroom.incidents.models import Incident, Task, format_number
from warroom.oncall.models import EscalationPolicy, Schedule


@dataclass
class World:
    """What exists so far, by the keys the demo data uses."""

    people: dict[str, User] = field(default_factory=dict)
    specs: dict[str, PersonSpec] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    incident_pks: dict[str, int] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    policies: dict[str, EscalationPolicy] = field(default_factory=dict)
    #: integration name → the key secret its sender uses
    keys: dict[str, str] = field(default_factory=dict)
    task_pks: dict[tuple[str, int], int] = field(default_factory=dict)

    def incident(self, key: str) -> Incident:
        return Incident.objects.get(pk=self.incident_pks[key])

    def task(self, key: str, index: int) -> Task:
        return Task.objects.select_related("incident").get(pk=self.task_pks[(key, index)])

    def members(self, team: str, *roles: str) -> list[User]:
        return [self.people[p.key] for p in PEOPLE if p.team == team and (not roles or p.role in roles)]

    def refs(self, text: str) -> str:
        """Replace ``[[key]]`` with the number of that incident."""
        return re.sub(r"\[\[([a-z0-9-]+)\]\]", lambda m: format_number(self.number(m.group(1))), text)

    def number(self, key: str) -> int:
        return Incident.objects.values_list("number", flat=True).get(pk=self.incident_pks[key])
