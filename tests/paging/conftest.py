"""Paging fixtures: the standard world with the clock frozen on Monday 2 March 2026 09:00 UTC, alice and bob
reachable through verified webhooks (high urgency) and email (low urgency), and helpers to build policies,
declare incidents on Checkout and run the escalation module."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import World
from tests.notify.conftest import loopback_allowed, twilio, verified  # noqa: F401 (fixtures of the reply tests)
from warroom.accounts.models import User
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Category, Message
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import IncidentEscalation, Page

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def loopback(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)


def reachable(user: User) -> None:
    """A verified webhook (high urgency, immediate) and nothing else: one message per page."""
    verified(user, "webhook", f"http://127.0.0.1:9/hook/{user.pk}", name=f"hook of {user.pk}")
    Message.objects.filter(category=Category.VERIFICATION).delete()


@pytest.fixture
def now(world: World, loopback: None) -> Iterator[datetime]:
    with clock.frozen(T0):
        reachable(world.alice)
        reachable(world.bob)
        yield T0


def user_steps(*steps: Sequence[User], delay: int = 5) -> list[StepSpec]:
    return [StepSpec(delay, [TargetSpec("user", u.pk) for u in people]) for people in steps]


def make_policy(
    world: World, steps: list[StepSpec], *, repeat: int = 0, name: str = "Primary"
) -> EscalationPolicy:
    policy = oncall.create_policy(
        team=world.team_a, name=name, repeat=repeat, steps=steps, actor=None, source="system"
    )
    oncall.set_service_policy(service=world.service_a, policy=policy, actor=None, source="system")
    return policy


def declare(
    world: World, *, urgency: int = 1, impact: int = 1, title: str = "Checkout returns 500"
) -> Incident:
    return incidents.declare_incident(
        actor=None,
        source="system",
        title=title,
        team=world.team_a,
        services=[world.service_a],
        impact=impact,
        urgency=urgency,
        reporter=None,
    )


def run() -> int:
    return paging.run(clock.now())


def pages_to(user: User, incident: Incident | None = None) -> int:
    """Notification rows addressed to ``user`` (for ``incident``)."""
    qs = Message.objects.filter(user=user, category=Category.NOTIFICATION)
    if incident is not None:
        qs = qs.filter(group=paging.group_of(incident.pk))
    return qs.count()


def timeline(incident: Incident) -> list[str]:
    return list(
        incident.timeline.filter(field="paging").order_by("at", "id").values_list("message", flat=True)
    )


def escalation(incident: Incident) -> IncidentEscalation:
    return IncidentEscalation.objects.get(incident=incident)


def acknowledge(incident: Incident, who: User) -> Incident:
    return incidents.transition_incident(incident=incident, actor=who, source="web", to="in_progress")


__all__ = ["Page", "notify"]
