"""The hand-built data set of the metrics tests. Every figure the tests expect was worked out by hand from the
timestamps below; the arithmetic is written next to each assertion.

The period is the four ISO weeks from Monday 2026-03-02 to Sunday 2026-03-29 (UTC); "now" is 2026-04-01 12:00.

Incidents (team A unless said; P1 = impact 1 × urgency 1, P2 = 1 × 2, P3 = 2 × 2):

=====  ====  ==================  ==========  ====================  =========  ==========  ============
name   prio  services            category    opened (UTC)          acked      resolved    first alert
=====  ====  ==================  ==========  ====================  =========  ==========  ============
I1     P1    Checkout            Network     Mon 03-02 10:00       10:05      11:00       09:58
I2     P2    Checkout            Network     Tue 03-03 14:00       14:10      16:00       13:55
I3     P3    Search              –           Tue 03-10 09:00       09:30      (open)      –
I4     P3    Checkout, Search    Software    Wed 03-11 22:00       –          –           22:30 (after)
I5     P2    Checkout            –           Fri 03-20 08:00       08:50 (*)  08:50       07:00
I6     P3    Checkout            –           Sat 03-21 10:00       cancelled 10:05
I7     P1    Billing (team B)    –           Thu 03-05 10:00       10:01      10:31       –
I8     P1    Checkout            –           Fri 02-27 10:00       (before the period)
=====  ====  ==================  ==========  ====================  =========  ==========  ============

(*) resolved straight from New by a person: resolving acknowledges too (the system resolving does not).

SLA definitions for all teams: P1 response 10 min / resolution 120 min; P2 response 5 min / resolution 60 min.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.browser.conftest import browser, console, page, phone, playwright  # noqa: F401 (Chromium)
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts.models import Alert, AlertStatus, Integration
from warroom.analytics import rollup
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.incidents import services as incidents
from warroom.incidents import sla_services
from warroom.incidents.models import Category, Incident
from warroom.lib import clock
from warroom.notify.models import WorkingHours
from warroom.paging.models import IncidentEscalation, Page
from warroom.reviews.models import ActionItem, Postmortem, PostmortemPolicy

FIRST = date(2026, 3, 2)
LAST = date(2026, 3, 29)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
PERIOD = {"start": FIRST.isoformat(), "end": LAST.isoformat()}


def at(day: str, hhmm: str) -> datetime:
    """``at("03-02", "10:00")`` → 2026-03-02 10:00 UTC."""
    return datetime.combine(date.fromisoformat(f"2026-{day}"), time.fromisoformat(hhmm), tzinfo=UTC)


@dataclass
class Data:
    world: World
    search: Service
    incidents: dict[str, Incident]
    prometheus: Integration
    grafana: Integration
    billing_hook: Integration


def _declare(world: World, name: str, when: datetime, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "title": f"{name}: something broke",
        "team": world.team_a,
        "impact": 2,
        "urgency": 2,
    }
    values.update(fields)
    actor = world.charlie if values["team"] == world.team_b else world.alice
    with clock.frozen(when):
        return incidents.declare_incident(actor=actor, source="test", **values)


def _move(incident: Incident, when: datetime, to: str) -> Incident:
    extra: dict[str, Any] = {}
    if to == "resolved":
        extra = {"resolution_code": "permanent_fix", "resolution_notes": "Fixed."}
    with clock.frozen(when):
        declared = incident.timeline.exclude(actor=None).earliest("id")  # a person works the incident
        return incidents.transition_incident(
            incident=incident, actor=declared.actor, source="test", to=to, **extra
        )


def _integration(service: Service, name: str, kind: str) -> Integration:
    return Integration.objects.create(service=service, name=name, kind=kind, created_at=at("01-01", "00:00"))


def alert(
    integration: Integration,
    key: str,
    first_seen: datetime,
    *,
    incident: Incident | None = None,
    resolved: datetime | None = None,
    acknowledged: datetime | None = None,
    count: int = 1,
    suppressed: bool = False,
) -> Alert:
    status = AlertStatus.RESOLVED if resolved else (AlertStatus.ACKNOWLEDGED if acknowledged else "triggered")
    return Alert.objects.create(
        integration=integration,
        service=integration.service,
        dedup_key=key,
        status=status,
        summary=f"{key} alert",
        first_seen=first_seen,
        last_seen=resolved or first_seen,
        count=count,
        incident=incident,
        suppressed=suppressed,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
    )


def make_page(
    incident: Incident, user: User, when: datetime, *, loop: int = 0, reachable: bool = True
) -> Page:
    escalation, _ = IncidentEscalation.objects.get_or_create(
        incident=incident,
        defaults={
            "status": "acknowledged",
            "started_at": incident.opened_at,
            "updated_at": incident.opened_at,
        },
    )
    return Page.objects.create(
        escalation=escalation,
        incident=incident,
        user=user,
        epoch=0,
        loop=loop,
        step_index=0,
        at=when,
        reachable=reachable,
    )


def _postmortem(incident: Incident, status: str) -> Postmortem:
    published = at("03-06", "12:00") if status == "published" else None
    return Postmortem.objects.create(
        incident=incident,
        team=incident.team,
        title=f"Postmortem of {incident.ref}",
        status=status,
        created_at=at("03-04", "12:00"),
        updated_at=at("03-04", "12:00"),
        published_at=published,
    )


def _item(
    title: str,
    status: str,
    *,
    postmortem: Postmortem | None = None,
    incident: Incident | None = None,
    due: str | None = None,
    completed: datetime | None = None,
) -> ActionItem:
    team = (postmortem.team if postmortem else incident.team) if (postmortem or incident) else None
    assert team is not None
    return ActionItem.objects.create(
        title=title,
        team=team,
        status=status,
        postmortem=postmortem,
        incident=incident,
        due_date=date.fromisoformat(f"2026-{due}") if due else None,
        created_at=at("03-04", "12:00"),
        updated_at=completed or at("03-04", "12:00"),
        completed_at=completed,
    )


def build(world: World) -> Data:
    """The data set described in the module's docstring."""
    PostmortemPolicy.objects.update_or_create(pk=1, defaults={"required_priorities": [], "updated_at": NOW})
    for priority, response, resolution in ((1, 10, 120), (2, 5, 60)):
        sla_services.create_definition(
            actor=None,
            source="system",
            name=f"P{priority}",
            priority=priority,
            response_minutes=response,
            resolution_minutes=resolution,
        )
    search = catalog.create_service(team=world.team_a, name="Search", actor=None, source="system")
    network, _ = Category.objects.get_or_create(name="Network")
    software, _ = Category.objects.get_or_create(name="Software")
    checkout = world.service_a
    p1, p2 = {"impact": 1, "urgency": 1}, {"impact": 1, "urgency": 2}

    i1 = _declare(world, "I1", at("03-02", "10:00"), services=[checkout], category=network, **p1)
    _move(i1, at("03-02", "10:05"), "in_progress")
    i1 = _move(i1, at("03-02", "11:00"), "resolved")
    i2 = _declare(world, "I2", at("03-03", "14:00"), services=[checkout], category=network, **p2)
    _move(i2, at("03-03", "14:10"), "in_progress")
    i2 = _move(i2, at("03-03", "16:00"), "resolved")
    i3 = _declare(world, "I3", at("03-10", "09:00"), services=[search])
    i3 = _move(i3, at("03-10", "09:30"), "in_progress")
    i4 = _declare(world, "I4", at("03-11", "22:00"), services=[checkout, search], category=software)
    i5 = _declare(world, "I5", at("03-20", "08:00"), services=[checkout], **p2)
    i5 = _move(i5, at("03-20", "08:50"), "resolved")
    i6 = _declare(world, "I6", at("03-21", "10:00"), services=[checkout])
    i6 = _move(i6, at("03-21", "10:05"), "canceled")
    i7 = _declare(world, "I7", at("03-05", "10:00"), team=world.team_b, services=[world.service_b], **p1)
    _move(i7, at("03-05", "10:01"), "in_progress")
    i7 = _move(i7, at("03-05", "10:31"), "resolved")
    i8 = _declare(world, "I8", at("02-27", "10:00"), services=[checkout], **p1)
    i8 = _move(i8, at("02-27", "10:30"), "resolved")

    prometheus = _integration(checkout, "Prometheus", "alertmanager")
    grafana = _integration(search, "Grafana", "grafana")
    billing_hook = _integration(world.service_b, "Billing webhook", "webhook")
    # alerts on incidents
    alert(
        prometheus,
        "cpu",
        at("03-02", "09:58"),
        incident=i1,
        acknowledged=at("03-02", "10:05"),
        resolved=at("03-02", "11:00"),
        count=5,
    )
    alert(prometheus, "mem", at("03-02", "10:20"), incident=i1, resolved=at("03-02", "11:00"))
    alert(
        prometheus,
        "cpu",
        at("03-03", "13:55"),
        incident=i2,
        acknowledged=at("03-03", "14:10"),
        resolved=at("03-03", "16:00"),
    )
    alert(grafana, "disk", at("03-11", "22:30"), incident=i4)
    alert(prometheus, "latency", at("03-20", "07:00"), incident=i5, resolved=at("03-20", "08:50"))
    # a flapping key: the third alert comes 50 minutes after the first
    for hhmm in ("01:00", "01:20", "01:50", "03:30"):
        opened = at("03-12", hhmm)
        alert(prometheus, "flap", opened, resolved=opened + timedelta(minutes=5))
    # not flapping: the third comes 61 minutes after the first
    for hhmm in ("10:00", "10:40", "11:01"):
        opened = at("03-25", hhmm)
        alert(grafana, "slow", opened, resolved=opened + timedelta(minutes=5))
    alert(grafana, "maint", at("03-26", "02:00"), suppressed=True, resolved=at("03-26", "03:00"))
    alert(
        billing_hook,
        "x",
        at("03-05", "09:59"),
        incident=i7,
        acknowledged=at("03-05", "10:01"),
        resolved=at("03-05", "10:31"),
    )
    alert(prometheus, "old", at("02-28", "10:00"), resolved=at("02-28", "10:05"))  # before the period

    # people: bob in Paris (profile) working Mon–Fri 09–17 Paris; alice without a profile zone, working
    # Mon–Fri 08–16 New York; dave (UTC) without working hours
    w = world
    User.objects.filter(pk=w.bob.pk).update(time_zone="Europe/Paris")
    User.objects.filter(pk=w.alice.pk).update(time_zone="")
    WorkingHours.objects.create(
        user=w.bob, time_zone="Europe/Paris", days=0b0011111, start=time(9), end=time(17), updated_at=NOW
    )
    WorkingHours.objects.create(
        user=w.alice,
        time_zone="America/New_York",
        days=0b0011111,
        start=time(8),
        end=time(16),
        updated_at=NOW,
    )
    make_page(i1, w.bob, at("03-02", "10:00"))
    make_page(i2, w.bob, at("03-03", "14:00"))
    make_page(i4, w.bob, at("03-11", "22:00"))
    make_page(i4, w.bob, at("03-12", "05:30"), loop=1)
    make_page(i5, w.bob, at("03-21", "12:00"), reachable=False)
    make_page(i3, w.alice, at("03-10", "09:00"))
    make_page(i5, w.alice, at("03-20", "13:00"))
    make_page(i2, w.dave, at("03-03", "03:00"))
    make_page(i7, w.charlie, at("03-05", "10:00"))
    make_page(i8, w.bob, at("03-01", "08:00"))  # before the period

    pm1 = _postmortem(i1, "published")
    _postmortem(i2, "draft")
    _item("ai1", "done", postmortem=pm1, due="03-10", completed=at("03-09", "12:00"))
    _item("ai2", "done", postmortem=pm1, due="03-10", completed=at("03-15", "12:00"))
    _item("ai3", "open", incident=i2, due="03-20")
    _item("ai4", "wont_do", incident=i2, completed=at("03-16", "12:00"))
    _item("ai5", "in_progress", incident=i5)
    _item("ai6", "open", incident=i3, due="03-20")  # a P3 incident: not in the review figures
    named = {"I1": i1, "I2": i2, "I3": i3, "I4": i4, "I5": i5, "I6": i6, "I7": i7, "I8": i8}
    return Data(world, search, named, prometheus, grafana, billing_hook)


def summarize() -> None:
    """Rebuild the report summaries from the rows (what the engine keeps up to date)."""
    rollup.rebuild_all(NOW)


@pytest.fixture
def data(world: World) -> Iterator[Data]:
    built = build(world)
    summarize()
    with clock.frozen(NOW):
        yield built
