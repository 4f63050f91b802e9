"""Paging end to end: incidents → ``paging.escalate`` → outbox → ``notify.send`` → real receivers, with the clock in
the test's hands. Each test ends with no message nobody expected (the harness fixture checks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.alerts.conftest import make_integration, pd_trigger, post
from tests.conftest import World
from tests.smoke_paging.conftest import declare, policy, timeline
from tests.smoke_paging.harness import Harness
from warroom.alerts.models import EventStatus, IntakeEvent
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.notify import sender
from warroom.notify.models import Failure, Message, Status
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import EscalationStatus, IncidentEscalation

pytestmark = pytest.mark.django_db


def people(*users: object) -> list[TargetSpec]:
    return [TargetSpec("user", u.pk) for u in users]  # type: ignore[attr-defined]


def hooks(h: Harness, world: World) -> None:
    for user in (world.alice, world.bob):
        h.ladder(user, "high", ("webhook", 0))


def test_three_step_policy_pages_each_step_after_its_delay(h: Harness, world: World) -> None:
    hooks(h, world)
    policy(
        world,
        [
            StepSpec(5, people(world.bob)),
            StepSpec(5, people(world.alice)),
            StepSpec(5, people(world.bob, world.alice)),
        ],
    )
    incident = declare(world)
    h.cycle()
    h.expect("webhook", world.bob, containing=incident.ref)
    h.expect_nothing()
    h.advance(minutes=4, seconds=59)
    h.expect_nothing()
    h.advance(seconds=1)
    h.expect("webhook", world.alice)
    h.expect_nothing()
    h.advance(minutes=5)
    h.expect("webhook", world.bob)
    h.expect("webhook", world.alice)
    h.advance(minutes=5)
    h.advance(minutes=30)
    h.expect_nothing()
    assert IncidentEscalation.objects.get(incident=incident).status == EscalationStatus.EXHAUSTED
    assert timeline(incident)[1:4] == [
        "Paged Bob Responder (step 1 of Primary)",
        "Paged Alice Admin (step 2 of Primary)",
        "Paged Bob Responder, Alice Admin (step 3 of Primary)",
    ]


def test_repeat_runs_the_policy_again_then_stops(h: Harness, world: World) -> None:
    hooks(h, world)
    policy(world, [StepSpec(10, people(world.bob))], repeat=2)
    incident = declare(world)
    h.cycle()
    h.expect("webhook", world.bob)
    for _ in range(2):
        h.advance(minutes=9)
        h.expect_nothing()
        h.advance(minutes=1)
        h.expect("webhook", world.bob)
    h.advance(minutes=10)
    h.advance(hours=2)
    h.expect_nothing()
    assert "Nobody acknowledged: Primary starts round 3 of 3" in timeline(incident)


def test_acknowledging_halfway_stops_everything_that_was_still_to_come(h: Harness, world: World) -> None:
    h.ladder(world.bob, "high", ("webhook", 0), ("email", 5))
    h.ladder(world.alice, "high", ("webhook", 0))
    policy(world, [StepSpec(10, people(world.bob)), StepSpec(10, people(world.alice))])
    incident = declare(world)
    h.cycle()
    h.expect("webhook", world.bob)
    h.advance(minutes=3)
    h.expect_nothing()
    incidents.transition_incident(incident=incident, actor=world.bob, source="web", to="in_progress")
    for minutes in (2, 5, 10, 60):
        h.advance(minutes=minutes)
        h.expect_nothing()
    email = Message.objects.get(user=world.bob, kind="email")
    assert (email.status, email.note) == (Status.CANCELLED, "acknowledged")
    assert any(line.startswith("Escalation stopped: acknowledged") for line in timeline(incident))


def test_a_step_with_nobody_on_call_is_skipped_at_once_and_the_timeline_says_so(
    h: Harness, world: World
) -> None:
    hooks(h, world)
    empty = oncall.create_schedule(
        team=world.team_a, name="Weekend", time_zone="Europe/London", actor=None, source="system"
    )
    policy(world, [StepSpec(30, [TargetSpec("schedule", empty.pk)]), StepSpec(30, people(world.alice))])
    incident = declare(world)
    h.cycle()
    h.expect("webhook", world.alice)
    h.expect_nothing()
    assert "Nobody to page at step 1 of Primary: nobody is on call there; moving on at once" in timeline(
        incident
    )


def test_a_personal_ladder_push_and_email_then_sms_then_voice(h: Harness, world: World) -> None:
    h.ladder(world.bob, "high", ("ntfy", 0), ("email", 0), ("sms", 2), ("voice", 5))
    policy(world, [StepSpec(30, people(world.bob))])
    incident = declare(world)
    h.cycle()
    h.expect("ntfy", world.bob, containing=incident.ref)
    h.expect("email", world.bob, containing=incident.ref)
    h.expect_nothing()
    h.advance(minutes=1, seconds=59)
    h.expect_nothing()
    h.advance(seconds=1)
    h.expect("sms", world.bob, containing=incident.ref)
    h.advance(minutes=2, seconds=59)
    h.expect_nothing()
    h.advance(seconds=1)
    h.expect("voice", world.bob, containing="<Response>")
    h.advance(minutes=25)
    h.advance(hours=1)
    h.expect_nothing()


def test_a_push_notification_acknowledges_in_one_tap(h: Harness, world: World) -> None:
    """ntfy's "Acknowledge" button makes the app POST the page's signed link, with no session and no CSRF token:
    the incident is acknowledged and the rest of Bob's ladder (email at 3 minutes) is never sent."""
    h.ladder(world.bob, "high", ("ntfy", 0), ("email", 3))
    policy(world, [StepSpec(30, people(world.bob))])
    incident = declare(world)
    h.cycle()
    h.expect("ntfy", world.bob, containing=incident.ref)
    (push,) = [r for r in h.http.requests if r.path.startswith("/ntfy/")]
    first, second = (action.strip() for action in push.headers["actions"].split(";"))
    kind, label, url, *options = (part.strip() for part in first.split(","))
    assert (kind, label, options) == ("http", "Acknowledge", ["method=POST", "clear=true"])
    assert second.startswith("view, Open in Warroom, ") and second.endswith(f"/incidents/{incident.ref}/")

    tapped = Client(enforce_csrf_checks=True).post(urlsplit(url).path)

    assert tapped.status_code == 200 and b"is acknowledged" in tapped.content
    assert IncidentEscalation.objects.get(incident=incident).status == EscalationStatus.ACKNOWLEDGED
    h.advance(minutes=5)
    h.expect_nothing()


