"""The demo organisation: what ``warroom_demo`` seeds, that it goes through the services (real timelines and
audit rows), how it shows the sign-in, and that ``--if-empty`` leaves an existing database alone."""

from __future__ import annotations

import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import Client

from tests.demo.conftest import run_demo
from warroom.accounts.models import Membership, Team, User
from warroom.audit.models import AuditEvent
from warroom.catalog.models import Service, ServiceDependency
from warroom.comms.models import Component, ComponentStatusPeriod, StatusPage, StatusUpdate
from warroom.demo import credentials
from warroom.demo.data import ADMIN_EMAIL
from warroom.incidents.models import EntryKind, Incident, IncidentRole, Task, TimelineEntry, Watcher
from warroom.incidents.states import HoldReason, State
from warroom.lib import clock, markdown

pytestmark = pytest.mark.django_db


def printed_password(output: str) -> str:
    match = re.search(r"^\s*password\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_organisation(seeded: str) -> None:
    assert Team.objects.count() >= 3
    for team in Team.objects.all():
        roles = list(Membership.objects.filter(team=team).values_list("role", flat=True))
        assert 3 <= len(roles) <= 4, team
        assert {"admin", "manager"} & set(roles), team
        assert "responder" in roles, team
    assert Membership.objects.filter(role="observer").exists()
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert admin.is_org_admin
    assert all(" " in u.full_name for u in User.objects.all()), "everyone has a realistic full name"


def test_services_and_dependencies(seeded: str) -> None:
    assert 8 <= Service.objects.count() <= 10
    assert set(Service.objects.values_list("tier", flat=True)) >= {1, 2, 3}
    assert ServiceDependency.objects.count() >= 8
    checkout = Service.objects.get(name="Checkout")
    payments = Service.objects.get(name="Payments API")
    assert payments in checkout.dependencies.all()
    assert Service.objects.get(name="Postgres cluster") in payments.dependencies.all()
    for service in Service.objects.all():
        assert service.runbook_url.startswith("https://") and service.dashboard_url.startswith("https://")


def test_incidents_cover_every_state_and_feature(seeded: str) -> None:
    incidents = Incident.objects.all()
    assert incidents.count() >= 40
    assert set(incidents.values_list("state", flat=True)) == set(State.values)
    held = incidents.filter(state=State.ON_HOLD).values_list("hold_reason", flat=True)
    assert len(set(held)) >= 3 and set(held) <= set(HoldReason.values)
    for incident in incidents.filter(state__in=[State.RESOLVED, State.CLOSED]):
        assert incident.resolution_code and incident.resolution_notes.strip(), incident
        assert incident.resolved_at is not None, incident
        # acknowledged, unless its alerts resolved it before anyone responded (a flapping alert's incident)
        assert incident.acknowledged_at is not None or incident.resolution_code == "resolved_by_caller", (
            incident
        )
    assert len(set(incidents.exclude(resolution_code="").values_list("resolution_code", flat=True))) >= 4
    for incident in incidents.filter(state=State.CLOSED):
        assert incident.closed_at is not None and incident.closed_at >= incident.resolved_at
    majors = incidents.filter(is_major=True).annotate(kids=Count("children"))
    assert majors.count() >= 2 and all(m.kids >= 2 for m in majors)
    assert incidents.filter(related__isnull=False).exists()
    assert incidents.filter(is_private=True).exists()
    assert incidents.filter(reopen_count__gt=0).exists()
    assert {"incident-commander", "communications-lead"} <= set(
        IncidentRole.objects.values_list("role_type__slug", flat=True)
    )
    assert Task.objects.filter(done_at__isnull=False).exists()
    assert Task.objects.filter(done_at__isnull=True).exists()
    assert Watcher.objects.exists()
    assert TimelineEntry.objects.filter(kind=EntryKind.NOTE).count() >= 40
    assert TimelineEntry.objects.filter(actor__isnull=True, source="engine").exists(), "an auto-close"
    assert set(TimelineEntry.objects.values_list("source", flat=True)) >= {"web", "cli", "api"}


def test_incidents_spread_over_sixty_days(seeded: str) -> None:
    now = clock.now()
    opened = sorted(Incident.objects.values_list("opened_at", flat=True))
    assert opened[-1] <= now
    assert now - opened[0] >= timedelta(days=50)
    assert now - opened[0] <= timedelta(days=61)
    assert len({o.date() for o in opened}) >= 25, "not all on a few days"
    assert Incident.objects.filter(opened_at__gte=now - timedelta(days=1)).count() >= 5, "some are fresh"


def test_every_timeline_is_backdated_and_ordered(seeded: str) -> None:
    now = clock.now()
    for incident in Incident.objects.all():
        entries = list(TimelineEntry.objects.filter(incident=incident).order_by("id"))
        assert len(entries) >= 2 or incident.state == State.NEW, incident
        assert entries[0].kind == EntryKind.CREATED and entries[0].at == incident.opened_at
        times = [e.at for e in entries]
        assert times == sorted(times), f"{incident.ref}: written out of time order"
        assert all(incident.opened_at <= t <= now for t in times), incident
        steps = {e.at for e in entries}
        if incident.state != State.NEW:
            assert len(steps) >= 2, f"{incident.ref}: every step at the same instant"
        if incident.acknowledged_at is not None:
            assert incident.acknowledged_at > incident.opened_at
        assert AuditEvent.objects.filter(
            object_type="incidents.incident", object_id=str(incident.pk), action="incident.declare"
        ).exists()


def test_timeline_has_minutes_between_steps(seeded: str) -> None:
    """Backdating is realistic: a P1 is acknowledged within minutes, not seconds and not days."""
    for incident in Incident.objects.filter(priority=1, acknowledged_at__isnull=False):
        gap = incident.acknowledged_at - incident.opened_at
        assert timedelta(minutes=1) <= gap <= timedelta(minutes=30), (incident.ref, gap)


def test_admin_signs_in_with_the_printed_password(seeded: str, demo_dir: Path) -> None:
    password = printed_password(seeded)
    assert "/login/" in seeded and ADMIN_EMAIL in seeded
    assert Client().login(email=ADMIN_EMAIL, password=password)
    assert not Client().login(email=ADMIN_EMAIL, password=password + "x")
    path = demo_dir / credentials.FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert password in path.read_text()


def test_people_without_the_demo_password_cannot_sign_in(seeded: str) -> None:
    priya = User.objects.get(email="priya.raman@example.com")
    assert not priya.has_usable_password()
    assert Client().login(email="daniel.okafor@example.com", password=printed_password(seeded))


def test_second_run_with_if_empty_adds_nothing_and_shows_the_sign_in(seeded: str) -> None:
    models = (User, Team, Service, Incident, TimelineEntry, AuditEvent)
    before = {m.__name__: m.objects.count() for m in models}
    again = run_demo("--if-empty")
    assert {m.__name__: m.objects.count() for m in models} == before
    assert printed_password(again) == printed_password(seeded)
    assert "Seeded" not in again


def test_without_if_empty_refuses_a_database_with_users(seeded: str) -> None:
    with pytest.raises(CommandError, match="already has users"):
        run_demo()


def test_the_public_status_page_shows_the_story(seeded: str) -> None:
    page = StatusPage.objects.get(slug="example-cloud")
    components = Component.objects.filter(page=page)
    assert set(components.values_list("name", flat=True)) == {
        "Checkout",
        "Payments API",
        "Billing & invoicing",
        "Identity API",
        "SSO gateway",
        "Edge & CDN",
    }
    # the history followed the demo's incidents: some component was down at some point in the 60 days
    assert ComponentStatusPeriod.objects.filter(component__page=page).exclude(status="operational").exists()
    with transaction.atomic():
        answer = Client().get("/status/example-cloud/")
        assert answer.status_code == 200
        html = answer.content.decode()
        assert "Example Cloud" in html and "uptime" in html
        updates = StatusUpdate.objects.filter(
            components__page=page, incident__state__in=["new", "in_progress"]
        )
        assert updates.exists()
        for update in updates:
            assert markdown.render(update.message) in html  # the public updates of open incidents, rendered
        transaction.set_rollback(True)
