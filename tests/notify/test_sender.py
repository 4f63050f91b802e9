"""The sender (engine module ``notify.send``) with a frozen clock and real receivers: the ladder over time,
crashes between lease and result, retries with backoff, at-most-once phones, throttling and bundling,
verification end to end, and dead addresses."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.notify.conftest import cycle, verified
from tests.notify.receivers import FakeTwilio, Inbox, Receiver, text
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.notify import sender, services
from warroom.notify.models import (
    Category,
    ContactMethod,
    DeliveryAttempt,
    Failure,
    Message,
    NotificationRule,
    Outcome,
    Status,
)

pytestmark = pytest.mark.django_db


def run() -> int:
    """One pass of the sender at the clock's now (the engine module's body)."""
    return sender.run(clock.now())


def page(
    user: User, key: str, *, group: str = "", subject: str = "", urgency: str = "high"
) -> services.Enqueued:
    return services.enqueue(
        user=user,
        urgency=urgency,
        subject=subject or f"Incident {key}",
        body="Checkout is down.",
        context={"url": f"https://warroom.example.com/incidents/{key}/"},
        dedup_key=key,
        group=group or f"incident:{key}",
    )


def only_rule(method: ContactMethod, delay: int = 0) -> None:
    NotificationRule.objects.filter(contact_method=method).exclude(
        urgency="high", delay_minutes=delay
    ).delete()
    NotificationRule.objects.get_or_create(
        user_id=method.user_id,
        contact_method=method,
        urgency="high",
        delay_minutes=delay,
        defaults={"created_at": clock.now()},
    )


def test_the_ladder_goes_out_over_time_through_the_engine(
    world: World, engine: None, frozen: datetime, smtp: Inbox, twilio: FakeTwilio
) -> None:
    email = verified(world.bob, "email", "bob@example.com", name="Email")
    sms = verified(world.bob, "sms", "+14155550100", name="Phone")
    only_rule(sms, delay=2)
    page(world.bob, "42")
    report = cycle()
    assert "notify.send" in report.ran
    assert [m["To"] for m in smtp.emails] == ["bob@example.com"] and twilio.sent == []
    clock.advance(timedelta(minutes=1, seconds=59))
    cycle()
    assert twilio.sent == []
    clock.advance(timedelta(seconds=1))
    cycle()
    assert [m["To"] for m in twilio.sent] == ["+14155550100"]
    sent = Message.objects.filter(category=Category.NOTIFICATION).order_by("due_at")
    assert [(m.kind, m.status, m.attempts) for m in sent] == [("email", "sent", 1), ("sms", "sent", 1)]
    assert sent[1].provider_id.startswith("SM") and sent[1].sent_at == frozen + timedelta(minutes=2)
    assert email.pk and len(smtp.emails) == 1, "nothing sent twice"


def test_crash_after_sending_before_recording(
    world: World, frozen: datetime, smtp: Inbox, twilio: FakeTwilio, receiver: Receiver
) -> None:
    """The engine takes the lease, the providers get the messages, then the process dies before it records
    anything. After the lease runs out: email and webhook go again with the same delivery id (at least once),
    the SMS does not (at most once) and is marked failed, outcome unknown."""
    verified(world.bob, "email", "bob@example.com", name="Email")
    verified(world.bob, "sms", "+14155550100", name="Phone")
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    run()  # the verification messages of the three methods are cancelled: they are verified
    page(world.bob, "42")
    leased, _ = sender.lease(clock.now())
    assert sorted(item.channel.kind for item in leased) == ["email", "sms", "webhook"]
    for item in leased:
        assert sender.call_channel(item).sent is not None
    # ... and the process is killed here. Another engine (or this one restarted) runs later:
    clock.advance(timedelta(seconds=30))
    assert run() == 0, "a live lease is left alone"
    clock.advance(sender.LEASE)
    run()
    assert len(twilio.sent) == 1, "no second SMS"
    first, second = smtp.emails
    assert first["Message-ID"] == second["Message-ID"]
    assert first["X-Warroom-Delivery-Id"] == second["X-Warroom-Delivery-Id"]
    hooks = [r.headers["warroom-delivery-id"] for r in receiver.requests]
    assert len(hooks) == 2 and hooks[0] == hooks[1]
    by_kind = {m.kind: m for m in Message.objects.filter(category=Category.NOTIFICATION)}
    assert by_kind["sms"].status == Status.FAILED and by_kind["sms"].failure == Failure.UNKNOWN
    assert "never sent twice" in by_kind["sms"].last_error
    assert by_kind["email"].status == Status.SENT and by_kind["email"].attempts == 2
    assert by_kind["email"].delivery_id == first["X-Warroom-Delivery-Id"]
    outcomes = list(
        DeliveryAttempt.objects.filter(message=by_kind["webhook"])
        .order_by("number")
        .values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.LEASE_EXPIRED, Outcome.SENT]
    assert list(DeliveryAttempt.objects.filter(message=by_kind["sms"]).values_list("outcome", flat=True)) == [
        Outcome.LEASE_EXPIRED
    ]


def test_crash_between_lease_and_send(
    world: World, frozen: datetime, twilio: FakeTwilio, receiver: Receiver
) -> None:
    verified(world.bob, "sms", "+14155550100", name="Phone")
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    run()
    assert len(twilio.sent) == 1 and len(receiver.requests) == 1
    page(world.bob, "43")
    clock.advance(timedelta(minutes=1))
    sender.lease(clock.now())  # killed before calling anything
    clock.advance(sender.LEASE)
    run()
    assert len(twilio.sent) == 1, "the SMS whose lease expired is not sent: nobody knows whether it went"
    assert len(receiver.requests) == 2
    sms = Message.objects.get(dedup_key__startswith="43|", kind="sms")
    assert sms.status == Status.FAILED and sms.failure == Failure.UNKNOWN


def test_a_late_result_is_still_recorded(world: World, frozen: datetime, twilio: FakeTwilio) -> None:
    """The call outlived the lease (the provider was slow); the lease expired and the SMS was marked unknown.
    When the call does come back with a sid, the message is sent after all."""
    verified(world.bob, "sms", "+14155550100", name="Phone")
    page(world.bob, "42")
    run()
    page(world.bob, "43")
    clock.advance(timedelta(minutes=2))
    (item,) = sender.lease(clock.now())[0]
    result = sender.call_channel(item)
    clock.advance(sender.LEASE)
    sender.expire_leases(clock.now())
    assert Message.objects.get(pk=item.message_id).failure == Failure.UNKNOWN
    sender.record(item, result)
    message = Message.objects.get(pk=item.message_id)
    assert message.status == Status.SENT and message.provider_id.startswith("SM")


def test_transient_errors_retry_with_backoff_and_the_same_delivery_id(
    world: World, frozen: datetime, receiver: Receiver
) -> None:
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    receiver.script = [text(503, "busy"), text(502, "bad gateway")]
    run()
    message = Message.objects.get(category=Category.NOTIFICATION)
    assert message.status == Status.PENDING and message.next_attempt_at == frozen + timedelta(seconds=30)
    assert "503" in message.last_error
    clock.advance(timedelta(seconds=29))
    run()
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=1))
    run()
    message.refresh_from_db()
    assert message.next_attempt_at == frozen + timedelta(seconds=90), "then 60 s"
    clock.advance(timedelta(seconds=60))
    run()
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 3
    ids = {r.headers["warroom-delivery-id"] for r in receiver.requests}
    assert ids == {message.delivery_id} and len(receiver.requests) == 3


def test_retry_after_is_respected_and_retries_end(world: World, frozen: datetime, receiver: Receiver) -> None:
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    receiver.respond = lambda r: text(429, "slow down", **{"Retry-After": "300"})
    run()
    message = Message.objects.get(category=Category.NOTIFICATION)
    assert message.next_attempt_at == frozen + timedelta(seconds=300)
    for _ in range(sender.MAX_ATTEMPTS):
        clock.advance(timedelta(minutes=16))
        run()
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.failure == Failure.EXHAUSTED
    assert message.attempts == sender.MAX_ATTEMPTS == len(receiver.requests)


def test_permanent_errors_fail_at_once(world: World, frozen: datetime, receiver: Receiver) -> None:
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    receiver.script = [text(400, "bad request")]
    run()
    clock.advance(timedelta(hours=1))
    run()
    message = Message.objects.get(category=Category.NOTIFICATION)
    assert message.status == Status.FAILED and message.failure == Failure.PERMANENT
    assert len(receiver.requests) == 1 and "400" in message.last_error


def test_sms_retries_only_what_twilio_certainly_did_not_send(
    world: World, frozen: datetime, twilio: FakeTwilio
) -> None:
    verified(world.bob, "sms", "+14155550100", name="Phone")
    run()
    twilio.errors = [(429, 20429)]
    page(world.bob, "42")
    run()
    throttled = Message.objects.get(dedup_key__startswith="42|")
    assert throttled.status == Status.PENDING
    clock.advance(timedelta(seconds=61))
    run()
    throttled.refresh_from_db()
    assert throttled.status == Status.SENT and throttled.attempts == 2
    twilio.errors = [(500, 20500)]
    page(world.bob, "43")
    clock.advance(timedelta(minutes=20))
    run()
    unknown = Message.objects.get(dedup_key__startswith="43|")
    assert unknown.status == Status.FAILED and unknown.failure == Failure.UNKNOWN
    clock.advance(timedelta(minutes=20))
    run()
    assert len(twilio.requests) == 3 and len(twilio.sent) == 1


def test_a_storm_is_throttled_and_bundled(world: World, frozen: datetime, twilio: FakeTwilio) -> None:
    verified(world.bob, "sms", "+14155550100", name="Phone")
    for number in range(1, 6):
        page(world.bob, f"storm-{number}", subject=f"Disk full on db{number}")
    run()
    (first,) = twilio.sent
    assert first["Body"].startswith("Warroom: 5 notifications, latest: Disk full on db5")
    messages = Message.objects.filter(category=Category.NOTIFICATION)
    carrier = messages.get(status=Status.SENT)
    assert (
        carrier.bundle_count == 5
        and messages.filter(status=Status.BUNDLED, bundled_into=carrier).count() == 4
    )
    assert "Disk full on db1" in carrier.body
    clock.advance(timedelta(seconds=10))
    for number in range(6, 9):
        page(world.bob, f"storm-{number}", subject=f"Disk full on db{number}")
    run()
    assert len(twilio.sent) == 1
    waiting = messages.filter(status=Status.PENDING)
    assert waiting.count() == 3
    assert all(m.next_attempt_at == frozen + timedelta(seconds=60) for m in waiting)
    assert waiting[0].note.startswith("throttled: sms at most 1 per minute; waiting until 09:01:00")
    clock.advance(timedelta(seconds=50))
    run()
    assert len(twilio.sent) == 2
    assert twilio.sent[1]["Body"].startswith("Warroom: 3 notifications, latest: Disk full on db8")


def test_messages_of_one_incident_to_one_address_go_once(world: World, frozen: datetime, smtp: Inbox) -> None:
    verified(world.bob, "email", "bob@example.com", name="Email")
    run()
    page(world.bob, "42:step:1", group="incident:42", subject="INC42 step 1")
    page(world.bob, "42:step:2", group="incident:42", subject="INC42 step 2")
    page(world.bob, "43:step:1", group="incident:43", subject="INC43")
    run()
    assert sorted(m["Subject"] for m in smtp.emails) == ["[Warroom] INC42 step 1", "[Warroom] INC43"]
    collapsed = Message.objects.get(dedup_key__startswith="42:step:2|")
    assert collapsed.status == Status.BUNDLED and "same group" in collapsed.note


def test_verification_end_to_end(world: World, frozen: datetime, twilio: FakeTwilio) -> None:
    method = services.create_contact_method(
        user=world.bob, kind="sms", name="Phone", address="+1 415 555 0100", actor=world.bob, source="api"
    ).method
    run()
    (sms,) = twilio.sent
    code = re.search(r"code is (\d{6})", sms["Body"])
    assert code is not None and sms["To"] == "+14155550100"
    services.verify_contact_method(method=method, code=code.group(1), actor=world.bob, source="api")
    message = Message.objects.get(category=Category.VERIFICATION)
    assert message.status == Status.SENT
    assert code.group(1) not in message.body and message.context == {}, "the code is not kept once sent"


def test_a_dead_address_disables_the_method(world: World, frozen: datetime, receiver: Receiver) -> None:
    method = verified(world.bob, "slack", receiver.url("/services/T/B/X"), name="Slack")
    page(world.bob, "42")
    receiver.script = [text(410, "channel_is_archived")]
    run()
    method.refresh_from_db()
    assert method.disabled and "channel_is_archived" in method.disabled_reason
    assert AuditEvent.objects.filter(action="contact_method.disable", source="engine").exists()
    assert not page(world.bob, "43").reachable


def test_unusable_destinations_are_refused_at_send_time(
    world: World, frozen: datetime, smtp: Inbox, receiver: Receiver
) -> None:
    email = verified(world.bob, "email", "bob@example.com", name="Email")
    verified(world.alice, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    page(world.alice, "42")
    services.update_contact_method(method=email, disabled=True, actor=world.bob, source="api")
    world.alice.is_active = False
    world.alice.save(update_fields=["is_active"])
    run()
    statuses = {m.kind: (m.status, m.note) for m in Message.objects.filter(category=Category.NOTIFICATION)}
    assert statuses["email"][0] == Status.FAILED and "disabled" in statuses["email"][1]
    assert statuses["webhook"] == (Status.CANCELLED, "the person was deactivated")
    assert smtp.emails == [] and receiver.requests == []


def test_a_lease_too_short_for_the_call_is_given_back(
    world: World, frozen: datetime, receiver: Receiver, monkeypatch: Any
) -> None:
    verified(world.bob, "webhook", receiver.url("/hook"), name="Hook")
    page(world.bob, "42")
    monkeypatch.setattr(sender, "CALL_BUDGET", sender.LEASE + timedelta(seconds=1))
    run()
    message = Message.objects.get(category=Category.NOTIFICATION)
    assert message.status == Status.PENDING and receiver.requests == []
    monkeypatch.setattr(sender, "CALL_BUDGET", timedelta(seconds=30))
    run()
    message.refresh_from_db()
    assert message.status == Status.SENT and len(receiver.requests) == 1
    outcomes = list(
        DeliveryAttempt.objects.filter(message=message).order_by("number").values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.RELEASED, Outcome.SENT]


def test_backoff_doubles_up_to_fifteen_minutes() -> None:
    assert [sender.backoff(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert sender.backoff(1, retry_after=120).total_seconds() == 120


def test_a_database_error_while_recording_gives_the_rest_back(
    world: World, frozen: datetime, twilio: FakeTwilio, monkeypatch: Any
) -> None:
    verified(world.bob, "sms", "+14155550100", name="Phone")
    verified(world.alice, "sms", "+14155550111", name="Phone")
    run()
    page(world.bob, "42")
    page(world.alice, "42")
    real_record = sender.record

    def failing(item: Any, result: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(sender, "record", failing)
    with pytest.raises(RuntimeError):
        run()
    monkeypatch.setattr(sender, "record", real_record)
    assert len(twilio.sent) == 1, "the first SMS went out before the failure"
    statuses = sorted(Message.objects.filter(category=Category.NOTIFICATION).values_list("status", flat=True))
    assert statuses == [Status.PENDING, Status.SENDING], "the one never called is pending again, not leased"
    clock.advance(sender.LEASE)
    run()
    assert len(twilio.sent) == 2, "the other person still gets theirs; the first is never sent twice"