def test_low_urgency_at_night_follows_the_low_urgency_ladder(h: Harness, world: World) -> None:
    """A P4 at 02:00 Bob's time: his low-urgency ladder is email only, so no SMS or call wakes him."""
    h.ladder(world.bob, "high", ("sms", 0), ("voice", 1))
    h.ladder(world.bob, "low", ("email", 0))
    policy(world, [StepSpec(30, people(world.bob))])
    clock.advance(timedelta(hours=17))  # Tuesday 02:00 UTC
    incident = declare(world, impact=3, urgency=3)
    assert paging.urgency_for(incident) == "low"
    h.cycle()
    h.expect("email", world.bob, containing=incident.ref)
    for minutes in (1, 5, 30, 60):
        h.advance(minutes=minutes)
    h.expect_nothing()


def test_a_dst_handoff_pages_whoever_the_schedule_says(h: Harness, world: World) -> None:
    """Chicago moves to CDT on 8 March 2026: the daily 09:00 local handoff is at 14:00 UTC (not 15:00)."""
    hooks(h, world)
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="America/Chicago", actor=None, source="system"
    )
    oncall.create_layer(
        schedule=schedule,
        name="Primary",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="system",
    )
    policy(world, [StepSpec(60, [TargetSpec("schedule", schedule.pk)])])
    with clock.frozen(datetime(2026, 3, 8, 13, 59, tzinfo=UTC)):
        before = declare(world, title="Just before the handoff")
        h.cycle()
        h.expect("webhook", world.alice, containing=before.ref)
        h.expect_nothing()
        h.advance(minutes=2)  # 14:01 UTC = 09:01 CDT: Bob's shift, and nothing due yet for the first incident
        after = declare(world, title="Just after the handoff")
        h.cycle()
        h.expect("webhook", world.bob, containing=after.ref)
        h.expect_nothing()
        for incident in (before, after):
            incidents.transition_incident(
                incident=incident, actor=world.alice, source="web", to="in_progress"
            )
        h.advance(hours=2)
        h.expect_nothing()


