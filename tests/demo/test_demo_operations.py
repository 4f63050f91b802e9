"""The demo as someone exploring on-call, alerting, SLAs, learning and reports finds it: nothing empty, and a
server that starts quietly (no escalation due, nothing waiting in the outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import Client

from warroom.accounts.models import Team, User
from warroom.alerts.models import (
    Alert,
    AlertStatus,
    HeartbeatMonitor,
    HeartbeatState,
    IntakeEvent,
    Integration,
)
from warroom.analytics import filters, selectors
from warroom.catalog.models import Service
from warroom.demo.data import ADMIN_EMAIL
from warroom.demo.seed import SETUP_DAYS_AGO
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.incidents.models import ClockState, Incident, SlaClock
from warroom.incidents.states import OPEN_STATES, State
from warroom.lib import clock
from warroom.notify.models import ContactMethod, Message, Status
from warroom.oncall import selectors as oncall
from warroom.oncall.models import Override, Schedule
from warroom.paging.models import EscalationStatus, IncidentEscalation, Page
from warroom.reviews.models import ActionItem, Postmortem, Problem
from warroom.reviews.states import ActionItemStatus, PostmortemStatus

pytestmark = pytest.mark.django_db


def seeded_at() -> datetime:
    """The instant the demo was seeded for (its schedules were set up SETUP_DAYS_AGO before)."""
    return Schedule.objects.earliest("created_at").created_at + timedelta(days=SETUP_DAYS_AGO)


def incident(title_start: str) -> Incident:
    return Incident.objects.get(title__startswith=title_start)


def test_every_service_pages_through_its_teams_policy_and_takes_alerts(seeded: str) -> None:
    for service in Service.objects.all():
        policy = oncall.policy_of_service(service.pk)
        assert policy is not None and policy.team_id == service.team_id, service
        steps = oncall.steps_of(policy)
        assert len(steps) == 3 and policy.repeat >= 1
        assert Integration.objects.filter(service=service, keys__isnull=False).exists(), service
    kinds = set(Integration.objects.values_list("kind", flat=True))
    assert {"alertmanager", "grafana", "pagerduty", "webhook", "heartbeat"} <= kinds


def test_everyone_can_be_reached(seeded: str) -> None:
    for person in User.objects.all():
        methods = ContactMethod.objects.filter(user=person, verified_at__isnull=False, disabled=False)
        assert methods.filter(kind="email").exists(), person
        assert person.notification_rules.filter(urgency="high").exists(), person
    assert ContactMethod.objects.filter(kind="ntfy", verified_at__isnull=False).count() >= 2


def test_someone_is_on_call_for_every_team_now(seeded: str) -> None:
    now = clock.now()
    for team in Team.objects.all():
        schedules = Schedule.objects.filter(team=team)
        assert schedules.exists(), team
        for schedule in schedules:
            assert oncall.on_call(schedule, at=now).shifts, schedule
    zones = set(Schedule.objects.values_list("time_zone", flat=True))
    assert zones == {"Europe/London", "America/Chicago", "Asia/Kolkata"}


def test_the_next_two_weeks_have_no_gap_and_show_layers_and_overrides(seeded: str) -> None:
    now = clock.now()
    for schedule in Schedule.objects.all():
        final = oncall.final_schedule(schedule, start=now, end=now + timedelta(days=14))
        assert not final.gaps, (schedule, final.gaps)
        assert oncall.layers_of(schedule).count() >= 2
        assert oncall.layers_of(schedule).filter(restrictions__isnull=False).exists()
    future = Override.objects.filter(start__gt=now)
    assert future.exists()
    assert Override.objects.filter(start__lte=now, end__gt=now).exists(), "one override is on now"


def test_the_engine_has_nothing_to_do_right_after_seeding(seeded: str) -> None:
    """No escalation due or waiting to start, nothing in the outbox: starting the server pages nobody."""
    assert not IncidentEscalation.objects.filter(status=EscalationStatus.ACTIVE).exists()
    assert not Message.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists()
    unpaged = Incident.objects.filter(
        state__in=list(OPEN_STATES), acknowledged_at__isnull=True, escalation__isnull=True
    )
    assert not unpaged.exists()
    assert not HeartbeatMonitor.objects.filter(due_at__lte=clock.now() + timedelta(hours=1)).exists()
    pages, messages, incidents = Page.objects.count(), Message.objects.count(), Incident.objects.count()
    registry.discover()
    with transaction.atomic(), clock.frozen(seeded_at()):
        report = run_cycle()
        assert not report.failed, report.failed
        busy = {name: n for name, n in report.items.items() if n and name != "analytics.summarize"}
        assert not busy, f"engine modules with work right after seeding: {busy}"
        assert Page.objects.count() == pages
        assert Message.objects.count() == messages
        assert Incident.objects.count() == incidents
        transaction.set_rollback(True)


def test_the_past_was_paged_and_every_escalation_is_over(seeded: str) -> None:
    assert Page.objects.count() >= 50
    statuses = set(IncidentEscalation.objects.values_list("status", flat=True))
    assert {EscalationStatus.ACKNOWLEDGED, EscalationStatus.STOPPED} <= statuses
    for esc in IncidentEscalation.objects.select_related("incident"):
        if esc.incident.state not in OPEN_STATES:
            assert esc.status != EscalationStatus.ACTIVE
    # nothing of the seeded past was delivered to anyone
    assert not Message.objects.filter(status=Status.SENT).exists()


def test_monitoring_opened_the_incidents_its_story_says(seeded: str) -> None:
    failover = incident("Primary database failover")
    alerts = Alert.objects.filter(incident=failover)
    assert alerts.count() >= 3
    opener = alerts.get(opened_incident=True)
    assert opener.first_seen == failover.opened_at
    joined = alerts.exclude(pk=opener.pk)
    assert all("same group key" in a.group_reason for a in joined)
    assert alerts.filter(count__gt=1).exists(), "a repeat was deduplicated"
    assert failover.is_major and failover.priority == 1
    event = IntakeEvent.objects.filter(alert=opener).first()
    assert event is not None and event.payload["group"]["version"] == "4", "Alertmanager's own payload"
    backup = incident("Nightly base backup failed")
    assert Alert.objects.filter(incident=backup, integration__kind="heartbeat").exists()
    synthetic = incident("Synthetic checkout check failing")
    assert Alert.objects.filter(incident=synthetic, integration__kind="pagerduty").exists()


def test_there_is_alert_noise_and_a_flapping_alert(seeded: str) -> None:
    flapping = (
        Alert.objects.filter(incident=incident("Disk usage alert on prometheus-0"))
        .values("dedup_key")
        .annotate(n=Count("pk"))
    )
    assert max(row["n"] for row in flapping) >= 3
    noise = Alert.objects.filter(
        integration__name="Runner fleet monitor", status=AlertStatus.RESOLVED, acknowledged_at__isnull=True
    )
    assert noise.count() >= 5
    for alert in noise:
        assert alert.incident is not None and alert.incident.state in (State.RESOLVED, State.CLOSED)
    assert HeartbeatMonitor.objects.filter(state=HeartbeatState.UP).exists()


def test_sla_clocks_are_met_and_breached(seeded: str) -> None:
    states = set(SlaClock.objects.values_list("state", flat=True))
    assert {ClockState.MET, ClockState.BREACHED, ClockState.RUNNING} <= states
    assert SlaClock.objects.filter(state=ClockState.BREACHED).count() <= 8
    for row in Incident.objects.filter(priority__lte=3).exclude(state=State.CANCELED):
        assert SlaClock.objects.filter(incident=row).exists(), row


def test_postmortems_action_items_and_problems(seeded: str) -> None:
    published = Postmortem.objects.get(status=PostmortemStatus.PUBLISHED)
    assert published.incident.title.startswith("Primary database failover")
    assert published.whys.count() >= 3 and published.factors.count() >= 2
    assert Postmortem.objects.filter(status=PostmortemStatus.DRAFT).exists()
    items = ActionItem.objects.all()
    assert items.filter(status=ActionItemStatus.DONE).exists()
    today = clock.now().date()
    assert items.filter(status=ActionItemStatus.OPEN, due_date__lt=today).exists(), "one is overdue"
    assert items.filter(status__in=[ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS], due_date__gte=today)
    known = Problem.objects.get(known_error_at__isnull=False)
    assert known.workaround and known.incidents.count() >= 2
    assert Problem.objects.filter(known_error_at__isnull=True, incidents__isnull=False).exists()


def test_the_reports_have_figures(seeded: str) -> None:
    admin = User.objects.get(email=ADMIN_EMAIL)
    flt = filters.resolve(admin, today=clock.now().date())
    response = selectors.response_report(admin, flt)
    assert response.total.mtta.seconds and response.total.mttr.seconds
    # the demo's senders say when the problem began, minutes before they reported it (Alertmanager's startsAt)
    assert response.total.ttd.count >= 5 and 60 <= response.total.ttd.seconds <= 600
    sla = selectors.sla_report(admin, flt, at=clock.now())
    assert sla.total.resolution.met and sla.total.resolution.breached
    noise = selectors.noise_report(admin, flt)
    assert noise.totals.alerts >= 15 and noise.totals.unacted and noise.totals.flapping_keys
    load = selectors.oncall_report(admin, flt)
    assert load.pages >= 50 and len(load.people) >= 6
    client = Client()
    client.force_login(admin)
    with transaction.atomic():
        assert client.get("/reports/").status_code == 200
        transaction.set_rollback(True)
