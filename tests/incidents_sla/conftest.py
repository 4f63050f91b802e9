"""Helpers of the SLA tests: calendars and definitions made through the services, incidents declared at a
given instant, the engine module run directly, and contact methods so that notifications have somewhere to go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.browser.conftest import browser, console, page, playwright  # noqa: F401 (Chromium, for test_browser)
from tests.conftest import World
from warroom.accounts.models import User
from warroom.incidents import services as incidents
from warroom.incidents import sla_services
from warroom.incidents.models import BusinessCalendar, Incident, SlaClock, SlaDefinition, TimelineEntry
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Category, ContactMethod, Message

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@contextmanager
def at(when: datetime) -> Iterator[datetime]:
    with clock.frozen(when):
        yield when


def office_calendar(
    name: str = "London office", *, zone: str = "Europe/London", **extra: Any
) -> BusinessCalendar:
    return sla_services.create_calendar(
        actor=None, source="system", name=name, time_zone=zone, working_hours=OFFICE, **extra
    )


def define(*, priority: int = 3, name: str | None = None, **fields: Any) -> SlaDefinition:
    return sla_services.create_definition(
        actor=None, source="system", name=name or f"P{priority} SLA", priority=priority, **fields
    )


def declare(world: World, when: datetime, **fields: Any) -> Incident:
    """An incident (default: team A, service Checkout, impact and urgency 2 so priority 3, declared by alice)
    opened at ``when``."""
    values: dict[str, Any] = {
        "title": "Checkout returns 500",
        "team": world.team_a,
        "services": [world.service_a],
    }
    actor = fields.pop("actor", world.alice)
    values.update(fields)
    with clock.frozen(when):
        return incidents.declare_incident(actor=actor, source="test", **values)


def move(incident: Incident, when: datetime, to: str, actor: User | None = None, **extra: Any) -> Incident:
    if to == "resolved":
        extra.setdefault("resolution_code", "permanent_fix")
        extra.setdefault("resolution_notes", "Rolled back.")
    if to == "on_hold":
        extra.setdefault("hold_reason", "awaiting_vendor")
    with clock.frozen(when):
        return incidents.transition_incident(incident=incident, actor=actor, source="test", to=to, **extra)


def update(incident: Incident, when: datetime, **fields: Any) -> Incident:
    with clock.frozen(when):
        return incidents.update_incident(incident=incident, actor=None, source="test", **fields)


def run(when: datetime) -> int:
    """The engine module's work at ``when`` (what ``incidents.sla`` does in a cycle)."""
    with clock.frozen(when):
        return sla_services.run_engine(when)


def clocks(incident: Incident, *, cancelled: bool = False) -> dict[str, SlaClock]:
    """The incident's counting clocks by kind (or, with ``cancelled``, a list under "cancelled")."""
    rows = SlaClock.objects.filter(incident=incident)
    if cancelled:
        return {f"{c.kind}:{c.pk}": c for c in rows}
    return {c.kind: c for c in rows.exclude(state="cancelled")}


def sla_lines(incident: Incident, kind: str | None = None) -> list[str]:
    rows = TimelineEntry.objects.filter(incident=incident, field__startswith="sla").order_by("at", "id")
    if kind is not None:
        rows = rows.filter(field=f"sla_{kind}")
    return [e.message for e in rows]


def sla_values(incident: Incident, kind: str) -> list[str]:
    rows = TimelineEntry.objects.filter(incident=incident, field=f"sla_{kind}").order_by("at", "id")
    return [e.new_value for e in rows]


def webhook(user: User, name: str = "hook") -> ContactMethod:
    """A verified webhook contact method with an immediate high- and low-urgency rule."""
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


def sla_messages(user: User | None = None) -> list[Message]:
    rows = Message.objects.filter(dedup_key__startswith="sla:").order_by("id")
    if user is not None:
        rows = rows.filter(user=user)
    return list(rows)
