"""A shift reminder still waiting in the outbox (here: held for bob's working hours) is not sent once its shift
is no longer planned as it was: taken over by someone else, moved to another start, or its schedule deleted. It is
cancelled with a note saying why; a shift that moved gets its own reminder; a change that leaves the shift alone
leaves its reminder alone. Through the real engine and a real SMTP server.

The schedule of tests/oncall/conftest.py: Checkout primary, America/Chicago (UTC-6), daily 09:00 handoffs of
alice and bob: bob is on call Monday 2 March 09:00 CST (15:00 UTC) to Tuesday 09:00 CST, then alice. Bob asked for
reminders a day before; his low-urgency email rule waits for his working hours (weekdays 09:00-17:00 Berlin), so
the reminder queued on Sunday 15:00 UTC waits until Monday 08:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from tests.conftest import World
from tests.notify.conftest import smtp, verified  # noqa: F401 (the real SMTP server fixture)
from tests.notify.receivers import Inbox
from warroom.accounts.models import User
from warroom.engine import registry
from warroom.engine.loop import CycleReport, run_cycle
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Message, NotificationRule
from warroom.oncall import services, shift_reminders
from warroom.oncall.models import Layer, Schedule

pytestmark = pytest.mark.django_db

BOBS_SHIFT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago
QUEUED = BOBS_SHIFT - timedelta(days=1)  # Sunday 15:00 UTC: the reminder is queued, held for working hours
CHANGED = QUEUED + timedelta(minutes=30)  # Sunday 15:30 UTC: someone changes the schedule
MONDAY_9_BERLIN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # when the held reminder would go out


@pytest.fixture(autouse=True)
def _engine() -> None:
    registry.discover()


def cycle(at: datetime) -> CycleReport:
    with clock.frozen(at):
        report = run_cycle()
    assert not report.failed, report.failed
    return report


def reminders(inbox: Inbox) -> list[EmailMessage]:
    return [m for m in inbox.emails if "On call in" in str(m["Subject"])]


def text(mail: EmailMessage) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def held(world: World, smtp: Inbox, layer: Layer) -> Inbox:  # noqa: F811
    """bob's reminder of his Monday shift, queued on Sunday and held for his working hours."""
    verified(world.bob, "email", "bob@example.com", name="Work mail")
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
    notify.set_shift_reminder(user=world.bob, minutes_before=1440, actor=world.bob, source="api")
    cycle(QUEUED)
    (waiting,) = Message.objects.filter(subject="On call in 1 day: Checkout primary")
    assert waiting.status == "pending" and waiting.due_at == MONDAY_9_BERLIN
    return smtp


def override(
    schedule: Schedule, user: User, replaces: User, start: datetime, end: datetime, by: User
) -> None:
    with clock.frozen(CHANGED):
        services.create_override(
            schedule=schedule, user=user, replaces=replaces, start=start, end=end, actor=by, source="api"
        )


def bobs_reminders() -> list[Message]:
    return list(Message.objects.filter(user__email="bob@example.com", subject__startswith="On call in"))


def test_a_shift_taken_over_by_someone_else_is_not_reminded(
    world: World, held: Inbox, schedule: Schedule, erin: User
) -> None:
    override(schedule, erin, world.bob, BOBS_SHIFT, BOBS_SHIFT + timedelta(days=1), by=world.alice)
    cycle(CHANGED + timedelta(minutes=1))
    cycle(MONDAY_9_BERLIN)
    cycle(BOBS_SHIFT - timedelta(minutes=5))

    assert reminders(held) == []
    (withdrawn,) = bobs_reminders()
    assert withdrawn.status == "cancelled"
    assert withdrawn.note == shift_reminders.WITHDRAWN_SHIFT_GONE
    assert withdrawn.sent_at is None and withdrawn.attempts == 0


def test_a_shift_that_now_starts_later_is_reminded_once_for_its_new_start(
    world: World, held: Inbox, schedule: Schedule
) -> None:
    # alice covers bob's first two hours: his stretch now starts at 11:00 Chicago (17:00 UTC)
    override(schedule, world.alice, world.bob, BOBS_SHIFT, BOBS_SHIFT + timedelta(hours=2), by=world.alice)
    cycle(CHANGED + timedelta(minutes=1))
    cycle(BOBS_SHIFT + timedelta(hours=2) - timedelta(days=1))  # a day before the new start: queued, held
    cycle(MONDAY_9_BERLIN)

    (email,) = reminders(held)
    assert email["To"] == "bob@example.com"
    assert "Shift: Mon 2026-03-02 11:00 to Tue 2026-03-03 09:00 (America/Chicago)" in text(email)
    old, new = sorted(bobs_reminders(), key=lambda m: m.id)
    assert (old.status, old.note) == ("cancelled", shift_reminders.WITHDRAWN_SHIFT_GONE)
    assert new.status == "sent"


def test_a_deleted_schedule_is_not_reminded(world: World, held: Inbox, schedule: Schedule) -> None:
    with clock.frozen(CHANGED):
        services.delete_schedule(schedule=schedule, actor=world.alice, source="api")
    cycle(CHANGED + timedelta(minutes=1))
    cycle(MONDAY_9_BERLIN)

    assert reminders(held) == []
    (withdrawn,) = bobs_reminders()
    assert (withdrawn.status, withdrawn.note) == ("cancelled", shift_reminders.WITHDRAWN_SCHEDULE_GONE)


def test_a_change_that_leaves_the_shift_alone_keeps_its_reminder(
    world: World, held: Inbox, schedule: Schedule, erin: User
) -> None:
    # erin takes alice's Tuesday shift, right after bob's: bob's shift starts when it did
    tuesday = BOBS_SHIFT + timedelta(days=1)
    override(schedule, erin, world.alice, tuesday, tuesday + timedelta(days=1), by=world.alice)
    cycle(CHANGED + timedelta(minutes=1))
    cycle(MONDAY_9_BERLIN)

    (email,) = reminders(held)
    assert email["Subject"] == "[Warroom] On call in 1 day: Checkout primary"
    assert [m.status for m in bobs_reminders()] == ["sent"]