STORM = 500


def _bundle_count(text: str) -> int:
    found = re.search(r"(\d+) notifications", text)
    return int(found.group(1)) if found else 1


def test_a_storm_of_500_alerts_sends_a_handful_of_bundled_messages(h: Harness, world: World) -> None:
    """500 distinct PagerDuty alerts through the real intake endpoint, each its own incident paging Bob: his SMS
    and email throttles fold them into a few messages that say how many they cover."""
    h.ladder(world.bob, "high", ("sms", 0), ("email", 0))
    policy(world, [StepSpec(120, people(world.bob))])
    key = make_integration(world, "pagerduty").key
    for n in range(STORM):
        assert (
            post("/v2/enqueue", pd_trigger(key, f"disk-{n}", summary=f"Disk full on db{n:03d}")).status_code
            == 202
        )
    for _ in range(20):
        h.cycle()
        if not IntakeEvent.objects.filter(status=EventStatus.PENDING).exists():
            break
    h.cycle()
    assert Incident.objects.count() == STORM
    for _ in range(3):  # anything throttled waits a minute or two
        h.advance(minutes=2)
    texts = h.expect("sms", world.bob, count=len([g for g in h.unexpected["twilio"] if g.channel == "sms"]))
    mails = h.expect("email", world.bob, count=len([g for g in h.unexpected["smtp"] if g.channel == "email"]))
    assert 1 <= len(texts) <= 3 and 1 <= len(mails) <= 6, (len(texts), len(mails))
    assert sum(_bundle_count(g.text) for g in texts) == STORM
    assert sum(_bundle_count(g.text) for g in mails) == STORM
    assert f"{STORM} notifications" in texts[0].text
    h.expect_nothing()


def test_engine_killed_between_lease_and_send(h: Harness, world: World) -> None:
    """One engine leases Bob's SMS and webhook, calls the webhook and dies before recording either result. After
    the lease runs out the next engine sends no SMS (at most once) and sends the webhook again with the same
    delivery id (at least once)."""
    h.ladder(world.bob, "high", ("sms", 0), ("webhook", 0))
    policy(world, [StepSpec(30, people(world.bob))])
    incident = declare(world)
    paging.run(clock.now())
    leased, _ = sender.lease(clock.now())
    assert sorted(item.channel.kind for item in leased) == ["sms", "webhook"]
    hook = next(item for item in leased if item.channel.kind == "webhook")
    sender.call_channel(hook)  # delivered, then the process dies: nothing recorded
    del leased
    first = h.expect("webhook", world.bob)[0]
    h.advance(seconds=60)
    h.expect_nothing()  # the lease (2 minutes) still stands: nobody resends
    h.advance(seconds=61)
    again = h.expect("webhook", world.bob)[0]
    h.expect_nothing()  # and no SMS, now or later
    for minutes in (5, 25):
        h.advance(minutes=minutes)
    h.expect_nothing()
    webhook = Message.objects.get(user=world.bob, kind="webhook", group=paging.group_of(incident.pk))
    assert first.delivery_id == again.delivery_id == webhook.delivery_id
    assert webhook.status == Status.SENT
    sms = Message.objects.get(user=world.bob, kind="sms")
    assert (sms.status, sms.failure) == (Status.FAILED, Failure.UNKNOWN)


def test_an_email_ack_link_works_once(h: Harness, world: World) -> None:
    h.ladder(world.bob, "high", ("email", 0))
    h.ladder(world.alice, "high", ("email", 0))
    policy(world, [StepSpec(5, people(world.bob)), StepSpec(5, people(world.alice))])
    incident = declare(world)
    h.cycle()
    mail = h.expect("email", world.bob)[0]
    link = re.search(r"Acknowledge: (\S+)", mail.text)
    assert link, mail.text
    path = urlsplit(link.group(1)).path
    browser = Client()
    assert browser.get(path).status_code == 200, "a GET only shows the confirmation"
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None
    assert browser.post(path).status_code == 200
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is not None
    second = browser.post(path)
    assert second.status_code == 409, second.status_code
    assert b"used already" in second.content
    h.advance(minutes=5)
    h.advance(minutes=30)
    h.expect_nothing()
