"""Helpers of the major-incident tests: incidents declared at an instant, the engine module run at an instant,
and verified webhooks so that notifications have somewhere to go."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.conftest import World
from warroom.accounts.models import User
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Category, ContactMethod, Message

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def declare(world: World, when: datetime = T0, **fields: Any) -> Incident:
    """A P1 incident of team A (impact and urgency High) declared by alice at ``when``."""
    values: dict[str, Any] = {"title": "Checkout down", "team": world.team_a, "impact": 1, "urgency": 1}
    actor = fields.pop("actor", world.alice)
    values.update(fields)
    with clock.frozen(when):
        return incidents.declare_incident(actor=actor, source="test", **values)


def run(when: datetime) -> int:
    with clock.frozen(when):
        return major.run_engine(when)


def webhook(user: User, name: str = "hook") -> ContactMethod:
    """A verified webhook contact method (with the default immediate rules)."""
    method = notify.create_contact_method(
        user=user,
        kind="webhook",
        name=name,
        address=f"https://hooks.example.com/{user.pk}/{name}",
        actor=user,
        source="test",
    ).method
    code = (
        Message.objects.filter(contact_method=method, category=Category.VERIFICATION)
        .latest("id")
        .context["code"]
    )
    return notify.verify_contact_method(method=method, code=str(code), actor=user, source="test")


def messages(prefix: str, user: User | None = None) -> list[Message]:
    rows = Message.objects.filter(dedup_key__startswith=prefix).order_by("id")
    if user is not None:
        rows = rows.filter(user=user)
    return list(rows)


def lines(incident: Incident, field: str) -> list[str]:
    return [
        e.message for e in TimelineEntry.objects.filter(incident=incident, field=field).order_by("at", "id")
    ]
