"""Shift reminders: a person who asked ("Before my on-call shifts") gets one low-urgency email that long before
each of their on-call shifts, through the real engine and a real SMTP server.

The schedule of tests/oncall/conftest.py: Checkout primary, America/Chicago (UTC-6 until 8 March 2026), daily
09:00 handoffs of alice and bob from Sunday 1 March: bob is on call Monday 2 March 09:00 CST (15:00 UTC) to
Tuesday 09:00 CST, then alice until Wednesday.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.conftest import World
from tests.notify.conftest import smtp, verified  # noqa: F401 (the real SMTP server fixture)
from tests.notify.receivers import Inbox
from warroom.accounts.models import User
from warroom.engine import registry
from warroom.engine.loop import CycleReport, _run_module, run_cycle
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Message, NotificationRule
from warroom.oncall import rotation, services, shift_reminders
from warroom.oncall.models import Layer, Schedule

pytestmark = pytest.mark.django_db

BOBS_SHIFT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago
MODULE = "oncall.shift_reminders"


@pytest.fixture(autouse=True)
def _engine() -> None:
    registry.discover()


def cycle(at: datetime) -> CycleReport:
    with clock.frozen(at):
        report = run_cycle()
    assert not report.failed, report.failed
    return report


def remind_before(user: User, minutes: int) -> None:
    notify.set_shift_reminder(user=user, minutes_before=minutes, actor=user, source="api")


@pytest.fixture
def mail(world: World, smtp: Inbox, layer: Layer) -> Inbox:  # noqa: F811
    """alice and bob with a verified email each (its default rules: high and low urgency at once)."""
    verified(world.alice, "email", "alice@example.com", name="Work mail")
    verified(world.bob, "email", "bob@example.com", name="Work mail")
    return smtp


def reminders(inbox: Inbox) -> list[EmailMessage]:
    return [m for m in inbox.emails if "On call in" in str(m["Subject"])]


def text(mail: EmailMessage) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_one_email_an_hour_before_the_shift_however_often_the_engine_runs(
    world: World, mail: Inbox, schedule: Schedule
) -> None:
    remind_before(world.bob, 60)
    cycle(BOBS_SHIFT - timedelta(minutes=61))
    assert reminders(mail) == [], "not yet"
    cycle(BOBS_SHIFT - timedelta(minutes=60))
    (email,) = reminders(mail)
    assert email["To"] == "bob@example.com"
    assert email["Subject"] == "[Warroom] On call in 1 h: Checkout primary"
    body = text(email)
    assert "You go on call on Checkout primary (Team A) in 1 h." in body
    assert "Shift: Mon 2026-03-02 09:00 to Tue 2026-03-03 09:00 (America/Chicago)" in body
    assert "Your time: Mon 2026-03-02 15:00 to Tue 2026-03-03 15:00 (UTC)" in body, "bob's own zone is UTC"
    assert f"Schedule: {settings.WARROOM_BASE_URL.rstrip('/')}/oncall/schedules/{schedule.pk}/" in body
    assert "later than" not in body
    # more cycles, a second engine's run of the module, a restart: still one
    cycle(BOBS_SHIFT - timedelta(minutes=60))
    for minutes in (59, 58, 30, 1):
        cycle(BOBS_SHIFT - timedelta(minutes=minutes))
    with clock.frozen(BOBS_SHIFT - timedelta(minutes=59, seconds=30)):
        assert shift_reminders.run(clock.now()) == 0
        assert shift_reminders.run(clock.now()) == 0
    assert len(reminders(mail)) == 1
    reminder = Message.objects.get(subject__startswith="On call in")
    assert reminder.urgency == "low" and reminder.status == "sent"
    assert not any(m["To"] == "alice@example.com" for m in reminders(mail)), "alice did not ask"


def test_the_module_runs_at_most_once_a_minute(world: World, mail: Inbox) -> None:
    at = BOBS_SHIFT - timedelta(hours=3)
    assert MODULE in cycle(at).ran
    later = cycle(at + timedelta(seconds=30))
    assert MODULE in later.not_due and MODULE not in later.ran
    assert MODULE in cycle(at + timedelta(minutes=1)).ran


def test_with_the_setting_off_nothing_is_sent(world: World, mail: Inbox) -> None:
    remind_before(world.bob, 60)
    remind_before(world.bob, 0)
    for minutes in (24 * 60, 240, 60, 15, 1):
        cycle(BOBS_SHIFT - timedelta(minutes=minutes))
    assert reminders(mail) == []
    assert not Message.objects.filter(subject__startswith="On call in").exists()


def test_an_override_reminds_the_person_taking_over_not_the_one_replaced(
    world: World, mail: Inbox, schedule: Schedule, erin: User
) -> None:
    verified(erin, "email", "erin@example.com", name="Work mail")
    erin.time_zone = "America/Chicago"
    erin.save(update_fields=["time_zone"])
    services.create_override(
        schedule=schedule,
        user=erin,
        replaces=world.bob,
        start=BOBS_SHIFT,
        end=BOBS_SHIFT + timedelta(hours=24),
        note="bob is at the dentist",
        actor=world.alice,
        source="api",
    )
    for person in (world.bob, erin):
        remind_before(person, 60)
    cycle(BOBS_SHIFT - timedelta(hours=1))
    (email,) = reminders(mail)
    assert email["To"] == "erin@example.com"
    body = text(email)
    assert (
        "Includes an override in place of Bob Responder (set by Alice Admin): bob is at the dentist." in body
    )
    assert "Your time" not in body, "erin lives in the schedule's zone"
    cycle(BOBS_SHIFT - timedelta(minutes=30))
    assert [m["To"] for m in reminders(mail)] == ["erin@example.com"]


def test_back_to_back_layers_are_one_shift_and_one_reminder(
    world: World, mail: Inbox, schedule: Schedule
) -> None:
    # a higher layer puts bob on call on Mondays 05:00-09:00 Chicago, right before his own day of Primary
    services.create_layer(
        schedule=schedule,
        name="Early cover",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 0, 0),
        handoff_time=time(0, 0),
        participants=[world.bob],
        restrictions=[rotation.Restriction(days=frozenset({0}), start=time(5), end=time(9))],
        actor=None,
        source="system",
    )
    remind_before(world.bob, 60)
    early = BOBS_SHIFT - timedelta(hours=4)  # Monday 05:00 Chicago
    cycle(early - timedelta(hours=1))
    (email,) = reminders(mail)
    assert "Shift: Mon 2026-03-02 05:00 to Tue 2026-03-03 09:00 (America/Chicago)" in text(email)
    for at in (BOBS_SHIFT - timedelta(hours=1), BOBS_SHIFT - timedelta(minutes=30)):
        cycle(at)
    assert len(reminders(mail)) == 1, "his Primary shift continues the same stretch: no second reminder"


def test_an_override_running_into_ones_own_shift_is_one_reminder(
    world: World, mail: Inbox, schedule: Schedule
) -> None:
    services.create_override(
        schedule=schedule,
        user=world.bob,
        replaces=world.alice,
        start=BOBS_SHIFT - timedelta(hours=2),
        end=BOBS_SHIFT,
        actor=world.alice,
        source="api",
    )
    remind_before(world.bob, 15)
    cycle(BOBS_SHIFT - timedelta(hours=2, minutes=15))
    (email,) = reminders(mail)
    assert email["Subject"] == "[Warroom] On call in 15 min: Checkout primary"
    assert "Shift: Mon 2026-03-02 07:00 to Tue 2026-03-03 09:00 (America/Chicago)" in text(email)
    cycle(BOBS_SHIFT - timedelta(minutes=15))
    assert len(reminders(mail)) == 1


def test_an_engine_that_was_down_sends_late_before_the_start(world: World, mail: Inbox) -> None:
    remind_before(world.bob, 60)
    cycle(BOBS_SHIFT - timedelta(minutes=20))  # the first cycle since long before 14:00
    (email,) = reminders(mail)
    assert email["Subject"] == "[Warroom] On call in 20 min: Checkout primary"
    body = text(email)
    assert "Shift: Mon 2026-03-02 09:00 to Tue 2026-03-03 09:00 (America/Chicago)" in body
    assert "This reminder comes later than the 1 h you asked for" in body


def test_an_engine_that_was_down_sends_nothing_once_the_shift_has_started(world: World, mail: Inbox) -> None:
    remind_before(world.bob, 60)
    cycle(BOBS_SHIFT + timedelta(minutes=5))
    cycle(BOBS_SHIFT + timedelta(hours=2))
    assert reminders(mail) == []
    assert not Message.objects.filter(subject__startswith="On call in").exists()


def test_a_day_ahead_and_working_hours_only_rules_keep_their_hold(world: World, mail: Inbox) -> None:
    """Through the low-urgency rules like any other low-urgency message: one held for working hours waits."""
    (low,) = NotificationRule.objects.filter(user=world.bob, urgency="low")
    notify.update_rule(rule=low, working_hours_only=True, actor=world.bob, source="api")
    notify.set_working_hours(
        user=world.bob,
        time_zone="Europe/Berlin",
        days=["weekdays"],
        start="09:00",
        end="17:00",
        actor=world.bob,
        source="api",
    )
    remind_before(world.bob, 1440)
    cycle(BOBS_SHIFT - timedelta(days=1))  # Sunday 16:00 in Berlin: outside working hours
    assert reminders(mail) == []
    (held,) = Message.objects.filter(subject="On call in 1 day: Checkout primary")
    assert (
        held.status == "pending"
        and held.note == "waiting for working hours: Mon 2026-03-02 09:00 Europe/Berlin"
    )
    cycle(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # Monday 09:00 in Berlin
    (email,) = reminders(mail)
    assert email["Subject"] == "[Warroom] On call in 1 day: Checkout primary"


# -- two engines at once (PostgreSQL) ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_engines_at_once_enqueue_one_reminder(world: World, mail: Inbox) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two engines share one database on PostgreSQL only")
    remind_before(world.bob, 60)
    module = next(m for m in registry.modules() if m.name == MODULE)
    start = threading.Barrier(2)
    reports = {"a": CycleReport(), "b": CycleReport()}
    redone: dict[str, int] = {}

    def engine(name: str) -> None:
        try:
            start.wait(timeout=10)
            _run_module(module, reports[name])  # the loop's way: advisory lock, then the once-a-minute claim
            start.wait(timeout=10)
            redone[name] = shift_reminders.run(clock.now())  # and the module's work itself, twice at once
        finally:
            connections.close_all()

    with clock.frozen(BOBS_SHIFT - timedelta(minutes=60)):
        threads = [threading.Thread(target=engine, args=(name,)) for name in reports]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    ran = [name for name, report in reports.items() if MODULE in report.ran]
    assert len(ran) == 1, reports
    assert not any(report.failed for report in reports.values())
    assert redone == {"a": 0, "b": 0}, "the reminder was in the outbox already"
    (reminder,) = Message.objects.filter(subject="On call in 1 h: Checkout primary")
    assert reminder.user_id == world.bob.pk and reminder.urgency == "low"
